import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  COLUMNS,
  createTableDdl,
  incidentCondition,
  kmsEventsQuery,
  tableName,
} from "../../cli/athena-sql.js";
import type { RecordEntry } from "../../cli/read-records.js";
import { athenaRecords, recordOfRow } from "../../cli/sources/athena.js";
import { athenaDdlCommand } from "../../cli/sources/index.js";
import { triageEntry } from "../../cli/triage.js";
import { DEFAULT_CONFIG } from "../../functions/shared/config.js";
import { recordsFor, resultRows, rowOf } from "./archive-fixture.js";

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const CONDITION = `(errorcode IS NULL AND eventname IN ('UpdateAlias', 'DeleteAlias', 'DisconnectCustomKeyStore', 'UpdateCustomKeyStore', 'DeleteCustomKeyStore', 'TagResource', 'UntagResource', 'DeleteKey', 'ScheduleKeyDeletion', 'DisableKey', 'DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial', 'ImportKeyMaterial', 'RotateKeyOnDemand', 'PutKeyPolicy', 'CreateKey', 'ReplicateKey', 'UpdatePrimaryRegion', 'DisableKeyRotation', 'EnableKeyRotation', 'StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'DisableRule', 'DeleteRule', 'RemoveTargets', 'PutRule', 'PutPermission', 'UpdateFunctionConfiguration20150331v2', 'UpdateFunctionCode20150331v2', 'DeleteFunction20150331', 'PutFunctionConcurrency20171031', 'RemovePermission20150331v2', 'Unsubscribe', 'SetTopicAttributes', 'DeleteTopic', 'PutRolePolicy', 'AttachRolePolicy', 'DetachRolePolicy', 'DeleteRolePolicy', 'UpdateAssumeRolePolicy', 'CreateGrant'))
    OR (eventname IN ('Decrypt', 'DeriveSharedSecret', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'GetPublicKey', 'ReEncrypt', 'ReEncryptFrom', 'ReEncryptTo', 'Sign', 'Verify', 'VerifyMac') AND errorcode IN ('DisabledException', 'KMSInvalidStateException') AND errormessage LIKE '%deletion.')`;

const SELECT = `SELECT
  eventversion, eventid, eventtime, eventsource, eventname, eventtype, awsregion, recipientaccountid,
  sourceipaddress, useragent, errorcode, errormessage,
  requestparameters, responseelements, additionaleventdata,
  useridentity.type AS useridentity_type,
  useridentity.principalid AS useridentity_principalid,
  useridentity.arn AS useridentity_arn,
  useridentity.accountid AS useridentity_accountid,
  useridentity.invokedby AS useridentity_invokedby,
  useridentity.sessioncontext.sessionissuer.arn AS sessionissuer_arn,
  useridentity.sessioncontext.sessionissuer.accountid AS sessionissuer_accountid,
  useridentity.sessioncontext.attributes.mfaauthenticated AS mfaauthenticated,
  json_format(CAST(transform(resources, r -> r.arn) AS JSON)) AS resource_arns`;

describe("the triage query", () => {
  it("selects the incidents' event names from their declarations, and failed calls on keys pending deletion", () => {
    expect(incidentCondition()).toBe(CONDITION);
  });

  it("prunes partitions and event times by the filter (exact text)", () => {
    expect(
      kmsEventsQuery({
        table: "cloudtrail_org",
        database: "security",
        filter: {
          since: "2026-11-01",
          until: "2026-11-30",
          accounts: ["111122223333"],
          regions: ["eu-west-1", "us-east-1"],
        },
      }),
    ).toBe(`${SELECT}
FROM "security"."cloudtrail_org"
WHERE eventsource IN ('kms.amazonaws.com', 'cloudtrail.amazonaws.com', 'events.amazonaws.com', 'lambda.amazonaws.com', 'sns.amazonaws.com', 'iam.amazonaws.com')
  AND "day" >= '2026/11/01'
  AND "day" <= '2026/12/01'
  AND eventtime >= '2026-11-01T00:00:00Z'
  AND eventtime < '2026-12-01T00:00:00Z'
  AND "account" IN ('111122223333')
  AND "region" IN ('eu-west-1', 'us-east-1')
  AND (
    ${CONDITION}
  )
ORDER BY eventtime, eventid`);
  });

  it("filters on the record's own columns for an unpartitioned table", () => {
    expect(
      kmsEventsQuery({
        table: "Trail",
        filter: { accounts: ["111122223333"], regions: ["eu-west-1"] },
        partitioned: false,
      }),
    ).toBe(`${SELECT}
FROM "trail"
WHERE eventsource IN ('kms.amazonaws.com', 'cloudtrail.amazonaws.com', 'events.amazonaws.com', 'lambda.amazonaws.com', 'sns.amazonaws.com', 'iam.amazonaws.com')
  AND recipientaccountid IN ('111122223333')
  AND awsregion IN ('eu-west-1')
  AND (
    ${CONDITION}
  )
ORDER BY eventtime, eventid`);
  });

  it("refuses names and values that are not what they claim (no SQL gets in)", () => {
    const q = (options: Partial<Parameters<typeof kmsEventsQuery>[0]>) => () =>
      kmsEventsQuery({ table: "t", filter: {}, ...options });
    expect(q({ table: 'trail"; DROP TABLE x; --' })).toThrow(/must be letters, digits and underscores/);
    expect(q({ table: "a.b.c" })).toThrow(/is not TABLE or DATABASE.TABLE/);
    expect(q({ database: "db name" })).toThrow(/database "db name" must be letters/);
    expect(q({ filter: { since: "2026-11-01' OR '1'='1" } })).toThrow("--since must be a day as YYYY-MM-DD");
    expect(q({ filter: { until: "2026-02-29" } })).toThrow("--until must be a day as YYYY-MM-DD");
    expect(q({ filter: { accounts: ["1' OR 1=1 --"] } })).toThrow("is not an account id");
    expect(q({ filter: { regions: ["us-east-1'"] } })).toThrow("is not a Region name");
    expect(tableName("Security.CloudTrail_Org")).toEqual({ database: "security", table: "cloudtrail_org" });
    expect(() => tableName("security.trail", "other")).toThrow(
      "names database security, --database says other",
    );
  });
});

describe("athena-ddl", () => {
  const base = {
    bucket: "org-trail-logs",
    orgId: "o-a1b2c3d4e5",
    accounts: ["111122223333", "444455556666"],
  };

  it("projects account, Region and day over the organisation's key layout", () => {
    const ddl = createTableDdl({
      ...base,
      regions: ["eu-west-1", "us-east-1"],
      database: "security",
      startDate: "2025/01/01",
    });
    expect(ddl.split("\n")[0]).toBe("CREATE EXTERNAL TABLE `security`.`cloudtrail_org` (");
    expect(ddl).toContain("PARTITIONED BY (`account` STRING, `region` STRING, `day` STRING)");
    expect(ddl).toContain("LOCATION 's3://org-trail-logs/AWSLogs/o-a1b2c3d4e5/'");
    expect(ddl.slice(ddl.indexOf("TBLPROPERTIES"))).toBe(`TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'enum',
  'projection.account.values' = '111122223333,444455556666',
  'projection.region.type' = 'enum',
  'projection.region.values' = 'eu-west-1,us-east-1',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.range' = '2025/01/01,NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://org-trail-logs/AWSLogs/o-a1b2c3d4e5/\${account}/CloudTrail/\${region}/\${day}'
)`);
    // Every column the query selects from is declared.
    for (const column of ["eventversion", "useridentity", "resources", "recipientaccountid", "eventtype"])
      expect(ddl).toMatch(new RegExp(`^  ${column} `, "m"));
    expect(COLUMNS).toContain("resource_arns");
  });

  it("takes the trail's key prefix and refuses bad input", () => {
    expect(createTableDdl({ ...base, prefix: "/org/trail/" })).toContain(
      "LOCATION 's3://org-trail-logs/org/trail/AWSLogs/o-a1b2c3d4e5/'",
    );
    expect(() => createTableDdl({ ...base, bucket: "Bad_Bucket" })).toThrow("is not a bucket name");
    expect(() => createTableDdl({ ...base, orgId: "o-x'" })).toThrow("is not an organisation id");
    expect(() => createTableDdl({ ...base, prefix: "x'y" })).toThrow("is not a key prefix");
    expect(() => createTableDdl({ ...base, accounts: [] })).toThrow("--accounts is required");
    expect(() => createTableDdl({ ...base, startDate: "2025/13/01" })).toThrow("--start-date must be a day");
  });

  it("prints the statement from the command line", async () => {
    const out: string[] = [];
    const code = await athenaDdlCommand(
      [
        "--bucket",
        "org-trail-logs",
        "--org-id",
        "o-a1b2c3d4e5",
        "--accounts",
        "111122223333",
        "--table",
        "kms_trail",
      ],
      { out: (l) => out.push(l), err: () => undefined, isTty: false },
    );
    expect(code).toBe(0);
    expect(out.join("\n")).toMatch(/^CREATE EXTERNAL TABLE `kms_trail` \(/);
    expect(out.join("\n").endsWith(");")).toBe(true);
    await expect(
      athenaDdlCommand(["--bucket", "b-1", "--org-id", "o-a1b2c3d4e5"], {
        out: () => undefined,
        err: () => undefined,
        isTty: false,
      }),
    ).rejects.toThrow("athena-ddl needs --accounts");
  });
});

describe("athenaRecords", () => {
  const kms = recordsFor("111122223333", "us-east-1", "2026-11-28").filter(
    (r) => r.eventSource === "kms.amazonaws.com",
  );

  it("rebuilds rows into records that decide like the records themselves", () => {
    for (const record of kms) {
      const row = Object.fromEntries(
        COLUMNS.map((c, i) => [c, rowOf(record)[i]]).filter(([, v]) => v !== undefined),
      );
      const rebuilt = recordOfRow(row);
      expect("value" in rebuilt).toBe(true);
      if (!("value" in rebuilt)) continue;
      const fromRow = triageEntry({ file: "athena", index: 0, value: rebuilt.value }, DEFAULT_CONFIG);
      const fromFile = triageEntry({ file: "athena", index: 0, value: record }, DEFAULT_CONFIG);
      expect(fromRow).toEqual(fromFile);
      expect(fromRow).toMatchObject({ severity: expect.any(String) });
    }
    expect(recordOfRow({ eventid: "e1", requestparameters: "{not json" })).toEqual({
      error: "requestparameters is not JSON (event e1)",
    });
  });

  it("starts one query, polls until it succeeds, pages through the results and skips the header row", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: "QUEUED" } } })
      .resolvesOnce({ QueryExecution: { Status: { State: "RUNNING" } } })
      .resolves({
        QueryExecution: { Status: { State: "SUCCEEDED" }, Statistics: { DataScannedInBytes: 2048 } },
      });
    const header = { Data: COLUMNS.map((c) => ({ VarCharValue: c })) };
    const [first, second] = resultRows(kms);
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: "q-1", NextToken: undefined })
      .resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: COLUMNS.map((Name) => ({ Name, Type: "varchar" })) },
          Rows: [header, first ?? {}],
        },
        NextToken: "page-2",
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: "q-1", NextToken: "page-2" })
      .resolves({ ResultSet: { Rows: [second ?? {}] } });
    const waits: number[] = [];
    const source = athenaRecords({
      client: new AthenaClient({}),
      query: "SELECT 1",
      database: "security",
      workgroup: "responders",
      outputLocation: "s3://results/",
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const entries: RecordEntry[] = [];
    for await (const batch of source.records) entries.push(...batch);
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueryString: "SELECT 1",
        QueryExecutionContext: { Database: "security" },
        WorkGroup: "responders",
        ResultConfiguration: { OutputLocation: "s3://results/" },
      },
    ]);
    expect(waits).toEqual([500, 1000]);
    expect(entries.map((e) => [e.file, e.index, (e.value as { eventID: string }).eventID])).toEqual([
      ["athena:q-1", 0, kms[0]?.eventID],
      ["athena:q-1", 1, kms[1]?.eventID],
    ]);
    expect(source.stats).toEqual({ queryExecutionId: "q-1", rows: 2, pages: 2, scannedBytes: 2048 });
  });

  it("ends with Athena's reason when the query fails", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-2" });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: {
          State: "FAILED",
          StateChangeReason: "TABLE_NOT_FOUND: line 14:6: Table 'x' does not exist",
        },
      },
    });
    const source = athenaRecords({
      client: new AthenaClient({}),
      query: "SELECT 1",
      sleep: async () => undefined,
    });
    await expect(async () => {
      for await (const _ of source.records) void _;
    }).rejects.toThrow("the Athena query q-2 failed: TABLE_NOT_FOUND: line 14:6: Table 'x' does not exist");
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });
});
