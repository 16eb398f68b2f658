/**
 * The built sweep bundle's hourly `heartbeat-alarms` call against moto: an organisation with
 * member accounts (moto's Organizations), real CloudWatch alarms and the real topic. Every member
 * account and Region gets an alarm named after it, missing data breaching, to the topic; an
 * account that joins later gets its own on the next run; a run with nothing new changes and tells
 * nothing.
 */
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from "@aws-sdk/client-cloudwatch";
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  DescribeCreateAccountStatusCommand,
  ListRootsCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { beforeEach, describe, expect, it } from "vitest";
import { coldStart, ENDPOINT, freshWorld, notifications, REGION, SKIP, type World } from "./harness.js";

const client = {
  endpoint: ENDPOINT || "http://127.0.0.1:1",
  region: REGION,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  maxAttempts: 1,
};
const cloudWatch = new CloudWatchClient(client);
const organizations = new OrganizationsClient(client);
const OTHER_REGION = "eu-west-1";

async function newAccount(name: string): Promise<string> {
  const created = await organizations.send(
    new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
  );
  const id = created.CreateAccountStatus?.Id ?? "";
  const status = await organizations.send(
    new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id }),
  );
  const account = status.CreateAccountStatus?.AccountId;
  if (!account) throw new Error("moto created no account");
  return account;
}

async function heartbeatAlarms(): Promise<MetricAlarm[]> {
  const out = await cloudWatch.send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: "kms-responder-heartbeat-" }),
  );
  return out.MetricAlarms ?? [];
}

describe.skipIf(SKIP)("the member heartbeat alarms on moto", () => {
  let world: World;
  let root: string;
  beforeEach(async () => {
    world = await freshWorld();
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    root = (await organizations.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? "";
  });

  it("puts an alarm on every member account and Region; a later account gets its own on the next run", async () => {
    // Prepare: the central account is the management account (moto's caller): no alarm for it.
    const first = await newAccount("payments");
    const config = {
      organization: { id: "o-a1b2c3d4e5", regions: [REGION, OTHER_REGION], organizationalUnitIds: [root] },
    };
    const handler = await coldStart("scan", world, config, { SCAN_BUCKET: "kms-responder-sweep" });

    // Act
    const result = (await handler({ action: "heartbeat-alarms" })) as Record<string, unknown>;

    // Assess
    expect(result).toEqual({
      watched: 2,
      created: [`${first} ${REGION}`, `${first} ${OTHER_REGION}`],
      deleted: [],
      pending: 0,
    });
    const alarms = await heartbeatAlarms();
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual([
      `kms-responder-heartbeat-discovered-${first}-${OTHER_REGION}`,
      `kms-responder-heartbeat-discovered-${first}-${REGION}`,
    ]);
    expect(alarms[0]).toMatchObject({
      Namespace: "kms-responder",
      MetricName: "Heartbeat",
      Statistic: "Sum",
      Period: 900,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
      AlarmActions: [world.topicArn],
    });
    const [told] = await notifications(world);
    expect(told?.subject).toBe("kms-responder heartbeat: 2 pair(s) now watched, 0 no longer");
    expect(told?.attributes).toMatchObject({ incident: "heartbeat", severity: "info" });

    // A run with nothing new: no change, nothing told.
    expect(await handler({ action: "heartbeat-alarms" })).toMatchObject({ created: [], deleted: [] });
    expect(await notifications(world)).toEqual([]);

    // An account joins: the next run watches it too.
    const later = await newAccount("analytics");
    expect(await handler({ action: "heartbeat-alarms" })).toMatchObject({
      watched: 4,
      created: [`${later} ${REGION}`, `${later} ${OTHER_REGION}`],
    });
    expect(await heartbeatAlarms()).toHaveLength(4);
  });
});
