/**
 * The template the stack synthesizes: every rule, role, function, queue, alarm and the encrypted
 * topic, checked against expectations written out here (not derived from infra/ code).
 */
import { CliCredentialsStackSynthesizer, DefaultStackSynthesizer } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { matchesPattern } from "../../emulator/event-pattern.js";
import { INCIDENTS as DECLARATIONS, type IncidentName } from "../../functions/registry.js";
import {
  FASTEST_REVOKING_INVOCATION_SECONDS,
  REVOKE_GRANT_QUOTA,
} from "../../functions/rogue-grant/incident.js";
import { type ConfigInput, DEFAULT_CONFIG, parseConfig } from "../../functions/shared/config.js";
import { responderRoleStatements } from "./role-expectations.js";
import { type BuiltStack, buildStack, getAtt, logicalId, ref, stubDist } from "./stack-fixture.js";

/** The registry's incidents, by name: the stack deploys one function and one rule for each. */
const INCIDENTS: IncidentName[] = DECLARATIONS.map((i) => i.name);

let built: BuiltStack;
beforeAll(() => {
  built = buildStack();
});
afterAll(() => built.cleanup());

const responder = (incident: IncidentName, stack: BuiltStack = built) => {
  const r = stack.stack.responders.get(incident);
  if (!r) throw new Error(`no responder for ${incident}`);
  return r;
};
const resource = (construct: Parameters<typeof logicalId>[0]) => {
  const found = built.template.toJSON().Resources[logicalId(construct)];
  if (!found) throw new Error(`no resource ${logicalId(construct)}`);
  return found as { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
};
/** An incident's failure queue (every incident function has one; only the runbook has none). */
const failureQueue = (incident: IncidentName) => {
  const queue = responder(incident).failureQueue;
  if (!queue) throw new Error(`no failure queue for ${incident}`);
  return queue;
};
/** Every function role, the runbook's and the sweep's last: the rules and the config leave out their calls. */
const allRoleArns = () => [
  ...INCIDENTS.map((i) => getAtt(responder(i).role)),
  getAtt(built.stack.runbook.role),
  getAtt(built.stack.sweep.function.role),
];

describe("rules", () => {
  const loopPrevention = () => ({
    userIdentity: {
      $or: [
        { sessionContext: { sessionIssuer: { arn: [{ "anything-but": allRoleArns() }] } } },
        { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } },
      ],
    },
  });
  const envelope = (detail: object) => ({
    source: ["aws.kms"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: { eventSource: ["kms.amazonaws.com"], ...detail },
  });
  const successful = (eventNames: string[]) =>
    envelope({ eventName: eventNames, errorCode: [{ exists: false }], ...loopPrevention() });

  const expected: Record<IncidentName, () => object> = {
    // Grants to an AWS service principal (only the service can create them) never invoke the function.
    "rogue-grant": () =>
      envelope({
        eventName: ["CreateGrant"],
        errorCode: [{ exists: false }],
        requestParameters: {
          $or: [
            { granteePrincipal: [{ "anything-but": { suffix: ".amazonaws.com" } }] },
            { granteePrincipal: [{ exists: false }] },
          ],
        },
        ...loopPrevention(),
      }),
    "key-deletion-scheduled": () => successful(["ScheduleKeyDeletion"]),
    "key-policy-violation": () =>
      envelope({
        $or: [
          { eventName: ["PutKeyPolicy"] },
          { eventName: ["CreateKey", "ReplicateKey"], requestParameters: { policy: [{ exists: true }] } },
        ],
        errorCode: [{ exists: false }],
        ...loopPrevention(),
      }),
    "key-disabled": () => successful(["DisableKey"]),
    // KMS deleting expired material itself is a service event, not an API call.
    "key-material-deleted": () => ({
      ...successful(["DeleteImportedKeyMaterial", "DeleteExpiredKeyMaterial"]),
      "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"],
    }),
    "key-rotation-disabled": () => successful(["DisableKeyRotation"]),
    "pending-deletion-key-used": () =>
      envelope({
        eventName: [
          "Decrypt",
          "DeriveSharedSecret",
          "Encrypt",
          "GenerateDataKey",
          "GenerateDataKeyPair",
          "GenerateDataKeyPairWithoutPlaintext",
          "GenerateDataKeyWithoutPlaintext",
          "GenerateMac",
          "GetPublicKey",
          "ReEncrypt",
          "ReEncryptFrom",
          "ReEncryptTo",
          "Sign",
          "Verify",
          "VerifyMac",
        ],
        errorCode: ["DisabledException", "KMSInvalidStateException"],
        errorMessage: [{ wildcard: "*deletion." }],
        ...loopPrevention(),
      }),
    "key-material-expiring": () =>
      envelope({
        eventName: ["ImportKeyMaterial"],
        errorCode: [{ exists: false }],
        // A validTo without an expirationModel expires too (the API's default model).
        requestParameters: {
          $or: [
            { expirationModel: ["KEY_MATERIAL_EXPIRES"] },
            { expirationModel: [{ exists: false }], validTo: [{ exists: true }] },
          ],
        },
        ...loopPrevention(),
      }),
    "alias-changed": () => successful(["UpdateAlias", "DeleteAlias"]),
    "key-rotation-weakened": () => successful(["EnableKeyRotation"]),
    // An import without importType may be the key's first, new material: the handler tells.
    "key-material-imported": () =>
      envelope({
        $or: [
          { eventName: ["ImportKeyMaterial"], requestParameters: { importType: ["NEW_KEY_MATERIAL"] } },
          { eventName: ["ImportKeyMaterial"], requestParameters: { importType: [{ exists: false }] } },
          { eventName: ["RotateKeyOnDemand"] },
        ],
        errorCode: [{ exists: false }],
        ...loopPrevention(),
      }),
    "custom-key-store-changed": () =>
      successful(["DisconnectCustomKeyStore", "UpdateCustomKeyStore", "DeleteCustomKeyStore"]),
    "key-region-changed": () => successful(["UpdatePrimaryRegion", "ReplicateKey"]),
    // The end of a pending deletion is KMS's own doing: a service event.
    "key-deleted": () => ({
      ...successful(["DeleteKey"]),
      "detail-type": ["AWS Service Event via CloudTrail"],
    }),
    "exemption-tampered": () => successful(["TagResource", "UntagResource"]),
    // Other services' CloudTrail events, each under its own source.
    "responder-tampered": () => ({
      source: ["aws.cloudtrail", "aws.events", "aws.lambda", "aws.sns", "aws.iam"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: [
          "cloudtrail.amazonaws.com",
          "events.amazonaws.com",
          "lambda.amazonaws.com",
          "sns.amazonaws.com",
          "iam.amazonaws.com",
        ],
        eventName: [
          "StopLogging",
          "DeleteTrail",
          "UpdateTrail",
          "PutEventSelectors",
          "DisableRule",
          "DeleteRule",
          "RemoveTargets",
          "PutRule",
          "PutPermission",
          "UpdateFunctionConfiguration20150331v2",
          "UpdateFunctionCode20150331v2",
          "DeleteFunction20150331",
          "PutFunctionConcurrency20171031",
          "RemovePermission20150331v2",
          "Unsubscribe",
          "SetTopicAttributes",
          "DeleteTopic",
          "PutRolePolicy",
          "AttachRolePolicy",
          "DetachRolePolicy",
          "DeleteRolePolicy",
          "UpdateAssumeRolePolicy",
        ],
        errorCode: [{ exists: false }],
        ...loopPrevention(),
      },
    }),
  };

  it("deploys exactly one rule per registered incident, the sweep's schedule and the heartbeat's rules (beats, touches)", () => {
    built.template.resourceCountIs("AWS::Events::Rule", INCIDENTS.length + 3);
    expect([...built.stack.rules.keys()]).toEqual(INCIDENTS);
  });

  it("disables the rule of an incident switched off (its function stays, reserving nothing)", () => {
    const off = buildStack({
      config: parseConfig({
        mode: "enforce",
        incidents: { "rogue-grant": { mode: "off" }, "pending-deletion-key-used": { mode: "off" } },
      }),
    });
    try {
      const state = (incident: IncidentName) =>
        off.template.toJSON().Resources[logicalId(off.stack.rules.get(incident) ?? off.stack)].Properties
          .State;
      expect(state("rogue-grant")).toBe("DISABLED");
      expect(state("pending-deletion-key-used")).toBe("DISABLED");
      expect(state("key-deletion-scheduled")).toBe("ENABLED");
      const fn = responder("rogue-grant", off).function;
      const properties = off.template.toJSON().Resources[logicalId(fn)].Properties;
      expect(properties.ReservedConcurrentExecutions).toBeUndefined();
    } finally {
      off.cleanup();
    }
  });

  it.each(INCIDENTS)("%s: pattern, state and target", (incident) => {
    const rule = built.stack.rules.get(incident);
    if (!rule) throw new Error(`no rule for ${incident}`);
    const { Properties } = resource(rule);
    expect(Properties.EventPattern).toEqual(expected[incident]());
    expect(Properties.State).toBe(
      incident === "pending-deletion-key-used" ? "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" : "ENABLED",
    );
    expect(Properties.Targets).toEqual([
      {
        Id: "Target0",
        Arn: getAtt(responder(incident).function),
        DeadLetterConfig: { Arn: getAtt(failureQueue(incident)) },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    ]);
    built.template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      FunctionName: getAtt(responder(incident).function),
      Principal: "events.amazonaws.com",
      SourceArn: getAtt(rule),
    });
  });
});

/** An incident role's own statements under a config, as the template must hold them. */
interface DerivedRole {
  /** KMS actions on the account's keys (`IncidentActions`); empty: no such statement at all. */
  kms: string[];
  /** cloudtrail:LookupEvents on `*` (`ReadKeyHistory`). */
  history: boolean;
  /**
   * kms:ListAliases on `*` (`ReadKeyAliases`): every function but a switched-off one names the key
   * by its aliases in the notification. Default true.
   */
  aliases?: boolean;
}
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
// CloudFormation policies write a single action as a string.
const oneOrMany = (actions: string[]) => (actions.length === 1 ? actions[0] : actions);

/** The statements of an incident's role, the one AWS::IAM::Policy attached to it. */
function roleStatements(stack: BuiltStack, incident: IncidentName): unknown[] {
  const policy = stack.template.findResources("AWS::IAM::Policy", {
    Properties: { Roles: [ref(responder(incident, stack).role)] },
  });
  expect(Object.keys(policy)).toHaveLength(1);
  return Object.values(policy)[0]?.Properties.PolicyDocument.Statement;
}

function expectRole(stack: BuiltStack, incident: IncidentName, role: DerivedRole): void {
  const r = responder(incident, stack);
  const queue = r.failureQueue;
  if (!queue) throw new Error(`no failure queue for ${incident}`);
  expect(roleStatements(stack, incident)).toEqual([
    ...(role.kms.length
      ? [{ Sid: "IncidentActions", Effect: "Allow", Action: oneOrMany(role.kms), Resource: KEYS }]
      : []),
    ...(role.history
      ? [{ Sid: "ReadKeyHistory", Effect: "Allow", Action: "cloudtrail:LookupEvents", Resource: "*" }]
      : []),
    ...(role.aliases !== false
      ? [{ Sid: "ReadKeyAliases", Effect: "Allow", Action: "kms:ListAliases", Resource: "*" }]
      : []),
    // The key-policy responder learns its own organisation (no organization block in these configs).
    ...(incident === "key-policy-violation" && role.aliases !== false
      ? [
          {
            Sid: "ReadOwnOrganization",
            Effect: "Allow",
            Action: "organizations:DescribeOrganization",
            Resource: "*",
          },
        ]
      : []),
    ...responderRoleStatements(stack.stack, r.function.logGroup),
    {
      Effect: "Allow",
      Action: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
      Resource: getAtt(queue),
    },
  ]);
}

/** Every incident's role under the default config (afterCancel restore, onCritical disable-key). */
const DEFAULT_ROLES: Record<IncidentName, DerivedRole> = {
  "rogue-grant": {
    kms: ["kms:DescribeKey", "kms:ListGrants", "kms:ListResourceTags", "kms:RevokeGrant"],
    history: false,
  },
  // When the key was last used (GetKeyLastUsage) tells who still needs it.
  "key-deletion-scheduled": {
    kms: [
      "kms:CancelKeyDeletion",
      "kms:DescribeKey",
      "kms:EnableKey",
      "kms:GetKeyLastUsage",
      "kms:ListResourceTags",
    ],
    history: true,
  },
  "key-policy-violation": {
    kms: ["kms:DescribeKey", "kms:DisableKey", "kms:GetKeyPolicy", "kms:ListResourceTags"],
    history: false,
  },
  // Notify only unless reenableDisabledKeys: it reads the key and its last use (for the notification:
  // what stops working now) and changes nothing.
  "key-disabled": { kms: ["kms:DescribeKey", "kms:GetKeyLastUsage"], history: false },
  // Which material went (ListKeyRotations, CloudTrail) and when the key was last used.
  "key-material-deleted": {
    kms: ["kms:DescribeKey", "kms:GetKeyLastUsage", "kms:ListKeyRotations"],
    history: true,
  },
  // History: the EnableKeyRotation that set the period, when the status no longer reports it.
  "key-rotation-disabled": {
    kms: ["kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    history: true,
  },
  "pending-deletion-key-used": {
    kms: [
      "kms:CancelKeyDeletion",
      "kms:DescribeKey",
      "kms:EnableKey",
      "kms:GetKeyLastUsage",
      "kms:ListResourceTags",
    ],
    history: true,
  },
  "key-material-expiring": { kms: ["kms:DescribeKey"], history: false },
  "alias-changed": { kms: ["kms:DescribeKey"], history: false },
  "key-rotation-weakened": {
    kms: ["kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    history: true,
  },
  "key-material-imported": { kms: ["kms:DescribeKey", "kms:ListKeyRotations"], history: true },
  // Its events name a store, no key: it reads nothing, not even the key's aliases.
  "custom-key-store-changed": { kms: [], history: false, aliases: false },
  "key-region-changed": { kms: ["kms:DescribeKey"], history: false },
  // The key is gone: its history says whether the deletion was approved.
  "key-deleted": { kms: ["kms:DescribeKey"], history: true },
  "exemption-tampered": {
    kms: ["kms:DescribeKey", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource"],
    history: false,
  },
  // Keyless: it reads nothing and changes nothing (repairs are not automated yet).
  "responder-tampered": { kms: [], history: false, aliases: false },
};

describe("roles", () => {
  it.each(INCIDENTS)(
    "%s: exactly the statements derived from its declaration (default config)",
    (incident) => {
      expectRole(built, incident, DEFAULT_ROLES[incident]);
    },
  );

  it("function roles trust Lambda only and carry no managed policy (no AWSLambdaBasicExecutionRole)", () => {
    const roles = [
      ...INCIDENTS.map((i) => responder(i).role),
      built.stack.runbook.role,
      built.stack.sweep.function.role,
    ].map(resource);
    // The only other roles: the SSM documents' (test/infra/runbook.test.ts), the heartbeat schedule's.
    expect(Object.keys(built.template.findResources("AWS::IAM::Role"))).toHaveLength(roles.length + 2);
    for (const role of roles) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect((role.Properties.AssumeRolePolicyDocument as { Statement: unknown }).Statement).toEqual([
        { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" } },
      ]);
    }
  });

  it("no policy allows kms:* or *, and nothing mutating on *", () => {
    const readOnlyOnStar = new Set([
      "cloudtrail:LookupEvents",
      "kms:ListAliases",
      "kms:ListKeys",
      "organizations:DescribeOrganization",
    ]);
    const policies = Object.values(built.template.findResources("AWS::IAM::Policy"));
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions: string[] = [statement.Action].flat();
        expect(actions).not.toContain("kms:*");
        expect(actions).not.toContain("*");
        if (statement.Effect === "Allow" && statement.Resource === "*") {
          for (const action of actions) expect(readOnlyOnStar).toContain(action);
        }
      }
    }
  });
});

describe("roles follow the deployed config", () => {
  /** Builds the stack under `input` and checks every incident's role: `changed` over the defaults. */
  function expectRoles(input: ConfigInput, changed: Partial<Record<IncidentName, DerivedRole>>): void {
    // Over an acting deployment (enforce) unless `input` sets the mode.
    const custom = buildStack({ config: parseConfig({ mode: "enforce", ...input }) });
    try {
      for (const incident of INCIDENTS)
        expectRole(custom, incident, changed[incident] ?? DEFAULT_ROLES[incident]);
    } finally {
      custom.cleanup();
    }
  }

  it("onCritical remove-statements: key-policy-violation may put a policy back (and still disable)", () => {
    expectRoles(
      { onCritical: "remove-statements" },
      {
        "key-policy-violation": {
          kms: [
            "kms:DescribeKey",
            "kms:DisableKey",
            "kms:GetKeyPolicy",
            "kms:ListResourceTags",
            "kms:PutKeyPolicy",
          ],
          history: false,
        },
      },
    );
  });

  it("onCritical notify: key-policy-violation only reads", () => {
    expectRoles(
      { onCritical: "notify" },
      {
        "key-policy-violation": {
          kms: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags"],
          history: false,
        },
      },
    );
  });

  it("reenableDisabledKeys: key-disabled reads the key and may enable it", () => {
    expectRoles(
      { reenableDisabledKeys: true },
      {
        "key-disabled": {
          kms: ["kms:DescribeKey", "kms:EnableKey", "kms:GetKeyLastUsage", "kms:ListResourceTags"],
          history: false,
        },
      },
    );
  });

  it("afterCancel keep-disabled: the deletion incidents cancel only, and never read CloudTrail", () => {
    const cancelOnly = {
      kms: ["kms:CancelKeyDeletion", "kms:DescribeKey", "kms:GetKeyLastUsage", "kms:ListResourceTags"],
      history: false,
    };
    expectRoles(
      { afterCancel: "keep-disabled" },
      { "key-deletion-scheduled": cancelOnly, "pending-deletion-key-used": cancelOnly },
    );
  });

  it("afterCancel enable: the deletion incidents re-enable without reading CloudTrail", () => {
    const enable = {
      kms: [
        "kms:CancelKeyDeletion",
        "kms:DescribeKey",
        "kms:EnableKey",
        "kms:GetKeyLastUsage",
        "kms:ListResourceTags",
      ],
      history: false,
    };
    expectRoles(
      { afterCancel: "enable" },
      { "key-deletion-scheduled": enable, "pending-deletion-key-used": enable },
    );
  });

  it("mode notify: every incident keeps its reads and loses every mutating action", () => {
    const deletionReads = {
      kms: ["kms:DescribeKey", "kms:GetKeyLastUsage", "kms:ListResourceTags"],
      history: true,
    };
    expectRoles(
      { mode: "notify", onCritical: "remove-statements", reenableDisabledKeys: true },
      {
        "rogue-grant": { kms: ["kms:DescribeKey", "kms:ListGrants", "kms:ListResourceTags"], history: false },
        "key-deletion-scheduled": deletionReads,
        "key-policy-violation": {
          kms: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags"],
          history: false,
        },
        "key-disabled": {
          kms: ["kms:DescribeKey", "kms:GetKeyLastUsage", "kms:ListResourceTags"],
          history: false,
        },
        "key-rotation-disabled": {
          kms: ["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
          history: true,
        },
        "pending-deletion-key-used": deletionReads,
        "key-rotation-weakened": {
          kms: ["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
          history: true,
        },
        "exemption-tampered": { kms: ["kms:DescribeKey", "kms:ListResourceTags"], history: false },
      },
    );
  });

  it("one incident in notify mode: only its role loses its mutating actions", () => {
    expectRoles(
      { incidents: { "rogue-grant": { mode: "notify" } } },
      {
        "rogue-grant": { kms: ["kms:DescribeKey", "kms:ListGrants", "kms:ListResourceTags"], history: false },
      },
    );
  });

  it("an incident switched off keeps its function with no KMS or CloudTrail permission", () => {
    expectRoles(
      { incidents: { "key-deletion-scheduled": { mode: "off" } } },
      { "key-deletion-scheduled": { kms: [], history: false, aliases: false } },
    );
  });
});

describe("functions", () => {
  /** A function's config JSON with each CloudFormation token replaced by `<LogicalId.Attribute>` so it parses. */
  function configOf(incident: IncidentName, stack: BuiltStack = built): Record<string, unknown> {
    const fn = responder(incident, stack).function;
    const join = stack.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables
      .KMS_RESPONDER_CONFIG as { "Fn::Join": [string, unknown[]] };
    const text = join["Fn::Join"][1]
      .map((part) => {
        if (typeof part === "string") return part;
        const sub = (part as { "Fn::Sub"?: string })["Fn::Sub"];
        if (sub !== undefined) return `<Sub:${sub}>`;
        const [id, attribute] = (part as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"];
        return `<${id}.${attribute}>`;
      })
      .join("");
    // The stack leaves out what the schema fills in again at cold start: put the defaults back.
    return withDefaults(JSON.parse(text), DEFAULT_CONFIG) as Record<string, unknown>;
  }

  /** The inverse of the stack's `withoutDefaults`: what a function's schema validation does. */
  function withDefaults(value: unknown, defaults: unknown): unknown {
    const isObject = (v: unknown): v is Record<string, unknown> =>
      typeof v === "object" && v !== null && !Array.isArray(v);
    if (!isObject(defaults)) return value === undefined ? defaults : value;
    const own = isObject(value) ? value : {};
    const merged: Record<string, unknown> = { ...own };
    for (const [name, fallback] of Object.entries(defaults)) merged[name] = withDefaults(own[name], fallback);
    return merged;
  }

  it("the deployed config leaves out the values the schema fills in (Lambda's 4 KB environment)", () => {
    const fn = responder("rogue-grant").function;
    const join = built.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables
      .KMS_RESPONDER_CONFIG as { "Fn::Join": [string, unknown[]] };
    const text = join["Fn::Join"][1].filter((p): p is string => typeof p === "string").join("");
    expect(text).not.toContain("exemptTagKey");
    expect(text).not.toContain("afterCancel");
    expect(text).toContain('"mode":"enforce"');
  });

  const reserved: Partial<Record<IncidentName, number>> = {
    "rogue-grant": 5,
    "key-deletion-scheduled": 1,
    "pending-deletion-key-used": 1,
    "key-policy-violation": 2,
    "key-disabled": 2,
  };

  it.each(INCIDENTS)("%s: runtime, arm64, memory, timeout, handler, reserved concurrency", (incident) => {
    const { Properties } = resource(responder(incident).function);
    expect(Properties).toMatchObject({
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      MemorySize: 256,
      Timeout: 60,
      Handler: "index.handler",
      Role: getAtt(responder(incident).role),
      LoggingConfig: { LogGroup: ref(responder(incident).function.logGroup) },
    });
    expect(Properties.ReservedConcurrentExecutions).toBe(reserved[incident]);
  });

  it("rogue-grant: its reserved concurrency keeps up with RevokeGrant's quota at the fastest invocation, and one more would exceed it", () => {
    const { Properties } = resource(responder("rogue-grant").function);
    const environments = Number(Properties.ReservedConcurrentExecutions);
    // One RevokeGrant per invocation: the most a second can see is environments / fastest invocation.
    const peak = (n: number) => n / FASTEST_REVOKING_INVOCATION_SECONDS;
    expect(REVOKE_GRANT_QUOTA).toBe(50);
    expect(peak(environments)).toBeLessThanOrEqual(REVOKE_GRANT_QUOTA);
    expect(peak(environments + 1)).toBeGreaterThan(REVOKE_GRANT_QUOTA);
  });

  it.each(INCIDENTS)("%s: environment (topic, the stack's config; no NODE_OPTIONS)", (incident) => {
    const { Properties } = resource(responder(incident).function);
    const env = (Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // No --enable-source-maps: reading the maps at every cold start cost more than the whole rest
    // of our code; stack traces are resolved afterwards by `kms-responder stack-trace`.
    expect(Object.keys(env).sort()).toEqual(["KMS_RESPONDER_CONFIG", "NOTIFICATION_TOPIC_ARN"]);
    expect(env.NOTIFICATION_TOPIC_ARN).toEqual(ref(built.stack.topic));

    const config = configOf(incident);
    const roleArns = [
      ...INCIDENTS.map((i) => responder(i).role),
      built.stack.runbook.role,
      built.stack.sweep.function.role,
    ].map((role) => `<${logicalId(role)}.Arn>`);
    expect(config.responderRoleArns).toEqual(roleArns);
    const notificationKey = `<${logicalId(built.stack.notificationKey)}.Arn>`;
    expect(config.ignoredKeys).toEqual([notificationKey]);
    // The one key the responders repair.
    expect(config.notificationKeyArn).toBe(notificationKey);
    // Everything else is the validated config, and the whole document passes the schema.
    // What is the stack's own (responder-tampered): its name prefix and the deployment role.
    expect(config.resourcePrefix).toBe(`${built.stack.stackName}-`);
    expect(config.deploymentRoleArns).toEqual([
      `<Sub:arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-\${AWS::AccountId}-\${AWS::Region}>`,
    ]);
    const { notificationKeyArn: _key, resourcePrefix: _prefix, ...rest } = config;
    expect({ ...rest, responderRoleArns: [], ignoredKeys: [], deploymentRoleArns: [] }).toEqual({
      ...parseConfig({ mode: "enforce" }),
      resourcePrefix: undefined,
    });
    // Deployed, each token is a role or key ARN: the schema takes exact role ARNs only.
    const deployed = [
      ...INCIDENTS.map((i) => responder(i).role),
      built.stack.runbook.role,
      built.stack.sweep.function.role,
    ].map((role) => `arn:aws:iam::111122223333:role/${logicalId(role)}`);
    const keyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(() =>
      parseConfig({
        ...config,
        responderRoleArns: deployed,
        notificationKeyArn: keyArn,
        deploymentRoleArns: [
          "arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1",
        ],
      }),
    ).not.toThrow();
  });

  it.each(INCIDENTS)("%s: async retries, max event age, on-failure queue, log retention", (incident) => {
    const r = responder(incident);
    built.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: ref(r.function),
      Qualifier: "$LATEST",
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: getAtt(failureQueue(incident)) } },
    });
    expect(resource(r.function.logGroup).Properties).toEqual({ RetentionInDays: 365 });
  });

  it("keeps user config and adds the stack's roles and key to it", () => {
    const custom = buildStack({
      config: parseConfig({
        mode: "notify",
        responderRoleArns: ["arn:aws:iam::111122223333:role/other-responder"],
        ignoredKeys: ["arn:aws:kms:us-east-1:111122223333:key/keep-out"],
      }),
    });
    try {
      const config = configOf("rogue-grant", custom);
      expect(config.mode).toBe("notify");
      expect(config.responderRoleArns).toEqual([
        "arn:aws:iam::111122223333:role/other-responder",
        ...INCIDENTS.map((i) => `<${logicalId(responder(i, custom).role)}.Arn>`),
        `<${logicalId(custom.stack.runbook.role)}.Arn>`,
        `<${logicalId(custom.stack.sweep.function.role)}.Arn>`,
      ]);
      expect(config.ignoredKeys).toEqual([
        "arn:aws:kms:us-east-1:111122223333:key/keep-out",
        `<${logicalId(custom.stack.notificationKey)}.Arn>`,
      ]);
    } finally {
      custom.cleanup();
    }
  });

  it("tags each function with the concurrency it reserves, and only those (the repair puts that value back)", () => {
    // Arrange
    const functions = Object.values(built.template.findResources("AWS::Lambda::Function")) as {
      Properties: { ReservedConcurrentExecutions?: number; Tags?: { Key: string; Value: string }[] };
    }[];
    const tagged = (fn: (typeof functions)[number]) =>
      fn.Properties.Tags?.find((t) => t.Key === "kms-responder:reserved-concurrency")?.Value;

    // Assert
    expect(functions.some((fn) => fn.Properties.ReservedConcurrentExecutions !== undefined)).toBe(true);
    for (const fn of functions) {
      const reserved = fn.Properties.ReservedConcurrentExecutions;
      expect(tagged(fn)).toBe(reserved === undefined ? undefined : String(reserved));
    }
  });

  it("reserves no concurrency when told not to (accounts with a low concurrency limit)", () => {
    const unreserved = buildStack({ reservedConcurrency: false });
    try {
      unreserved.template.resourcePropertiesCountIs(
        "AWS::Lambda::Function",
        { ReservedConcurrentExecutions: Match.anyValue() },
        0,
      );
    } finally {
      unreserved.cleanup();
    }
  });

  it("fails the synth with a clear message when a bundle is missing", () => {
    const partial = stubDist(["rogue-grant"]);
    try {
      expect(() => buildStack({ distDir: partial.dir })).toThrow(
        /alias-changed\/index\.mjs is missing: run "npm run build" first/,
      );
    } finally {
      partial.remove();
    }
  });

  it("fails the synth when the config cannot fit in a Lambda environment (4 KB)", () => {
    const big = parseConfig({
      trustedGranteePrincipals: Array.from({ length: 80 }, (_, i) => `arn:aws:iam::*:role/r${i}-*`),
    });
    expect(() => buildStack({ config: big })).toThrow(/too large for a Lambda environment/);
  });

  it("checks the config against the registry at synth: an option no incident declares fails, naming it", () => {
    // A config checked without the declarations (as a Lambda checks it) keeps what it does not know.
    const config = parseConfig({
      incidents: { "key-disabled": { colour: "red" }, "key-rotation-weakened": { maxPeriodDays: 30 } },
      scan: { enforce: ["later-incident"] },
    });

    expect(() => buildStack({ config })).toThrow(
      'invalid config: unknown field "incidents.key-disabled.colour"; ' +
        "incidents.key-rotation-weakened.maxPeriodDays: expected >=90, received number; " +
        'scan.enforce.0: Invalid option: expected one of "alias-changed"|',
    );
  });
});

describe("failure queues", () => {
  it.each(INCIDENTS)("%s: SSE, SSL only, 14 days", (incident) => {
    const queue = failureQueue(incident);
    expect(resource(queue).Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    built.template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [ref(queue)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "sqs:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });
});

describe("notifications", () => {
  const ROOT = {
    AWS: {
      "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::", { Ref: "AWS::AccountId" }, ":root"]],
    },
  };
  /** The bootstrap's CloudFormation execution role, as CloudFormation's Fn::Sub resolves it. */
  const cfnExecRole = (qualifier: string) => {
    const sub = `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/cdk-${qualifier}-cfn-exec-role-\${AWS::AccountId}-\${AWS::Region}`;
    return { "Fn::Sub": sub };
  };
  const CFN_EXEC_ROLE = cfnExecRole("hnb659fds");
  const ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
  ];
  const keyStatements = (stack: BuiltStack) => {
    const found = stack.template.toJSON().Resources[logicalId(stack.stack.notificationKey)];
    return found.Properties.KeyPolicy.Statement as Array<Record<string, unknown>>;
  };
  const topicStatements = (stack: BuiltStack) => {
    const policies = Object.values(
      stack.template.findResources("AWS::SNS::TopicPolicy", {
        Properties: { Topics: [ref(stack.stack.topic)] },
      }),
    );
    expect(policies).toHaveLength(1);
    return policies[0]?.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
  };

  it("encrypts the topic with the stack's own key, rotated", () => {
    expect(resource(built.stack.topic).Properties).toMatchObject({
      KmsMasterKeyId: getAtt(built.stack.notificationKey),
    });
    expect(resource(built.stack.notificationKey).Properties.EnableKeyRotation).toBe(true);
  });

  it("topic policy: TLS only; this account's alarms and the responder roles publish; every other principal is refused", () => {
    const topic = ref(built.stack.topic);
    expect(topicStatements(built)).toEqual([
      {
        Sid: "AllowPublishThroughSSLOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:Publish",
        Resource: topic,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "AlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topic,
        Condition: {
          StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
          ArnLike: {
            "aws:SourceArn": {
              "Fn::Join": [
                "",
                [
                  "arn:",
                  { Ref: "AWS::Partition" },
                  ":cloudwatch:",
                  { Ref: "AWS::Region" },
                  ":",
                  { Ref: "AWS::AccountId" },
                  ":alarm:*",
                ],
              ],
            },
          },
        },
      },
      {
        Sid: "RespondersPublish",
        Effect: "Allow",
        Principal: { AWS: allRoleArns() },
        Action: "sns:Publish",
        Resource: topic,
      },
      {
        Sid: "NoOtherPrincipalPublishes",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:Publish",
        Resource: topic,
        Condition: {
          ArnNotEquals: { "aws:PrincipalArn": allRoleArns() },
          Bool: { "aws:PrincipalIsAWSService": "false" },
        },
      },
    ]);
  });

  it("key policy: the account uses and reads it; only the deployment administers it; responders repair it; alarms use it", () => {
    expect(keyStatements(built)).toEqual([
      {
        Sid: "AccountUsesAndReadsTheKey",
        Effect: "Allow",
        Principal: ROOT,
        Action: [
          "kms:Decrypt",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
          "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus",
          "kms:ListGrants",
          "kms:ListKeyPolicies",
          "kms:ListKeyRotations",
          "kms:ListResourceTags",
        ],
        Resource: "*",
      },
      {
        Sid: "OnlyNamedAdminsAndTheDeploymentAdministerTheKey",
        Effect: "Allow",
        Principal: ROOT,
        Action: ADMIN_ACTIONS,
        Resource: "*",
        Condition: { ArnEquals: { "aws:PrincipalArn": [CFN_EXEC_ROLE] } },
      },
      {
        Sid: "RespondersRepairTheKey",
        Effect: "Allow",
        Principal: ROOT,
        Action: ["kms:EnableKey", "kms:CancelKeyDeletion"],
        Resource: "*",
        Condition: { ArnEquals: { "aws:PrincipalArn": allRoleArns() } },
      },
      {
        Sid: "AlarmsPublishToTheEncryptedTopic",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
      },
    ]);
  });

  it("key policy: no root kms:*, nothing administrative without a principal condition", () => {
    for (const statement of keyStatements(built)) {
      const actions = [statement.Action].flat() as string[];
      expect(actions).not.toContain("kms:*");
      const silencing = ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"];
      if (actions.some((a) => silencing.includes(a) || /^kms:(Disable|Put|Create)\*$/.test(a))) {
        expect(statement.Condition).toEqual({ ArnEquals: { "aws:PrincipalArn": expect.any(Array) } });
      }
    }
  });

  it("key policy: the configured administrators come before the deployment role", () => {
    const admins = [
      "arn:aws:iam::111122223333:role/security-admin",
      "arn:aws:iam::111122223333:user/breakglass",
    ];
    const custom = buildStack({ config: parseConfig({ notificationKeyAdmins: admins }) });
    try {
      expect(keyStatements(custom)[1]?.Condition).toEqual({
        ArnEquals: { "aws:PrincipalArn": [...admins, CFN_EXEC_ROLE] },
      });
    } finally {
      custom.cleanup();
    }
  });

  it("key policy: the deployment role follows the bootstrap qualifier", () => {
    const custom = buildStack({ synthesizer: new DefaultStackSynthesizer({ qualifier: "ir2024" }) });
    try {
      expect(keyStatements(custom)[1]?.Condition).toEqual({
        ArnEquals: {
          "aws:PrincipalArn": [cfnExecRole("ir2024")],
        },
      });
    } finally {
      custom.cleanup();
    }
  });

  it("key policy: a synthesizer that deploys with the caller's credentials needs named administrators", () => {
    expect(() => buildStack({ synthesizer: new CliCredentialsStackSynthesizer() })).toThrow(
      /the notification key would have no administrator: .* notificationKeyAdmins/,
    );
    const admin = "arn:aws:iam::111122223333:role/deployer";
    const custom = buildStack({
      synthesizer: new CliCredentialsStackSynthesizer(),
      config: parseConfig({ notificationKeyAdmins: [admin] }),
    });
    try {
      expect(keyStatements(custom)[1]?.Condition).toEqual({ ArnEquals: { "aws:PrincipalArn": [admin] } });
    } finally {
      custom.cleanup();
    }
  });
});

describe("alarms", () => {
  it("has three alarms per incident function and the sweep, two for the runbook, one on failed actions and the heartbeat's two, each notifying the topic", () => {
    const alarms = Object.values(built.template.findResources("AWS::CloudWatch::Alarm"));
    expect(alarms).toHaveLength(3 * INCIDENTS.length + 3 + 2 + 1 + 2);
    built.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "kms-responder",
      MetricName: "Actions",
      Dimensions: [
        { Name: "service", Value: "kms-responder" },
        { Name: "status", Value: "failed" },
      ],
      Statistic: "Sum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
    built.template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([ref(built.stack.topic)]);
  });

  it.each(INCIDENTS)("%s: errors, throttles and failure-queue depth", (incident) => {
    const r = responder(incident);
    const common = {
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 1,
      EvaluationPeriods: 1,
      Period: 300,
      TreatMissingData: "notBreaching",
      AlarmActions: [ref(built.stack.topic)],
    };
    for (const metric of ["Errors", "Throttles"]) {
      built.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        ...common,
        Namespace: "AWS/Lambda",
        MetricName: metric,
        Statistic: "Sum",
        Dimensions: [{ Name: "FunctionName", Value: ref(r.function) }],
      });
    }
    built.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...common,
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Statistic: "Maximum",
      Dimensions: [{ Name: "QueueName", Value: getAtt(failureQueue(incident), "QueueName") }],
    });
  });
});

describe("heartbeat", () => {
  const hb = () => built.stack.heartbeat;

  it("a schedule touches the canary key's description every 5 minutes, with a role that may do only that", () => {
    const { Properties } = resource(hb().schedule);
    expect(Properties.ScheduleExpression).toBe("rate(5 minutes)");
    expect(Properties.FlexibleTimeWindow).toEqual({ Mode: "OFF" });
    const target = Properties.Target as { Arn: string; Input: unknown };
    expect(target.Arn).toBe("arn:aws:scheduler:::aws-sdk:kms:updateKeyDescription");
    expect(JSON.stringify(target.Input)).toContain(logicalId(hb().canaryKey));
    built.template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [
          { Action: "kms:UpdateKeyDescription", Effect: "Allow", Resource: getAtt(hb().canaryKey) },
        ],
      },
    });
  });

  it("a rule takes exactly the canary key's successful UpdateKeyDescription made by the schedule's role", () => {
    const { Properties } = resource(hb().rule);
    const scheduleRole = hb().scheduleRole;
    expect(Properties.EventPattern).toEqual({
      source: ["aws.kms"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["kms.amazonaws.com"],
        eventName: ["UpdateKeyDescription"],
        errorCode: [{ exists: false }],
        requestParameters: { keyId: [getAtt(hb().canaryKey)] },
        userIdentity: { sessionContext: { sessionIssuer: { arn: [getAtt(scheduleRole)] } } },
      },
    });
    expect(resource(scheduleRole).Properties.Path).toBe("/kms-responder-heartbeat/");
  });

  it("a touch of the canary by anyone but the schedule goes to a log group of its own, and alarms at the first", () => {
    const { Properties } = resource(hb().touchRule);
    const pattern = Properties.EventPattern as Parameters<typeof matchesPattern>[0];
    expect(pattern).toEqual({
      source: ["aws.kms"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["kms.amazonaws.com"],
        eventName: ["UpdateKeyDescription"],
        resources: { ARN: [getAtt(hb().canaryKey)] },
        userIdentity: {
          $or: [
            { sessionContext: { sessionIssuer: { arn: [{ "anything-but": [getAtt(hb().scheduleRole)] }] } } },
            { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } },
          ],
        },
      },
    });
    // Not the beats' log group: a touch is never counted as a beat.
    expect(JSON.stringify(Properties.Targets)).not.toEqual(
      JSON.stringify(resource(hb().rule).Properties.Targets),
    );
    built.template.hasResourceProperties("AWS::Logs::MetricFilter", {
      MetricTransformations: [
        { MetricNamespace: "kms-responder", MetricName: "CanaryTouchedByOthers", MetricValue: "1" },
      ],
    });
    expect(resource(hb().touchAlarm).Properties).toMatchObject({
      Namespace: "kms-responder",
      MetricName: "CanaryTouchedByOthers",
      Statistic: "Sum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [ref(built.stack.topic)],
    });
  });

  it("counts each beat by account and Region, and alarms to the topic after 2 x 15 minutes without one (missing data breaching)", () => {
    built.template.hasResourceProperties("AWS::Logs::MetricFilter", {
      MetricTransformations: [
        {
          MetricNamespace: "kms-responder",
          MetricName: "Heartbeat",
          MetricValue: "1",
          Dimensions: [
            { Key: "account", Value: "$.detail.recipientAccountId" },
            { Key: "region", Value: "$.detail.awsRegion" },
          ],
        },
      ],
    });
    const { Properties } = resource(hb().alarm);
    expect(Properties).toMatchObject({
      Namespace: "kms-responder",
      MetricName: "Heartbeat",
      Statistic: "Sum",
      Period: 900,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
      AlarmActions: [ref(built.stack.topic)],
    });
  });
});
