/**
 * The runbook in the template: the function, its role (exactly what its actions call), the SSM
 * Automation documents (one per action, typed and validated parameters, the payload they send) and
 * the role they run as. Expectations are written out here, not derived from infra/ code; the
 * parameter patterns are checked against the runbook's own payload schema.
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { GetKeyPolicyCommand, KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import { parsePayload, RUNBOOK_ACTIONS, type RunbookAction } from "../../functions/runbook/payload.js";
import { runRunbook } from "../../functions/runbook/run.js";
import { DEFAULT_CONFIG, parseConfig } from "../../functions/shared/config.js";
import { ResponderStack } from "../../infra/stack.js";
import {
  commandNames,
  depsWith,
  fakeKey,
  GRANT_ID,
  KEY_ARN,
  payloadFor,
  TOPIC_ARN,
} from "../runbook/harness.js";
import { responderRoleStatements } from "./role-expectations.js";
import { type BuiltStack, buildStack, getAtt, logicalId, ref, stubDist } from "./stack-fixture.js";

let built: BuiltStack;
beforeAll(() => {
  built = buildStack();
});
afterAll(() => built.cleanup());

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = () => built.template.toJSON().Resources as Record<string, Resource>;
const resource = (construct: Parameters<typeof logicalId>[0]): Resource => {
  const found = resources()[logicalId(construct)];
  if (!found) throw new Error(`no resource ${logicalId(construct)}`);
  return found;
};
const runbook = () => built.stack.runbook;

const KEYS = {
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":kms:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      ":key/*",
    ],
  ],
};

/**
 * The KMS actions of the seven runbook actions: what its executors call (RevokeGrant and
 * ListGrants, Disable/EnableKey, CancelKeyDeletion, EnableKeyRotation, each with its read-back)
 * and what it reads to plan (DescribeKey, ListGrants, GetKeyPolicy, GetKeyRotationStatus).
 */
const RUNBOOK_KMS_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListGrants",
  "kms:RevokeGrant",
];

/** Policy statements of a role (the one AWS::IAM::Policy attached to it). */
function statementsOf(role: Parameters<typeof ref>[0]): Array<Record<string, unknown>> {
  const policies = built.template.findResources("AWS::IAM::Policy", { Properties: { Roles: [ref(role)] } });
  expect(Object.keys(policies)).toHaveLength(1);
  return Object.values(policies)[0]?.Properties.PolicyDocument.Statement;
}

describe("runbook function", () => {
  it("runs through the shared construct: runtime, arm64, memory, timeout, name, small reserved concurrency", () => {
    const { Properties } = resource(runbook().function);
    expect(Properties).toMatchObject({
      FunctionName: "kms-responder-runbook",
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      MemorySize: 256,
      Timeout: 60,
      Handler: "index.handler",
      Role: getAtt(runbook().role),
      LoggingConfig: { LogGroup: ref(runbook().function.logGroup) },
      ReservedConcurrentExecutions: 2,
    });
    expect(resource(runbook().function.logGroup).Properties).toEqual({ RetentionInDays: 365 });
  });

  it("gets the incident functions' environment (config with every role, topic), its documents' name prefix and its executions table", () => {
    const {
      RUNBOOK_DOCUMENT_PREFIX: prefix,
      RUNBOOK_EXECUTIONS_TABLE: table,
      ...env
    } = (resource(runbook().function).Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    const incident = resource(built.stack.responders.get("rogue-grant")?.function ?? runbook().function);
    expect(env).toEqual((incident.Properties.Environment as { Variables: unknown }).Variables);
    expect(Object.keys(env).sort()).toEqual(["KMS_RESPONDER_CONFIG", "NOTIFICATION_TOPIC_ARN"]);
    // The function trusts an execution's ExecutedBy only for a document named so: every one is.
    expect(prefix).toBe("kms-responder-");
    expect(table).toEqual(ref(built.stack.runbookExecutions));
    for (const name of Object.values(DOCUMENT_NAMES)) expect(name.startsWith("kms-responder-")).toBe(true);
    expect(env.NOTIFICATION_TOPIC_ARN).toEqual(ref(built.stack.topic));
    // The config names the runbook's role among the responder roles (its calls are not incidents).
    expect(JSON.stringify(env.KMS_RESPONDER_CONFIG)).toContain(logicalId(runbook().role));
  });

  it("is invoked synchronously: no rule, no failure queue, no async retries", () => {
    const fn = logicalId(runbook().function);
    for (const rule of Object.values(built.template.findResources("AWS::Events::Rule"))) {
      expect(JSON.stringify(rule.Properties.Targets)).not.toContain(fn);
    }
    expect(runbook().failureQueue).toBeUndefined();
    // One per incident function and one for the sweep (a schedule invokes it asynchronously).
    built.template.resourceCountIs("AWS::SQS::Queue", INCIDENTS.length + 1);
    const invokeConfigs = Object.values(
      built.template.findResources("AWS::Lambda::EventInvokeConfig", {
        Properties: { FunctionName: ref(runbook().function) },
      }),
    );
    // An accidental `--invocation-type Event` runs the manual action once, never again unseen.
    expect(invokeConfigs.map((c) => c.Properties)).toEqual([
      { FunctionName: ref(runbook().function), Qualifier: "$LATEST", MaximumRetryAttempts: 0 },
    ]);
  });

  /** The runbook's resource policy: every AWS::Lambda::Permission on it. */
  const permissionsOf = (stack: BuiltStack) =>
    Object.values(stack.template.findResources("AWS::Lambda::Permission"))
      .map((p) => p.Properties as Record<string, unknown>)
      .filter((p) => JSON.stringify(p.FunctionName).includes(logicalId(stack.stack.runbook.function)));

  it("its resource policy names only the automation role: no service, no account, no other role", () => {
    expect(permissionsOf(built)).toEqual([
      {
        Action: "lambda:InvokeFunction",
        FunctionName: getAtt(runbook().function),
        Principal: getAtt(built.stack.runbookAutomation.role),
      },
    ]);
  });

  it("adds exactly the configured runbookInvokers, after the automation role", () => {
    const invokers = [
      "arn:aws:iam::111122223333:role/oncall-breakglass",
      "arn:aws:iam::111122223333:role/security/incident-commander",
    ];
    const custom = buildStack({ config: parseConfig({ runbookInvokers: invokers }) });
    try {
      expect(permissionsOf(custom)).toEqual([
        {
          Action: "lambda:InvokeFunction",
          FunctionName: getAtt(custom.stack.runbook.function),
          Principal: getAtt(custom.stack.runbookAutomation.role),
        },
        ...invokers.map((arn) => ({
          Action: "lambda:InvokeFunction",
          FunctionName: getAtt(custom.stack.runbook.function),
          Principal: arn,
        })),
      ]);
    } finally {
      custom.cleanup();
    }
  });

  it("alarms on errors and throttles, notifying the topic", () => {
    for (const metric of ["Errors", "Throttles"]) {
      built.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/Lambda",
        MetricName: metric,
        Dimensions: [{ Name: "FunctionName", Value: ref(runbook().function) }],
        AlarmActions: [ref(built.stack.topic)],
      });
    }
  });

  it("outputs its name and ARN, and the automation role's ARN", () => {
    const outputs = built.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.RunbookFunctionName?.Value).toEqual(ref(runbook().function));
    expect(outputs.RunbookFunctionArn?.Value).toEqual(getAtt(runbook().function));
    expect(outputs.RunbookAutomationRoleArn?.Value).toEqual(getAtt(built.stack.runbookAutomation.role));
  });

  it("follows the stack name (function and documents)", () => {
    const dist = stubDist();
    try {
      const app = new App({ builtinCloudFormationValidation: false });
      const stack = new ResponderStack(app, "ir-prod", { config: DEFAULT_CONFIG, distDir: dist.dir });
      const template = Template.fromStack(stack);
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: "ir-prod-runbook",
        Environment: { Variables: Match.objectLike({ RUNBOOK_DOCUMENT_PREFIX: "ir-prod-" }) },
      });
      template.hasResourceProperties("AWS::SSM::Document", { Name: "ir-prod-RevokeGrant" });
      expect(
        () => new ResponderStack(app, `k${"x".repeat(60)}`, { config: DEFAULT_CONFIG, distDir: dist.dir }),
      ).toThrow(/longer than Lambda's 64 characters/);
      expect(
        () => new ResponderStack(app, "aws-kms-responder", { config: DEFAULT_CONFIG, distDir: dist.dir }),
      ).toThrow(/SSM document names cannot start with aws/);
    } finally {
      dist.remove();
    }
  });
});

describe("runbook role", () => {
  it("holds exactly the runbook's KMS actions on key/*, CloudTrail history, its executions, the topic, and the Deny", () => {
    const claim = {
      Sid: "ClaimAutomationExecution",
      Effect: "Allow",
      Action: "dynamodb:PutItem",
      Resource: getAtt(built.stack.runbookExecutions, "Arn"),
    };
    expect(statementsOf(runbook().role)).toEqual([
      { Sid: "RunbookActions", Effect: "Allow", Action: RUNBOOK_KMS_ACTIONS, Resource: KEYS },
      { Sid: "ReadKeyHistory", Effect: "Allow", Action: "cloudtrail:LookupEvents", Resource: "*" },
      // The notification names the key by its aliases (no resource-level permission exists).
      { Sid: "ReadKeyAliases", Effect: "Allow", Action: "kms:ListAliases", Resource: "*" },
      {
        Sid: "ReadWhoStartedTheAutomation",
        Effect: "Allow",
        Action: "ssm:GetAutomationExecution",
        Resource: {
          "Fn::Join": [
            "",
            [
              "arn:",
              { Ref: "AWS::Partition" },
              ":ssm:",
              { Ref: "AWS::Region" },
              ":",
              { Ref: "AWS::AccountId" },
              ":automation-execution/*",
            ],
          ],
        },
      },
      claim,
      ...responderRoleStatements(built.stack, runbook().function.logGroup),
    ]);
    // The table is the runbook's alone: no other role of the stack names it.
    const policies = built.template.findResources("AWS::IAM::Policy");
    const naming = Object.entries(policies)
      .filter(([, p]) => JSON.stringify(p).includes(logicalId(built.stack.runbookExecutions)))
      .map(([, p]) => p.Properties.Roles);
    expect(naming).toEqual([[ref(runbook().role)]]);
  });

  it("keeps used execution ids in an encrypted on-demand table whose items expire", () => {
    expect(resource(built.stack.runbookExecutions)).toMatchObject({
      Type: "AWS::DynamoDB::Table",
      Properties: {
        KeySchema: [{ AttributeName: "executionId", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "executionId", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    expect(built.template.findResources("AWS::DynamoDB::Table")).toHaveProperty(
      logicalId(built.stack.runbookExecutions),
    );
    expect(Object.keys(built.template.findResources("AWS::DynamoDB::Table"))).toHaveLength(1);
  });

  it("reads no CloudTrail when the config never restores a key's prior state (afterCancel keep-disabled or enable)", () => {
    for (const afterCancel of ["keep-disabled", "enable"] as const) {
      const custom = buildStack({ config: parseConfig({ afterCancel }) });
      try {
        const policies = custom.template.findResources("AWS::IAM::Policy", {
          Properties: { Roles: [ref(custom.stack.runbook.role)] },
        });
        const statements = Object.values(policies)[0]?.Properties.PolicyDocument.Statement as Array<{
          Sid?: string;
          Action: unknown;
        }>;
        expect(statements.map((st) => st.Sid).slice(0, 3)).toEqual([
          "RunbookActions",
          "ReadKeyAliases",
          "ReadWhoStartedTheAutomation",
        ]);
        expect(statements[0]?.Action).toEqual(RUNBOOK_KMS_ACTIONS);
        expect(JSON.stringify(statements)).not.toContain("cloudtrail:");
      } finally {
        custom.cleanup();
      }
    }
  });

  it("never allows what no runbook action does: no kms:*, no deletion, policy or grant creation, nothing mutating on *", () => {
    const allowed = statementsOf(runbook().role)
      .filter((s) => s.Effect === "Allow")
      .flatMap((s) => [s.Action].flat() as string[]);
    for (const never of [
      "kms:*",
      "*",
      "kms:ScheduleKeyDeletion",
      "kms:PutKeyPolicy",
      "kms:CreateGrant",
      "kms:RetireGrant",
      "kms:DisableKeyRotation",
      "kms:DeleteImportedKeyMaterial",
      "kms:Encrypt",
      "kms:CreateKey",
    ]) {
      expect(allowed).not.toContain(never);
    }
    for (const s of statementsOf(runbook().role)) {
      if (s.Effect === "Allow" && s.Resource === "*") {
        expect(["cloudtrail:LookupEvents", "kms:ListAliases"]).toContain(s.Action);
      }
    }
  });

  it("trusts Lambda only and is a responder role: the rules ignore its calls", () => {
    expect(resource(runbook().role).Properties.AssumeRolePolicyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" } },
      ],
    });
    expect(resource(runbook().role).Properties.ManagedPolicyArns).toBeUndefined();
    for (const rule of built.stack.rules.values()) {
      const pattern = resource(rule).Properties.EventPattern as {
        detail: { userIdentity: { $or: unknown[] } };
      };
      expect(pattern.detail.userIdentity.$or[0]).toEqual({
        sessionContext: {
          sessionIssuer: { arn: [{ "anything-but": expect.arrayContaining([getAtt(runbook().role)]) }] },
        },
      });
    }
  });

  describe("covers every call the runbook makes (run against mocks, dry run and for real)", () => {
    const kms = mockClient(KMSClient);
    const sns = mockClient(SNSClient);
    const cloudTrail = mockClient(CloudTrailClient);
    const GRANTEE = "arn:aws:iam::444455556666:role/Intruder";
    const used = new Set<string>();
    beforeEach(() => {
      kms.reset();
      sns.reset();
      cloudTrail.reset();
      sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
      cloudTrail.on(LookupEventsCommand).resolves({ Events: [] });
    });
    afterAll(() => {
      kms.restore();
      sns.restore();
      cloudTrail.restore();
    });

    const scenarios: Array<[RunbookAction, boolean]> = RUNBOOK_ACTIONS.flatMap(
      (a): Array<[RunbookAction, boolean]> =>
        a === "analyze-key-policy"
          ? [[a, false]]
          : [
              [a, false],
              [a, true],
            ],
    );
    it.each(scenarios)("%s (dry run: %s)", async (action, dryRun) => {
      // Prepare: a key in the state where the action has something to do.
      fakeKey(kms, {
        state:
          action === "enable-key"
            ? "Disabled"
            : action === "cancel-key-deletion"
              ? "PendingDeletion"
              : "Enabled",
        grants: [{ GrantId: GRANT_ID, GranteePrincipal: GRANTEE, Operations: ["Decrypt"] }],
      });
      kms
        .on(GetKeyPolicyCommand)
        .resolves({ Policy: JSON.stringify({ Statement: [] }), PolicyName: "default" });
      const extra = { dryRun, grantId: GRANT_ID, granteePrincipal: GRANTEE };

      // Act
      const { result, failure } = await runRunbook(
        parsePayload(payloadFor(action, extra)),
        depsWith({}, TOPIC_ARN),
      );

      // Assess
      expect(failure, JSON.stringify(result.actions)).toBeUndefined();
      const calls = [
        ...commandNames(kms).map((c) => `kms:${c.replace(/Command$/, "")}`),
        ...commandNames(cloudTrail).map((c) => `cloudtrail:${c.replace(/Command$/, "")}`),
        ...commandNames(sns).map((c) => `sns:${c.replace(/Command$/, "")}`),
      ];
      const allowed = statementsOf(runbook().role)
        .filter((s) => s.Effect === "Allow")
        .flatMap((s) => [s.Action].flat() as string[]);
      for (const call of calls) {
        expect(allowed, call).toContain(call);
        used.add(call);
      }
      expect(result.key.arn).toBe(KEY_ARN);
    });

    it("and nothing more than they call", () => {
      const kmsUsed = [...used].filter((a) => a.startsWith("kms:") && a !== "kms:ListAliases");
      expect(kmsUsed.sort()).toEqual([...RUNBOOK_KMS_ACTIONS].sort());
      expect(used).toContain("kms:ListAliases");
      expect(used).toContain("cloudtrail:LookupEvents");
      expect(used).toContain("sns:Publish");
    });
  });
});

// --- SSM Automation documents ------------------------------------------------------------------

interface SsmParameter {
  type: string;
  description: string;
  default?: unknown;
  allowedPattern?: string;
}
interface SsmContent {
  schemaVersion: string;
  description: string;
  assumeRole: string;
  parameters: Record<string, SsmParameter>;
  mainSteps: Array<{
    name: string;
    action: string;
    maxAttempts: number;
    timeoutSeconds: number;
    onFailure: string;
    isEnd: boolean;
    inputs: { FunctionName: unknown; InvocationType: string; InputPayload: Record<string, string> };
  }>;
  outputs: string[];
}

const DOCUMENT_NAMES: Record<RunbookAction, string> = {
  "revoke-grant": "kms-responder-RevokeGrant",
  "revoke-grantee-grants": "kms-responder-RevokeGranteeGrants",
  "disable-key": "kms-responder-DisableKey",
  "enable-key": "kms-responder-EnableKey",
  "cancel-key-deletion": "kms-responder-CancelKeyDeletion",
  "enable-key-rotation": "kms-responder-EnableKeyRotation",
  "analyze-key-policy": "kms-responder-AnalyzeKeyPolicy",
};

function documentOf(action: RunbookAction): { Properties: Record<string, unknown>; content: SsmContent } {
  const docs = Object.values(
    built.template.findResources("AWS::SSM::Document", { Properties: { Name: DOCUMENT_NAMES[action] } }),
  );
  expect(docs).toHaveLength(1);
  const doc = docs[0] as Resource;
  return { Properties: doc.Properties, content: doc.Properties.Content as SsmContent };
}

const EXECUTION_ID = "4f4e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/**
 * What Systems Manager sends: the parameters (with the documents' defaults) substituted into the
 * step's InputPayload. A value that is one whole `{{ Parameter }}` keeps the parameter's type (a
 * Boolean stays a boolean, as AWS's own runbooks rely on); references inside text are interpolated.
 */
function render(content: SsmContent, given: Record<string, unknown>): unknown {
  const values: Record<string, unknown> = { "automation:EXECUTION_ID": EXECUTION_ID };
  for (const [name, p] of Object.entries(content.parameters)) {
    const value = given[name] ?? p.default;
    if (value === undefined) throw new Error(`required parameter ${name} missing`);
    if (p.allowedPattern && !new RegExp(p.allowedPattern).test(String(value))) {
      throw new Error(`SSM refuses ${name}=${JSON.stringify(value)} (allowedPattern)`);
    }
    values[name] = value;
  }
  const payload = content.mainSteps[0]?.inputs.InputPayload ?? {};
  return Object.fromEntries(
    Object.entries(payload).map(([k, v]) => {
      const whole = /^\{\{ *([\w:]+) *\}\}$/.exec(v);
      if (whole?.[1]) return [k, values[whole[1]]];
      return [k, v.replace(/\{\{ *([\w:]+) *\}\}/g, (_m, name: string) => String(values[name]))];
    }),
  );
}

/** Parameters an on-call engineer would type, per document. */
const TYPICAL: Record<string, unknown> = {
  KeyId: KEY_ARN,
  GrantId: GRANT_ID,
  GranteePrincipal: "arn:aws:iam::444455556666:role/Intruder",
  Reason: "key exposed in a public repository",
  Ticket: "INC-4711",
  StatedBy: "alice@example.com",
  // The default is the stack's role (a GetAtt in the template); deployed, an ARN like this one.
  AutomationAssumeRole: "arn:aws:iam::111122223333:role/kms-responder-runbookautomationRole8B034BA9-AbC123",
};

describe("SSM Automation documents", () => {
  it("one Automation document per runbook action, named after the stack, replaced in place on update", () => {
    built.template.resourceCountIs("AWS::SSM::Document", RUNBOOK_ACTIONS.length);
    for (const action of RUNBOOK_ACTIONS) {
      const { Properties } = documentOf(action);
      expect(Properties).toMatchObject({
        Name: DOCUMENT_NAMES[action],
        DocumentType: "Automation",
        DocumentFormat: "JSON",
        UpdateMethod: "Replace",
      });
    }
  });

  it.each(RUNBOOK_ACTIONS)("%s: typed, validated parameters", (action) => {
    const { content } = documentOf(action);
    expect(content.schemaVersion).toBe("0.3");
    expect(content.assumeRole).toBe("{{ AutomationAssumeRole }}");
    const target =
      action === "revoke-grant"
        ? ["GrantId"]
        : action === "revoke-grantee-grants"
          ? ["GranteePrincipal"]
          : [];
    const dryRun = action === "analyze-key-policy" ? [] : ["DryRun"];
    expect(Object.keys(content.parameters)).toEqual([
      "KeyId",
      ...target,
      "Reason",
      "Ticket",
      "StatedBy",
      ...dryRun,
      "AutomationAssumeRole",
    ]);
    const p = content.parameters;
    for (const name of ["KeyId", ...target, "Reason"]) {
      expect(p[name], name).toMatchObject({ type: "String", allowedPattern: expect.any(String) });
      expect(p[name]?.default, `${name} is required`).toBeUndefined();
    }
    expect(p.Ticket).toMatchObject({ type: "String", default: "", allowedPattern: expect.any(String) });
    expect(p.StatedBy).toMatchObject({ type: "String", default: "", allowedPattern: expect.any(String) });
    expect(p.StatedBy?.description).toContain('shown as "stated by"');
    expect(p.StatedBy?.description).toContain("ExecutedBy");
    if (dryRun.length) expect(p.DryRun).toMatchObject({ type: "Boolean", default: false });
    expect(p.AutomationAssumeRole).toMatchObject({
      type: "String",
      default: getAtt(built.stack.runbookAutomation.role),
      allowedPattern: expect.any(String),
    });
    for (const param of Object.values(p)) expect(param.description.length).toBeGreaterThan(10);
  });

  it.each(RUNBOOK_ACTIONS)(
    "%s: one synchronous invocation of the runbook, its payload built from the parameters",
    (action) => {
      const { content } = documentOf(action);
      expect(content.mainSteps).toHaveLength(1);
      const [step] = content.mainSteps;
      expect(step).toMatchObject({
        name: "InvokeRunbook",
        action: "aws:invokeLambdaFunction",
        maxAttempts: 1,
        onFailure: "Abort",
        isEnd: true,
      });
      // Longer than the function's 60 s timeout, within the action's 300 s maximum.
      expect(step?.timeoutSeconds).toBeGreaterThan(60);
      expect(step?.timeoutSeconds).toBeLessThanOrEqual(300);
      expect(step?.inputs.FunctionName).toEqual(ref(runbook().function));
      expect(step?.inputs.InvocationType).toBe("RequestResponse");
      expect(step?.inputs.InputPayload).toEqual({
        action,
        keyId: "{{ KeyId }}",
        ...(action === "revoke-grant" && { grantId: "{{ GrantId }}" }),
        ...(action === "revoke-grantee-grants" && { granteePrincipal: "{{ GranteePrincipal }}" }),
        ...(action !== "analyze-key-policy" && { dryRun: "{{ DryRun }}" }),
        reason: "{{ Reason }}",
        ticket: "{{ Ticket }}",
        statedBy: "{{ StatedBy }}",
        automationExecutionId: "{{automation:EXECUTION_ID}}",
      });
      expect(content.outputs).toEqual(["InvokeRunbook.Payload"]);
    },
  );

  it.each(RUNBOOK_ACTIONS)(
    "%s: every {{ reference }} is a declared parameter or an automation variable, every parameter is used",
    (action) => {
      const { content } = documentOf(action);
      const text = JSON.stringify({ ...content, parameters: undefined });
      const referenced = new Set([...text.matchAll(/\{\{ *([\w:]+) *\}\}/g)].map((m) => m[1]));
      expect([...referenced].sort()).toEqual(
        [...Object.keys(content.parameters), "automation:EXECUTION_ID"].sort(),
      );
    },
  );

  it.each(RUNBOOK_ACTIONS)("%s: what SSM sends is a payload the runbook accepts", (action) => {
    const { content } = documentOf(action);
    const payload = parsePayload(render(content, TYPICAL));
    expect(payload).toEqual({
      action,
      keyId: KEY_ARN,
      ...(action === "revoke-grant" && { grantId: GRANT_ID }),
      ...(action === "revoke-grantee-grants" && { granteePrincipal: TYPICAL.GranteePrincipal }),
      dryRun: false,
      reason: TYPICAL.Reason,
      ticket: "INC-4711",
      statedBy: "alice@example.com",
      automationExecutionId: EXECUTION_ID,
    });
    if (action !== "analyze-key-policy") {
      expect(parsePayload(render(content, { ...TYPICAL, DryRun: true })).dryRun).toBe(true);
    }
  });

  it("without StatedBy the payload still names the execution (whose ExecutedBy is the caller)", () => {
    const { content } = documentOf("disable-key");
    const payload = parsePayload(render(content, { ...TYPICAL, StatedBy: undefined }));
    expect(payload.automationExecutionId).toBe(EXECUTION_ID);
    expect(payload.statedBy).toBeUndefined();
  });

  // The documents send Ticket with "" as its default: the payload reads that as no ticket.
  it('without Ticket (the default "") the payload is accepted and carries no ticket', () => {
    const { content } = documentOf("disable-key");
    const payload = parsePayload(render(content, { ...TYPICAL, Ticket: undefined }));
    expect(payload.ticket).toBeUndefined();
  });

  describe("parameter patterns accept only what the payload accepts", () => {
    const patterns = () => documentOf("revoke-grant").content.parameters;
    const pattern = (name: string) => new RegExp(patterns()[name]?.allowedPattern ?? "(?!)");
    const docFor: Record<string, RunbookAction> = {
      KeyId: "disable-key",
      GrantId: "revoke-grant",
      GranteePrincipal: "revoke-grantee-grants",
      Reason: "disable-key",
      Ticket: "disable-key",
      StatedBy: "disable-key",
    };

    it("every document uses the same pattern for the same parameter", () => {
      for (const action of RUNBOOK_ACTIONS) {
        for (const [name, p] of Object.entries(documentOf(action).content.parameters)) {
          expect(p.allowedPattern, `${action} ${name}`).toEqual(
            documentOf(docFor[name] ?? "revoke-grant").content.parameters[name]?.allowedPattern,
          );
        }
      }
    });

    it.each(Object.keys(docFor))(
      "%s: any value the pattern lets through passes the payload validation",
      (name) => {
        const action = docFor[name] as RunbookAction;
        const { content } = documentOf(action);
        const re = new RegExp(content.parameters[name]?.allowedPattern ?? "");
        fc.assert(
          fc.property(
            // An empty ticket waits for the payload change above.
            fc.stringMatching(re).filter((v) => name !== "Ticket" || v !== ""),
            (value) => {
              expect(() => parsePayload(render(content, { ...TYPICAL, [name]: value }))).not.toThrow();
            },
          ),
          { numRuns: 300 },
        );
      },
    );

    it("KeyId: exactly the payload's key references", () => {
      const samples = [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/app-data",
        "alias/aws/ebs",
        KEY_ARN,
        "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws-cn:kms:cn-north-1:111122223333:alias/app",
        // refused by both
        "1234ABCD-12AB-34CD-56EF-1234567890AB",
        "alias/",
        "alias/app data",
        "arn:aws:kms:us-east-1:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:iam::111122223333:role/x",
        `${KEY_ARN}" , "action": "disable-key`,
        "",
        " alias/app",
      ];
      for (const keyId of samples) {
        let accepted = true;
        try {
          parsePayload({ ...payloadFor("disable-key"), keyId });
        } catch {
          accepted = false;
        }
        expect(pattern("KeyId").test(keyId), keyId).toBe(accepted);
      }
    });

    it("free text cannot carry quotes, backslashes or control characters, nor be blank", () => {
      for (const name of ["Reason", "Ticket", "StatedBy"]) {
        for (const bad of ['ok", "dryRun": false, "x": "', "back\\slash", "line\nbreak", "tab\there"]) {
          expect(pattern(name).test(bad), `${name} ${JSON.stringify(bad)}`).toBe(false);
        }
      }
      for (const bad of ["", "  ", "ab", " abc", "abc "])
        expect(pattern("Reason").test(bad), bad).toBe(false);
      expect(pattern("Reason").test("x".repeat(1024))).toBe(true);
      expect(pattern("Reason").test("x".repeat(1025))).toBe(false);
      expect(pattern("GranteePrincipal").test("arn:aws:iam::111122223333:role/*")).toBe(false);
      expect(pattern("GrantId").test(GRANT_ID)).toBe(true);
      expect(pattern("GrantId").test(`${GRANT_ID} `)).toBe(false);
    });

    it("AutomationAssumeRole: a role ARN", () => {
      expect(
        pattern("AutomationAssumeRole").test("arn:aws:iam::111122223333:role/service-role/OnCallAutomation"),
      ).toBe(true);
      expect(pattern("AutomationAssumeRole").test("arn:aws:iam::111122223333:user/alice")).toBe(false);
      expect(pattern("AutomationAssumeRole").test("")).toBe(false);
    });
  });
});

describe("automation role", () => {
  const role = () => built.stack.runbookAutomation.role;

  it("may be assumed only by Systems Manager Automation of this account and Region", () => {
    expect(resource(role()).Properties.AssumeRolePolicyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { Service: "ssm.amazonaws.com" },
          Condition: {
            StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
            ArnLike: {
              "aws:SourceArn": {
                "Fn::Join": [
                  "",
                  [
                    "arn:",
                    { Ref: "AWS::Partition" },
                    ":ssm:",
                    { Ref: "AWS::Region" },
                    ":",
                    { Ref: "AWS::AccountId" },
                    ":automation-execution/*",
                  ],
                ],
              },
            },
          },
        },
      ],
    });
    expect(resource(role()).Properties.ManagedPolicyArns).toBeUndefined();
  });

  it("may only invoke the runbook function (unqualified ARN)", () => {
    expect(statementsOf(role())).toEqual([
      {
        Sid: "InvokeTheRunbook",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: getAtt(runbook().function),
      },
    ]);
  });
});
