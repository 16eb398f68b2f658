/**
 * Doctor's checks that moto cannot show (aws.test.ts runs the rest on moto): Lambda errors in the
 * last 24 hours, a failure queue holding events, advanced event selectors that leave KMS out, a
 * subscription still pending, a topic policy without the alarms, a disabled notification key.
 * Pinned with mocked clients; and doctor never sends anything but reads.
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from "@aws-sdk/client-cloudtrail";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from "@aws-sdk/client-eventbridge";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { type Check, type DoctorClients, HEARTBEAT, runDoctor } from "../../cli/doctor.js";
import { INCIDENTS } from "../../functions/registry.js";
import { METRICS_NAMESPACE } from "../../functions/shared/metrics.js";
import { HEARTBEAT_METRIC } from "../../infra/heartbeat.js";

const ACCOUNT = "111122223333";
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:kms-responder-Notifications`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const mocks = {
  cloudFormation: mockClient(CloudFormationClient),
  cloudTrail: mockClient(CloudTrailClient),
  cloudWatch: mockClient(CloudWatchClient),
  events: mockClient(EventBridgeClient),
  kms: mockClient(KMSClient),
  lambda: mockClient(LambdaClient),
  sns: mockClient(SNSClient),
  sqs: mockClient(SQSClient),
};

function clients(): DoctorClients {
  return {
    cloudFormation: new CloudFormationClient({ region: "us-east-1" }),
    cloudTrail: new CloudTrailClient({ region: "us-east-1" }),
    cloudWatch: new CloudWatchClient({ region: "us-east-1" }),
    events: new EventBridgeClient({ region: "us-east-1" }),
    kms: new KMSClient({ region: "us-east-1" }),
    lambda: new LambdaClient({ region: "us-east-1" }),
    sns: new SNSClient({ region: "us-east-1" }),
    sqs: new SQSClient({ region: "us-east-1" }),
  };
}

/** A healthy deployment: every check passes. */
function healthy(): void {
  for (const m of Object.values(mocks)) m.reset();
  mocks.cloudTrail.on(DescribeTrailsCommand).resolves({
    trailList: [{ Name: "org", TrailARN: "arn:trail", HomeRegion: "us-east-1", IsMultiRegionTrail: true }],
  });
  mocks.cloudTrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
  mocks.cloudTrail
    .on(GetEventSelectorsCommand)
    .resolves({ EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true }] });
  mocks.cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: "kms-responder",
        StackId: `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/kms-responder/0f0e`,
        StackStatus: "UPDATE_COMPLETE",
        CreationTime: new Date(),
        Outputs: [
          { OutputKey: "NotificationTopicArn", OutputValue: TOPIC },
          { OutputKey: "NotificationKeyArn", OutputValue: KEY },
        ],
      },
    ],
  });
  mocks.events.on(ListRulesCommand).resolves({
    Rules: INCIDENTS.map((i) => ({ Name: `kms-responder-${i.name}rule-X`, State: "ENABLED" })),
  });
  for (const i of INCIDENTS) {
    const name = `kms-responder-${i.name}rule-X`;
    mocks.events
      .on(DescribeRuleCommand, { Name: name })
      .resolves({ Name: name, State: "ENABLED", Description: `kms-responder: ${i.name}` });
    mocks.events.on(ListTargetsByRuleCommand, { Rule: name }).resolves({
      Targets: [
        {
          Id: "Target0",
          Arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:kms-responder-${i.name}`,
          DeadLetterConfig: { Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:kms-responder-${i.name}-failures` },
        },
      ],
    });
  }
  mocks.lambda.on(GetFunctionCommand).resolves({});
  mocks.cloudWatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
  beatsAt([10, 5]);
  mocks.cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  mocks.cloudWatch.on(ListMetricsCommand).resolves({
    Metrics: [
      {
        Dimensions: [
          { Name: "account", Value: ACCOUNT },
          { Name: "region", Value: "us-east-1" },
        ],
      },
    ],
  });
  mocks.sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: "https://sqs/queue" });
  mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "0" } });
  mocks.sns.on(ListSubscriptionsByTopicCommand).resolves({
    Subscriptions: [{ SubscriptionArn: `${TOPIC}:0f0e`, Protocol: "email" }],
  });
  mocks.sns.on(GetTopicAttributesCommand).resolves({
    Attributes: {
      Policy: JSON.stringify({
        Statement: [
          { Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish" },
        ],
      }),
    },
  });
  mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "k", KeyState: "Enabled" } });
}

/** Heartbeats in the 5-minute periods that started these many minutes ago. */
function beatsAt(minutesAgo: readonly number[]): void {
  mocks.cloudWatch.on(GetMetricStatisticsCommand, { MetricName: "Heartbeat" }).resolves({
    Datapoints: minutesAgo.map((m) => ({ Sum: 1, Timestamp: new Date(Date.now() - m * 60_000) })),
  });
}

async function doctor(): Promise<Map<string, Check>> {
  const c = clients();
  const checks = await runDoctor(["us-east-1"], "kms-responder", () => c);
  return new Map(checks.map((check) => [check.name, check]));
}

const first = INCIDENTS[0]?.name ?? "";

describe("doctor, with mocked clients", () => {
  beforeEach(healthy);

  it("passes a healthy deployment, reading only (no call but Describe/Get/List)", async () => {
    const checks = await doctor();
    expect([...checks.values()].filter((c) => !c.ok)).toEqual([]);
    for (const m of Object.values(mocks)) {
      for (const call of m.calls()) {
        expect(call.args[0].constructor.name).toMatch(/^(Describe|Get|List)/);
      }
    }
  });

  it("fails a function with errors in the last 24 hours, naming its log group", async () => {
    mocks.cloudWatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ Sum: 3 }] });
    const check = (await doctor()).get(`function ${first}`);
    expect(check).toMatchObject({
      ok: false,
      message: expect.stringContaining("failed 3 times in the last 24 hours"),
    });
    expect(check?.message).toContain(`/aws/lambda/kms-responder-${first}`);
  });

  it("fails a failure queue holding events", async () => {
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "2" } });
    expect((await doctor()).get(`failure queue ${first}`)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^2 event\(s\) failed every retry/),
    });
  });

  it("fails a trail whose advanced selectors leave KMS out, and one logging only reads", async () => {
    mocks.cloudTrail.on(GetEventSelectorsCommand).resolves({
      AdvancedEventSelectors: [
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Management"] },
            { Field: "eventSource", NotEquals: ["kms.amazonaws.com"] },
          ],
        },
      ],
    });
    expect((await doctor()).get("trail us-east-1")?.ok).toBe(false);
    mocks.cloudTrail
      .on(GetEventSelectorsCommand)
      .resolves({ EventSelectors: [{ ReadWriteType: "ReadOnly", IncludeManagementEvents: true }] });
    expect((await doctor()).get("trail us-east-1")?.ok).toBe(false);
  });

  it("passes a trail whose advanced selectors log every management event", async () => {
    mocks.cloudTrail.on(GetEventSelectorsCommand).resolves({
      AdvancedEventSelectors: [{ FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] }],
    });
    expect((await doctor()).get("trail us-east-1")?.ok).toBe(true);
  });

  it("fails a topic whose only subscription is pending, and a policy without the alarms", async () => {
    mocks.sns
      .on(ListSubscriptionsByTopicCommand)
      .resolves({ Subscriptions: [{ SubscriptionArn: "PendingConfirmation", Protocol: "email" }] });
    mocks.sns
      .on(GetTopicAttributesCommand)
      .resolves({ Attributes: { Policy: JSON.stringify({ Statement: [] }) } });
    const checks = await doctor();
    expect(checks.get("topic subscribers")).toMatchObject({
      ok: false,
      message: expect.stringContaining("1 pending confirmation"),
    });
    expect(checks.get("topic policy")?.ok).toBe(false);
  });

  it("fails a disabled notification key and a disabled rule, saying how to fix each", async () => {
    mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "k", KeyState: "Disabled" } });
    const name = `kms-responder-${first}rule-X`;
    mocks.events
      .on(DescribeRuleCommand, { Name: name })
      .resolves({ Name: name, State: "DISABLED", Description: `kms-responder: ${first}` });
    const checks = await doctor();
    expect(checks.get("notification key")?.message).toContain(`aws kms enable-key --key-id ${KEY}`);
    expect(checks.get(`rule ${first}`)?.message).toContain(`aws events enable-rule --name ${name}`);
  });

  it("reports the last heartbeat's age, read from the Heartbeat metric of the stack's account and Region", async () => {
    const check = (await doctor()).get("heartbeat");
    expect(check).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^ok: last heartbeat 5 minute\(s\) ago/),
    });
    const reads = mocks.cloudWatch
      .commandCalls(GetMetricStatisticsCommand)
      .filter((c) => c.args[0].input.MetricName === "Heartbeat");
    expect(reads).toHaveLength(1);
    expect(reads[0]?.args[0].input).toMatchObject({
      Namespace: "kms-responder",
      Dimensions: [
        { Name: "account", Value: ACCOUNT },
        { Name: "region", Value: "us-east-1" },
      ],
      Statistics: ["Sum"],
    });
  });

  it("fails a heartbeat older than the alarm's 30 minutes, and none at all, saying what to check", async () => {
    beatsAt([95, 120]);
    const old = (await doctor()).get("heartbeat");
    expect(old).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^last heartbeat 95 minute\(s\) ago/),
    });
    expect(old?.message).toContain("over the alarm's 30 minutes");
    expect(old?.message).toContain("--name-prefix <stack>-heartbeat");
    beatsAt([]);
    expect((await doctor()).get("heartbeat")).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^no heartbeat from 111122223333 in us-east-1 in the last 3 hours: /),
    });
  });

  it("reports every account and Region the heartbeat alarms name or that beat lately, each with its age", async () => {
    // An organisation: a listed member, a discovered one (every page), and a member that beats but
    // has no alarm yet; the stack's own pair is reported once, as `heartbeat`.
    mocks.cloudWatch
      .on(DescribeAlarmsCommand, { NextToken: undefined })
      .resolves({
        MetricAlarms: [
          { AlarmName: "kms-responder-heartbeat-222233334444-eu-west-1" },
          { AlarmName: "kms-responder-heartbeat-other" },
        ],
        NextToken: "a2",
      })
      .on(DescribeAlarmsCommand, { NextToken: "a2" })
      .resolves({
        MetricAlarms: [{ AlarmName: "kms-responder-heartbeat-discovered-333344445555-us-east-1" }],
      });
    mocks.cloudWatch.on(ListMetricsCommand).resolves({
      Metrics: [
        {
          Dimensions: [
            { Name: "account", Value: ACCOUNT },
            { Name: "region", Value: "us-east-1" },
          ],
        },
        {
          Dimensions: [
            { Name: "account", Value: "444455556666" },
            { Name: "region", Value: "eu-west-1" },
          ],
        },
      ],
    });
    const beats = (account: string, region: string, minutesAgo: number[]) =>
      mocks.cloudWatch
        .on(GetMetricStatisticsCommand, {
          MetricName: "Heartbeat",
          Dimensions: [
            { Name: "account", Value: account },
            { Name: "region", Value: region },
          ],
        })
        .resolves({
          Datapoints: minutesAgo.map((m) => ({ Sum: 1, Timestamp: new Date(Date.now() - m * 60_000) })),
        });
    beats("222233334444", "eu-west-1", [15]);
    beats("333344445555", "us-east-1", []);
    beats("444455556666", "eu-west-1", [50]);

    const checks = await doctor();

    expect([...checks.keys()].filter((n) => n.startsWith("heartbeat"))).toEqual([
      "heartbeat",
      "heartbeat 222233334444 eu-west-1",
      "heartbeat 333344445555 us-east-1",
      "heartbeat 444455556666 eu-west-1",
    ]);
    expect(checks.get("heartbeat")?.ok).toBe(true);
    expect(checks.get("heartbeat 222233334444 eu-west-1")).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^ok: last heartbeat 15 minute\(s\) ago/),
    });
    expect(checks.get("heartbeat 333344445555 us-east-1")).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^no heartbeat from 333344445555 in us-east-1 in the last 3 hours: /),
    });
    expect(checks.get("heartbeat 333344445555 us-east-1")?.message).toContain("its member stack");
    expect(checks.get("heartbeat 444455556666 eu-west-1")).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^last heartbeat 50 minute\(s\) ago/),
    });
    expect(mocks.cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNamePrefix: "kms-responder-heartbeat-",
      AlarmTypes: ["MetricAlarm"],
    });
    expect(mocks.cloudWatch).toHaveReceivedCommandWith(ListMetricsCommand, {
      Namespace: "kms-responder",
      MetricName: "Heartbeat",
      RecentlyActive: "PT3H",
    });
  });

  it("a denied listing of the watched pairs fails its own check; the stack's own heartbeat is still read", async () => {
    mocks.cloudWatch
      .on(DescribeAlarmsCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    const checks = await doctor();
    expect(checks.get("heartbeat")?.ok).toBe(true);
    expect(checks.get("heartbeat pairs")).toMatchObject({
      ok: false,
      message: expect.stringContaining("cloudwatch:DescribeAlarms and cloudwatch:ListMetrics"),
    });
  });

  it("names the metric the stack's heartbeat writes", () => {
    expect(HEARTBEAT).toEqual({ namespace: METRICS_NAMESPACE, metric: HEARTBEAT_METRIC });
  });

  it("a denied call fails its own check and the others still run", async () => {
    mocks.cloudWatch
      .on(GetMetricStatisticsCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    const checks = await doctor();
    expect(checks.get(`function ${first}`)?.ok).toBe(false);
    expect(checks.get("heartbeat")?.message).toMatch(/^cannot read the Heartbeat metric/);
    expect(checks.get("notification key")?.ok).toBe(true);
  });
});
