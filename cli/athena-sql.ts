/**
 * Every SQL text the CLI sends to Athena, in one place: the query of `triage --athena` and the
 * table `athena-ddl` prints. Identifiers and values are validated before they are put in the text
 * (table and database names, days, accounts, Regions, bucket, organisation id); nothing a user
 * types reaches the SQL unchecked. String literals come only from that validated input and from
 * the incidents' declarations.
 *
 * The query selects what the incidents' rules select, read from their declarations: each
 * incident's event names, successful calls unless its rule matches failed calls (then those error
 * codes and that message ending, e.g. calls failing on a key pending deletion). Struct columns are
 * selected field by field, so the rows can be rebuilt into CloudTrail records (athena.ts).
 */
import { INCIDENTS } from "../functions/registry.js";
import type { Incident } from "../functions/shared/incident.js";
import { watchedSources } from "../functions/shared/route.js";
import { UsageError } from "./io.js";
import { type ArchiveFilter, isAccount, isRegion, nextDay, parseDay } from "./sources/filter.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A table or database name. @throws UsageError unless letters, digits and underscores. */
export function identifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value))
    throw new UsageError(`${what} "${value}" must be letters, digits and underscores (at most 128)`);
  return value.toLowerCase();
}

/** `TABLE` or `DATABASE.TABLE`, validated. */
export function tableName(value: string, database?: string): { database?: string; table: string } {
  const parts = value.split(".");
  if (parts.length === 2) {
    const [db = "", table = ""] = parts;
    if (database !== undefined && identifier(database, "database") !== identifier(db, "database"))
      throw new UsageError(`--athena ${value} names database ${db}, --database says ${database}`);
    return { database: identifier(db, "database"), table: identifier(table, "table") };
  }
  if (parts.length !== 1) throw new UsageError(`--athena "${value}" is not TABLE or DATABASE.TABLE`);
  return {
    ...(database !== undefined && { database: identifier(database, "database") }),
    table: identifier(value, "table"),
  };
}

/** A string literal of a value already validated (no quote can be in it; doubled anyway). */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function list(values: readonly string[]): string {
  return values.map(literal).join(", ");
}

/** An EventBridge `wildcard` as a LIKE pattern (`*` any text; `%` and `_` taken literally). */
function likePattern(wildcard: string): { pattern: string; escaped: boolean } {
  const escaped = /[%_\\]/.test(wildcard);
  const text = escaped ? wildcard.replace(/[%_\\]/g, (c) => `\\${c}`) : wildcard;
  return { pattern: text.replaceAll("*", "%"), escaped };
}

/** What one incident's rule selects, read from its pattern: successful calls, or failed ones. */
interface Selection {
  eventNames: readonly string[];
  errorCodes?: readonly string[];
  messageEndings?: readonly string[];
}

function selectionOf(incident: Incident): Selection {
  const detail = incident.pattern({}).detail;
  const fields = typeof detail === "object" && detail !== null && !Array.isArray(detail) ? detail : {};
  const codes = fields.errorCode;
  const errorCodes = Array.isArray(codes) ? codes.filter((c): c is string => typeof c === "string") : [];
  if (errorCodes.length === 0) return { eventNames: incident.eventNames };
  const messages = fields.errorMessage;
  const messageEndings = Array.isArray(messages)
    ? messages.flatMap((m) =>
        typeof m === "object" && m !== null && !Array.isArray(m) && typeof m.wildcard === "string"
          ? [m.wildcard]
          : [],
      )
    : [];
  return { eventNames: incident.eventNames, errorCodes, messageEndings };
}

/** The WHERE condition on event names and errors: what the incidents' rules select. */
export function incidentCondition(incidents: readonly Incident[] = INCIDENTS): string {
  const selections = incidents.map(selectionOf);
  const succeeded = [...new Set(selections.filter((s) => !s.errorCodes).flatMap((s) => s.eventNames))];
  const parts: string[] = [];
  if (succeeded.length) parts.push(`(errorcode IS NULL AND eventname IN (${list(succeeded)}))`);
  for (const s of selections) {
    if (!s.errorCodes) continue;
    const conditions = [`eventname IN (${list(s.eventNames)})`, `errorcode IN (${list(s.errorCodes)})`];
    for (const ending of s.messageEndings ?? []) {
      const like = likePattern(ending);
      conditions.push(`errormessage LIKE ${literal(like.pattern)}${like.escaped ? " ESCAPE '\\'" : ""}`);
    }
    parts.push(`(${conditions.join(" AND ")})`);
  }
  return parts.join("\n    OR ");
}

/** The partition columns of the table `athena-ddl` creates. */
export const PARTITIONS = { account: "account", region: "region", day: "day" } as const;

/** The columns of a row, as the query names them (athena.ts rebuilds the record from them). */
export const COLUMNS = [
  "eventversion",
  "eventid",
  "eventtime",
  "eventsource",
  "eventname",
  "eventtype",
  "awsregion",
  "recipientaccountid",
  "sourceipaddress",
  "useragent",
  "errorcode",
  "errormessage",
  "requestparameters",
  "responseelements",
  "additionaleventdata",
  "useridentity_type",
  "useridentity_principalid",
  "useridentity_arn",
  "useridentity_accountid",
  "useridentity_invokedby",
  "sessionissuer_arn",
  "sessionissuer_accountid",
  "mfaauthenticated",
  "resource_arns",
] as const;
export type Column = (typeof COLUMNS)[number];

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

export interface QueryOptions {
  table: string;
  database?: string;
  filter: ArchiveFilter;
  /** The table is partitioned as athena-ddl makes it (default): the filter prunes partitions too. */
  partitioned?: boolean;
}

/** The day range: on the day partition (when partitioned) and on the event time. */
function timeConditions(filter: ArchiveFilter, partitioned: boolean): string[] {
  const where: string[] = [];
  const since = filter.since !== undefined ? parseDay(filter.since, "--since") : undefined;
  const until = filter.until !== undefined ? parseDay(filter.until, "--until") : undefined;
  if (partitioned) {
    // The day partition is `YYYY/MM/DD` (the trail's key layout), so a string range is a day range.
    if (since) where.push(`"${PARTITIONS.day}" >= ${literal(since.replaceAll("-", "/"))}`);
    // CloudTrail delivers a file minutes after its events: the last day's late events sit in the next day's folder.
    if (until) where.push(`"${PARTITIONS.day}" <= ${literal(nextDay(until).replaceAll("-", "/"))}`);
  }
  if (since) where.push(`eventtime >= ${literal(`${since}T00:00:00Z`)}`);
  if (until) where.push(`eventtime < ${literal(`${nextDay(until)}T00:00:00Z`)}`);
  return where;
}

/** The accounts and Regions: on their partitions (when partitioned), else on the record's fields. */
function placeConditions(filter: ArchiveFilter, partitioned: boolean): string[] {
  const where: string[] = [];
  if (filter.accounts) {
    for (const a of filter.accounts) if (!isAccount(a)) throw new UsageError(`"${a}" is not an account id`);
    where.push(
      partitioned
        ? `"${PARTITIONS.account}" IN (${list(filter.accounts)})`
        : `recipientaccountid IN (${list(filter.accounts)})`,
    );
  }
  if (filter.regions) {
    for (const r of filter.regions) if (!isRegion(r)) throw new UsageError(`"${r}" is not a Region name`);
    where.push(
      partitioned
        ? `"${PARTITIONS.region}" IN (${list(filter.regions)})`
        : `awsregion IN (${list(filter.regions)})`,
    );
  }
  return where;
}

/**
 * The one query of `triage --athena`: the KMS events the incidents care about, oldest first.
 * @throws UsageError on an invalid name, day, account or Region.
 */
export function kmsEventsQuery(options: QueryOptions): string {
  const { table, database } = tableName(options.table, options.database);
  const from = database ? `"${database}"."${table}"` : `"${table}"`;
  const { filter } = options;
  const partitioned = options.partitioned ?? true;
  const where = [
    // KMS, and the services the responder depends on (responder-tampered watches their calls).
    `eventsource IN (${list([...watchedSources(INCIDENTS)])})`,
    ...timeConditions(filter, partitioned),
    ...placeConditions(filter, partitioned),
  ];
  where.push(`(\n    ${incidentCondition()}\n  )`);
  return `${SELECT}\nFROM ${from}\nWHERE ${where.join("\n  AND ")}\nORDER BY eventtime, eventid`;
}

/** The commercial Regions a table projects when `--regions` is not given. */
export const DEFAULT_REGIONS = [
  "af-south-1",
  "ap-east-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
] as const;

export interface DdlOptions {
  bucket: string;
  orgId: string;
  /** The key prefix before `AWSLogs/`, if the trail has one. */
  prefix?: string;
  table?: string;
  database?: string;
  accounts: readonly string[];
  regions?: readonly string[];
  /** First day projected, `YYYY/MM/DD` or `YYYY-MM-DD` (default 2020/01/01). */
  startDate?: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const PREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;

/**
 * `CREATE EXTERNAL TABLE` for an organisation trail's bucket, with partition projection over
 * account, Region and day (no partitions to load, ever). Projection needs the accounts listed.
 * @throws UsageError on an invalid bucket, organisation id, prefix, name, account, Region or day.
 */
export function createTableDdl(options: DdlOptions): string {
  if (!BUCKET.test(options.bucket)) throw new UsageError(`--bucket "${options.bucket}" is not a bucket name`);
  if (!ORG_ID.test(options.orgId))
    throw new UsageError(`--org-id "${options.orgId}" is not an organisation id (o-...)`);
  const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (!PREFIX.test(prefix) || prefix.includes("'"))
    throw new UsageError(`--prefix "${options.prefix}" is not a key prefix`);
  const table = identifier(options.table ?? "cloudtrail_org", "table");
  const name = options.database
    ? `\`${identifier(options.database, "database")}\`.\`${table}\``
    : `\`${table}\``;
  if (options.accounts.length === 0)
    throw new UsageError("--accounts is required: partition projection lists the accounts it reads");
  for (const a of options.accounts)
    if (!isAccount(a)) throw new UsageError(`--accounts: "${a}" is not an account id`);
  const regions = options.regions ?? DEFAULT_REGIONS;
  for (const r of regions) if (!isRegion(r)) throw new UsageError(`--regions: "${r}" is not a Region name`);
  const start = parseDay(options.startDate ?? "2020-01-01", "--start-date").replaceAll("-", "/");
  const root = `s3://${options.bucket}/${prefix ? `${prefix}/` : ""}AWSLogs/${options.orgId}`;
  return `CREATE EXTERNAL TABLE ${name} (
  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING, STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  eventcategory STRING,
  tlsdetails STRUCT<tlsversion: STRING, ciphersuite: STRING, clientprovidedhostheader: STRING>
)
PARTITIONED BY (\`${PARTITIONS.account}\` STRING, \`${PARTITIONS.region}\` STRING, \`${PARTITIONS.day}\` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${root}/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.${PARTITIONS.account}.type' = 'enum',
  'projection.${PARTITIONS.account}.values' = '${[...options.accounts].join(",")}',
  'projection.${PARTITIONS.region}.type' = 'enum',
  'projection.${PARTITIONS.region}.values' = '${[...regions].join(",")}',
  'projection.${PARTITIONS.day}.type' = 'date',
  'projection.${PARTITIONS.day}.format' = 'yyyy/MM/dd',
  'projection.${PARTITIONS.day}.range' = '${start},NOW',
  'projection.${PARTITIONS.day}.interval' = '1',
  'projection.${PARTITIONS.day}.interval.unit' = 'DAYS',
  'storage.location.template' = '${root}/\${${PARTITIONS.account}}/CloudTrail/\${${PARTITIONS.region}}/\${${PARTITIONS.day}}'
)`;
}
