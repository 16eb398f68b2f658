/**
 * The scheduled sweep in the template: single account, a schedule invoking the sweep function
 * with its bucket; organisation, a schedule starting a state machine whose distributed Map reads
 * the (account, Region) items from the bucket, bounded by MaxConcurrency, one Lambda invocation
 * per item, results to the bucket, then the summary. The sweep's role reads keys and changes
 * nothing unless `scan.enforce` opts an incident in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ITEMS_KEY, RESULTS_PREFIX } from "../../functions/scan/organization.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { type BuiltStack, buildStack, getAtt, logicalId, ref } from "./stack-fixture.js";

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const ORG = {
  id: "o-a1b2c3d4e5",
  regions: ["us-east-1", "eu-west-1"],
  organizationalUnitIds: ["ou-ab12-cdefgh34"],
};

function sweepStatements(built: BuiltStack): Statement[] {
  const role = logicalId(built.stack.sweep.function.role);
  const policies = Object.values(built.template.findResources("AWS::IAM::Policy")).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(role),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (built: BuiltStack, sid: string) =>
  [sweepStatements(built).find((s) => s.Sid === sid)?.Action ?? []].flat().sort();

function withStack(config: ConfigInput, check: (built: BuiltStack) => void): void {
  const built = buildStack({ config: parseConfig(config) });
  try {
    check(built);
  } finally {
    built.cleanup();
  }
}

describe("single account (default config)", () => {
  let built: BuiltStack;
  beforeAll(() => {
    built = buildStack();
  });
  afterAll(() => built.cleanup());

  it("a daily schedule invokes the sweep function, failures to its queue", () => {
    const rules = built.template.findResources("AWS::Events::Rule", {
      Properties: { ScheduleExpression: "rate(1 day)" },
    });
    const [rule] = Object.values(rules);
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule?.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: getAtt(built.stack.sweep.function.function),
        DeadLetterConfig: { Arn: getAtt(built.stack.sweep.function.failureQueue ?? built.stack) },
        RetryPolicy: { MaximumRetryAttempts: 2 },
      }),
    ]);
    built.template.resourceCountIs("AWS::StepFunctions::StateMachine", 0);
  });

  it("the function knows its bucket, runs up to 15 minutes, and gets the stack's config", () => {
    const fn = built.template.toJSON().Resources[logicalId(built.stack.sweep.function.function)] as {
      Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Timeout).toBe(900);
    expect(fn.Properties.Environment.Variables.SCAN_BUCKET).toEqual(ref(built.stack.sweep.bucket));
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual([
      "KMS_RESPONDER_CONFIG",
      "NOTIFICATION_TOPIC_ARN",
      "SCAN_BUCKET",
    ]);
  });

  it("the bucket is private, encrypted, TLS only", () => {
    built.template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it("the role reads keys and changes none: scan.enforce is empty", () => {
    expect(actionsOf(built, "SweepKeys")).toEqual([
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListResourceTags",
    ]);
    expect(actionsOf(built, "ListKeysAndAliases")).toEqual(["kms:ListAliases", "kms:ListKeys"]);
    expect(actionsOf(built, "KeepWhatWasNotified")).toEqual(["s3:GetObject", "s3:PutObject"]);
    expect(sweepStatements(built).some((s) => String(s.Action).includes("sts:"))).toBe(false);
  });
});

describe("config", () => {
  it("scan.enforce adds exactly the executors of the incidents it lists", () => {
    // The global mode must be enforce too: in notify mode (the default) nothing acts.
    withStack({ mode: "enforce", scan: { enforce: ["rogue-grant", "key-rotation-disabled"] } }, (built) => {
      expect(actionsOf(built, "SweepKeys")).toEqual([
        "kms:DescribeKey",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListGrants",
        "kms:ListResourceTags",
        "kms:RevokeGrant",
      ]);
    });
  });

  it("scan.enforce in notify mode (the default) adds no write permission", () => {
    withStack({ scan: { enforce: ["rogue-grant", "key-rotation-disabled"] } }, (built) => {
      expect(actionsOf(built, "SweepKeys")).toEqual([
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListGrants",
        "kms:ListResourceTags",
      ]);
    });
  });

  it("schedule off: no schedule, the function stays", () => {
    withStack({ scan: { schedule: "off" } }, (built) => {
      expect(
        Object.keys(
          built.template.findResources("AWS::Events::Rule", {
            Properties: { ScheduleExpression: "rate(1 day)" },
          }),
        ),
      ).toEqual([]);
      built.template.hasResourceProperties("AWS::Lambda::Function", { Description: "kms-responder: scan" });
    });
  });

  it("securityHub adds import and resolve on the account's product and hub", () => {
    withStack({ securityHub: true }, (built) => {
      expect(actionsOf(built, "ImportAndResolveFindings")).toEqual([
        "securityhub:BatchImportFindings",
        "securityhub:BatchUpdateFindings",
      ]);
    });
  });
});

describe("organisation", () => {
  let built: BuiltStack;
  let definition: Json;
  beforeAll(() => {
    built = buildStack({
      config: parseConfig({ organization: ORG, scan: { schedule: "cron(0 6 * * ? *)", maxConcurrency: 25 } }),
    });
    const machines = Object.values(built.template.findResources("AWS::StepFunctions::StateMachine"));
    expect(machines).toHaveLength(1);
    const body = machines[0]?.Properties.DefinitionString as { "Fn::Join": [string, unknown[]] };
    // The definition is a Fn::Join of text and tokens: tokens become placeholders, the rest parses.
    const text = body["Fn::Join"][1].map((p) => (typeof p === "string" ? p : "TOKEN")).join("");
    definition = JSON.parse(text) as Json;
  });
  afterAll(() => built.cleanup());

  it("the schedule starts the state machine", () => {
    const [rule] = Object.values(
      built.template.findResources("AWS::Events::Rule", {
        Properties: { ScheduleExpression: "cron(0 6 * * ? *)" },
      }),
    );
    expect(JSON.stringify(rule?.Properties.Targets)).toContain(
      logicalId(built.stack.sweep.stateMachine ?? built.stack),
    );
  });

  it("list pairs -> distributed Map (items from the bucket, bounded, results to the bucket) -> summary", () => {
    const states = definition.States as Record<string, Json>;
    expect(definition.StartAt).toBe("ListPairs");
    expect(states.ListPairs).toMatchObject({
      Next: "SweepEachPair",
      Parameters: { Payload: { action: "items" } },
    });
    expect(states.SweepEachPair).toMatchObject({
      Type: "Map",
      Next: "NotifySummary",
      MaxConcurrency: 25,
      ToleratedFailurePercentage: 100,
      ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" } },
      ItemReader: { ReaderConfig: { InputType: "JSON" }, Parameters: { Key: ITEMS_KEY } },
      ItemSelector: {
        action: "sweep",
        "account.$": "$$.Map.Item.Value.account",
        "region.$": "$$.Map.Item.Value.region",
      },
      ResultWriter: { Parameters: { Prefix: RESULTS_PREFIX } },
    });
    expect(states.NotifySummary).toMatchObject({
      End: true,
      Parameters: { Payload: { action: "summary", "ResultWriterDetails.$": "$.ResultWriterDetails" } },
    });
  });

  it("the sweep function assumes the member role, lists the organisation, and the member role can sweep", () => {
    const statements = sweepStatements(built);
    expect(statements.find((s) => s.Sid === "AssumeTheMemberRole")).toBeDefined();
    expect(actionsOf(built, "ListTheOrganisation")).toEqual([
      "organizations:DescribeOrganization",
      "organizations:ListAccountsForParent",
      "organizations:ListOrganizationalUnitsForParent",
    ]);
    const stackSet = Object.values(built.template.findResources("AWS::CloudFormation::StackSet"))[0];
    const member = JSON.parse(String(stackSet?.Properties.TemplateBody)) as {
      Resources: Record<string, Json>;
    };
    const text = JSON.stringify(member.Resources.MemberRole);
    for (const action of ["kms:ListKeys", "kms:ListGrants", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"]) {
      expect(text).toContain(action);
    }
  });
});

describe("organisation: the member heartbeat alarms", () => {
  const alarmArn = (name: string) => ({
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":cloudwatch:",
        { Ref: "AWS::Region" },
        ":",
        { Ref: "AWS::AccountId" },
        `:alarm:${name}`,
      ],
    ],
  });

  it("an hourly rule asks the sweep function for them, whatever the sweep's schedule", () => {
    withStack({ organization: ORG, scan: { schedule: "off" } }, (built) => {
      const rules = Object.values(
        built.template.findResources("AWS::Events::Rule", {
          Properties: { ScheduleExpression: "rate(1 hour)" },
        }),
      );
      expect(rules).toHaveLength(1);
      expect(rules[0]?.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: getAtt(built.stack.sweep.function.function),
          Input: JSON.stringify({ action: "heartbeat-alarms" }),
        }),
      ]);
      expect(built.stack.sweep.stateMachine).toBeUndefined();
    });
  });

  it("reads the stack's heartbeat alarms, writes and deletes only the discovered ones", () => {
    withStack({ organization: ORG }, (built) => {
      const statements = sweepStatements(built);
      expect(statements.find((s) => s.Sid === "ReadHeartbeatAlarms")).toEqual({
        Sid: "ReadHeartbeatAlarms",
        Effect: "Allow",
        Action: "cloudwatch:DescribeAlarms",
        Resource: alarmArn("kms-responder-heartbeat-*"),
      });
      expect(statements.find((s) => s.Sid === "KeepDiscoveredHeartbeatAlarms")).toEqual({
        Sid: "KeepDiscoveredHeartbeatAlarms",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
        Resource: alarmArn("kms-responder-heartbeat-discovered-*"),
      });
      const cloudwatch = statements.filter((s) => JSON.stringify(s.Action).includes("cloudwatch:"));
      expect(cloudwatch).toHaveLength(2);
    });
  });

  it("the sweep reads who set an exempt tag from CloudTrail's history, read-only, on * (no resource ARN)", () => {
    withStack({}, (built) => {
      expect(sweepStatements(built).find((s) => s.Sid === "ReadTagHistory")).toEqual({
        Sid: "ReadTagHistory",
        Effect: "Allow",
        Action: "cloudtrail:LookupEvents",
        Resource: "*",
      });
    });
  });

  it("a single account has neither the rule nor the statements", () => {
    withStack({}, (built) => {
      expect(
        built.template.findResources("AWS::Events::Rule", {
          Properties: { ScheduleExpression: "rate(1 hour)" },
        }),
      ).toEqual({});
      expect(JSON.stringify(sweepStatements(built))).not.toContain("cloudwatch:");
    });
  });
});
