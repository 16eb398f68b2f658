/**
 * The commands that call AWS, run as the real bin against moto (started here, on a free port;
 * skipped loudly when moto_server is missing): doctor on an empty and on a set-up account,
 * notify-test through the topic, run --direct --dry-run leaving a grant in place, run taking its
 * Region from the key ARN, and the hint when the runbook function is missing.
 *
 * moto cannot show everything doctor reads: CloudWatch has no Lambda error datapoints and the
 * failure queues are empty. Those paths are pinned with mocked clients in doctor.test.ts.
 */
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from "@aws-sdk/client-cloudformation";
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { CreateGrantCommand, KMSClient, ListGrantsCommand } from "@aws-sdk/client-kms";
import { SetTopicAttributesCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HEARTBEAT } from "../../cli/doctor.js";
import { createDrillKey } from "../../cli/drill/scenarios.js";
import { type MotoServer, motoAvailable, resetMoto, startMoto } from "../../emulator/moto.js";
import { createQueue, drainNotifications } from "../../emulator/sqs.js";
import { INCIDENTS } from "../../functions/registry.js";
import { spawn } from "./spawn.js";

const REGION = "us-east-1";
/** moto's default account: the stack it creates lives there. */
const MOTO_ACCOUNT = "123456789012";
let moto: MotoServer | undefined;
const available = motoAvailable();
if (!available) console.warn("!! moto_server is not on PATH: the CLI's AWS tests are skipped");

beforeAll(async () => {
  if (available) moto = await startMoto();
}, 60_000);
afterAll(async () => moto?.stop());

function endpoint(): string {
  if (!moto) throw new Error("moto is not running");
  return moto.endpoint;
}

function clientConfig() {
  return {
    endpoint: endpoint(),
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  };
}

/** The environment of the spawned bin: the emulator, fake credentials, a Region unless left out. */
function awsEnv(region: string | undefined = REGION): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: endpoint(),
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_REGION: region,
    AWS_DEFAULT_REGION: undefined,
  };
}

/** A stack shaped as infra/stack.ts deploys it: a rule, function and failure queue per incident. */
function stackTemplate(): string {
  const resources: Record<string, unknown> = {
    Notifications: { Type: "AWS::SNS::Topic", Properties: {} },
    Role: {
      Type: "AWS::IAM::Role",
      Properties: {
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        },
      },
    },
    runbookFunction: lambdaResource("runbook", "kms-responder-runbook"),
  };
  for (const incident of INCIDENTS) {
    const id = incident.name.replace(/[^a-zA-Z0-9]/g, "");
    resources[`${id}Failures`] = { Type: "AWS::SQS::Queue", Properties: {} };
    resources[`${id}Function`] = lambdaResource(incident.name);
    resources[`${id}rule`] = {
      Type: "AWS::Events::Rule",
      Properties: {
        Description: `kms-responder: ${incident.name}`,
        State: "ENABLED",
        EventPattern: { source: ["aws.kms"] },
        Targets: [
          {
            Id: "Target0",
            Arn: { "Fn::GetAtt": [`${id}Function`, "Arn"] },
            DeadLetterConfig: { Arn: { "Fn::GetAtt": [`${id}Failures`, "Arn"] } },
          },
        ],
      },
    };
  }
  return JSON.stringify({
    Parameters: { NotificationKeyArn: { Type: "String" } },
    Resources: resources,
    Outputs: {
      NotificationTopicArn: { Value: { Ref: "Notifications" } },
      // moto cannot describe a key its CloudFormation created: the key is made through KMS and passed in.
      NotificationKeyArn: { Value: { Ref: "NotificationKeyArn" } },
    },
  });
}

function lambdaResource(name: string, functionName?: string) {
  return {
    Type: "AWS::Lambda::Function",
    Properties: {
      ...(functionName ? { FunctionName: functionName } : {}),
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: { "Fn::GetAtt": ["Role", "Arn"] },
      Description: `kms-responder: ${name}`,
      Code: { ZipFile: "exports.handler = async () => ({})" },
    },
  };
}

/** Deploys the stack shape, a logging multi-Region trail, a confirmed subscriber and the alarms' policy. */
async function setUpAccount(): Promise<{ topicArn: string }> {
  const key = await createDrillKey(new KMSClient(clientConfig()), "notifications");
  const cf = new CloudFormationClient(clientConfig());
  await cf.send(
    new CreateStackCommand({
      StackName: "kms-responder",
      TemplateBody: stackTemplate(),
      Parameters: [{ ParameterKey: "NotificationKeyArn", ParameterValue: key.arn }],
    }),
  );
  const outputs = (await cf.send(new DescribeStacksCommand({ StackName: "kms-responder" }))).Stacks?.[0]
    ?.Outputs;
  const topicArn = outputs?.find((o) => o.OutputKey === "NotificationTopicArn")?.OutputValue ?? "";
  const sns = new SNSClient(clientConfig());
  const queue = await createQueue(endpoint(), REGION, "on-call");
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queue.arn }));
  await sns.send(
    new SetTopicAttributesCommand({
      TopicArn: topicArn,
      AttributeName: "Policy",
      AttributeValue: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: topicArn,
          },
        ],
      }),
    }),
  );
  // The trail's bucket (moto's S3 answers a plain path-style PUT).
  await fetch(`${endpoint()}/trail-bucket`, { method: "PUT" }).then((r) => r.arrayBuffer());
  const trail = new CloudTrailClient(clientConfig());
  await trail.send(
    new CreateTrailCommand({ Name: "management", S3BucketName: "trail-bucket", IsMultiRegionTrail: true }),
  );
  await trail.send(
    new PutEventSelectorsCommand({
      TrailName: "management",
      EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true }],
    }),
  );
  await trail.send(new StartLoggingCommand({ Name: "management" }));
  // A heartbeat 5 minutes ago, as the stack's metric filter records it (moto runs no schedule).
  await new CloudWatchClient(clientConfig()).send(
    new PutMetricDataCommand({
      Namespace: HEARTBEAT.namespace,
      MetricData: [
        {
          MetricName: HEARTBEAT.metric,
          Dimensions: [
            { Name: "account", Value: MOTO_ACCOUNT },
            { Name: "region", Value: REGION },
          ],
          Timestamp: new Date(Date.now() - 5 * 60_000),
          Value: 1,
        },
      ],
    }),
  );
  return { topicArn };
}

interface CheckLine {
  name: string;
  ok: boolean;
  message: string;
}

async function doctor(...args: string[]): Promise<{ code: number; checks: CheckLine[]; stderr: string }> {
  const run = await spawn(["doctor", "--json", ...args], awsEnv());
  const checks = run.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CheckLine);
  return { code: run.code, checks, stderr: run.stderr };
}

describe.skipIf(!available)("against moto", () => {
  beforeEach(async () => resetMoto(endpoint()));

  it("doctor on an empty account fails the trail, the stack and every rule, and exits 1", async () => {
    // Act
    const { code, checks } = await doctor();

    // Assess
    expect(code).toBe(1);
    const byName = new Map(checks.map((c) => [c.name, c]));
    expect(byName.get(`trail ${REGION}`)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^no trail covers us-east-1/),
    });
    expect(byName.get("stack")?.ok).toBe(false);
    for (const incident of INCIDENTS) {
      expect(byName.get(`rule ${incident.name}`)).toMatchObject({
        ok: false,
        message: expect.stringContaining("deploy the stack"),
      });
    }
    expect(byName.get("topic")?.ok ?? byName.get("topic subscribers")?.ok).toBe(false);
    expect(byName.get("notification key")?.ok).toBe(false);
  }, 60_000);

  it("doctor on a set-up account passes every check moto can show, one line per check", async () => {
    // Prepare
    await setUpAccount();

    // Act
    const { code, checks } = await doctor("--region", REGION);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(code).toBe(0);
    const names = checks.map((c) => c.name);
    expect(names).toEqual([
      `trail ${REGION}`,
      "stack",
      ...INCIDENTS.flatMap((i) => [`rule ${i.name}`, `function ${i.name}`, `failure queue ${i.name}`]),
      "function runbook",
      "topic subscribers",
      "topic policy",
      "notification key",
      "heartbeat",
    ]);
    // The human form: one line per check and a verdict.
    const human = await spawn(["doctor"], awsEnv());
    expect(human.stdout.trim().split("\n")).toHaveLength(checks.length + 2);
    expect(human.stdout).toContain(`all ${checks.length} checks passed`);
  }, 60_000);

  it("doctor names a trail that stopped logging and a rule someone disabled", async () => {
    // Prepare
    await setUpAccount();
    const { StopLoggingCommand } = await import("@aws-sdk/client-cloudtrail");
    await new CloudTrailClient(clientConfig()).send(new StopLoggingCommand({ Name: "management" }));

    // Act
    const { code, checks } = await doctor();

    // Assess
    expect(code).toBe(1);
    expect(checks.find((c) => c.name === `trail ${REGION}`)?.message).toContain("management is not logging");
  }, 60_000);

  it("doctor exits 2 on a malformed --region without calling anything", async () => {
    const run = await spawn(["doctor", "--region", "moon-1"], awsEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("see kms-responder doctor --help");
  });

  it("notify-test --topic-arn publishes the [TEST] notification with the caller's credentials", async () => {
    // Prepare
    const { topicArn } = await setUpAccount();

    // Act
    const run = await spawn(["notify-test", "--topic-arn", topicArn], awsEnv());

    // Assess
    expect(run.code).toBe(0);
    const queue = await createQueue(endpoint(), REGION, "on-call");
    const [got, ...more] = await drainNotifications(queue);
    expect(more).toEqual([]);
    expect(got?.subject).toBe("[TEST] kms-responder notification test");
    expect(got?.attributes).toEqual({ severity: "info", incident: "test", outcome: "notified" });
    expect(got?.document).toMatchObject({ test: true, incident: "test" });
  }, 60_000);

  it("run --direct --dry-run plans from reads: the grant is still there afterwards", async () => {
    // Prepare
    const kms = new KMSClient(clientConfig());
    const key = await createDrillKey(kms, "dry-run");
    const grant = await kms.send(
      new CreateGrantCommand({
        KeyId: key.id,
        GranteePrincipal: "arn:aws:iam::444455556666:role/exfil",
        Operations: ["Decrypt"],
      }),
    );

    // Act
    const run = await spawn(
      [
        "run",
        "revoke-grant",
        "--key",
        key.arn,
        "--grant",
        grant.GrantId ?? "",
        "--reason",
        "drill",
        "--stated-by",
        "me",
        "--direct",
        "--dry-run",
      ],
      awsEnv(),
    );

    // Assess
    expect(run.stdout).toContain("(dry run)");
    expect(run.code).toBe(0);
    const grants = await kms.send(new ListGrantsCommand({ KeyId: key.id }));
    expect(grants.Grants?.map((g) => g.GrantId)).toEqual([grant.GrantId]);
  }, 60_000);

  it("run --direct --json prints only its result: no CloudWatch metric lines outside Lambda", async () => {
    // Prepare
    const kms = new KMSClient(clientConfig());
    const key = await createDrillKey(kms, "direct-json");
    const grant = await kms.send(
      new CreateGrantCommand({
        KeyId: key.id,
        GranteePrincipal: "arn:aws:iam::444455556666:role/exfil",
        Operations: ["Decrypt"],
      }),
    );

    // Act: the environment a user has (the test setup turns metrics off for every test)
    const run = await spawn(
      [
        "run",
        "revoke-grant",
        "--key",
        key.arn,
        "--grant",
        grant.GrantId ?? "",
        "--reason",
        "drill",
        "--stated-by",
        "me",
        "--direct",
        "--json",
      ],
      { ...awsEnv(), POWERTOOLS_METRICS_DISABLED: undefined },
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('"_aws"');
    expect(JSON.parse(run.stdout)).toMatchObject({ action: "revoke-grant", outcome: "remediated" });
    const grants = await kms.send(new ListGrantsCommand({ KeyId: key.id }));
    expect(grants.Grants ?? []).toEqual([]);
  }, 60_000);

  it("run takes the Region from the key ARN when none is configured", async () => {
    // Prepare
    const kms = new KMSClient(clientConfig());
    const key = await createDrillKey(kms, "no-region");

    // Act
    const run = await spawn(
      ["run", "analyze-key-policy", "--key", key.arn, "--reason", "check", "--stated-by", "me", "--direct"],
      awsEnv(undefined),
    );

    // Assess
    expect(run.stderr).not.toContain("Region is missing");
    expect(run.stdout).toContain(`analyze-key-policy on ${key.arn}`);
  }, 60_000);

  it("run suggests --function-name and --direct when the runbook function is missing", async () => {
    // Act
    const run = await spawn(
      [
        "run",
        "disable-key",
        "--key",
        `arn:aws:kms:${REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        "--reason",
        "the key leaked",
        "--stated-by",
        "me",
        "--function-name",
        "kms-responder-runbook",
      ],
      awsEnv(),
    );

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the runbook function kms-responder-runbook was not found in us-east-1");
    expect(run.stderr).toContain("--function-name");
    expect(run.stderr).toContain("--direct");
  }, 60_000);
});
