/**
 * The central responder (config with `organization`): the organisation bus and its policy, the
 * incident rules on it, the functions' member-role scope, the service-managed StackSet, and the
 * member template it embeds (member role, forwarding rules); cdk-nag and cfn-lint on both.
 */
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchesPattern } from "../../emulator/event-pattern.js";
import { INCIDENTS } from "../../functions/registry.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { ALL_MANAGEMENT_EVENTS, type Incident } from "../../functions/shared/incident.js";
import { rolePermissions } from "../../functions/shared/permissions.js";
import { notByResponder } from "../../functions/shared/rule.js";
import { HEARTBEAT_DESCRIPTION } from "../../infra/heartbeat.js";
import { forwardingRules, MEMBER_KEY_WILDCARD_FINDING, MemberStack } from "../../infra/member-template.js";
import { memberPermissionsOf } from "../../infra/organization.js";
import { runbookPermissions } from "../../infra/runbook.js";
import { sweepPermissions } from "../../infra/scan.js";
import { CFN_LINT_TIMEOUT_MS, cfnLint, hasCfnLint } from "../helpers/cfn-lint.js";
import { type BuiltStack, buildStack, getAtt, logicalId } from "./stack-fixture.js";

const ORG = {
  id: "o-a1b2c3d4e5",
  regions: ["us-east-1", "eu-west-1"],
  organizationalUnitIds: ["ou-ab12-cdefgh34"],
  heartbeatAccounts: ["222233334444", "333344445555"],
};
const orgConfig = (extra: ConfigInput = {}) => parseConfig({ mode: "enforce", organization: ORG, ...extra });
const DECLARED: readonly Incident[] = INCIDENTS;

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json; Condition?: string };
const resourcesOf = (template: Json, type: string): Array<[string, Resource]> =>
  Object.entries(template.Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);

let built: BuiltStack;
let central: Json;
let member: Json;
beforeAll(() => {
  built = buildStack({ config: orgConfig() });
  central = built.template.toJSON();
  const [, stackSet] = resourcesOf(central, "AWS::CloudFormation::StackSet")[0] ?? [];
  member = JSON.parse(String(stackSet?.Properties.TemplateBody)) as Json;
});
afterAll(() => built.cleanup());

describe("rolePermissions for a central responder", () => {
  it.each(DECLARED.map((i) => [i.name, i] as const))(
    "%s: sts:AssumeRole exactly when it reads or acts on keys, DescribeAccount always, and only with an organization",
    (_name, incident) => {
      // Act
      const single = rolePermissions(incident, parseConfig({ mode: "enforce" }));
      const org = rolePermissions(incident, orgConfig());

      // Assess
      expect(single.other).not.toContain("sts:AssumeRole");
      expect(single.other).not.toContain("organizations:DescribeAccount");
      expect(org.kms).toEqual(single.kms);
      // With the organisation named in the config, nothing needs to learn it (DescribeOrganization).
      const known = single.other.filter((a) => !a.startsWith("organizations:"));
      const assume = single.kms.length ? ["sts:AssumeRole"] : [];
      // Every central function notifies, naming the account by its name in the organisation.
      expect(org.other).toEqual([...known, ...assume, "organizations:DescribeAccount"]);
    },
  );

  it("an incident that is off assumes nothing", () => {
    const off = orgConfig({ incidents: { "rogue-grant": { mode: "off" } } });
    const rogue = DECLARED.find((i) => i.name === "rogue-grant");
    if (!rogue) throw new Error("rogue-grant is not registered");
    expect(rolePermissions(rogue, off)).toEqual({ kms: [], other: [] });
  });
});

describe("central stack: the organisation bus", () => {
  it("admits events:PutEvents only from the organisation", () => {
    built.template.resourceCountIs("AWS::Events::EventBus", 1);
    built.template.resourceCountIs("AWS::Events::EventBusPolicy", 0);
    const [[id, bus] = ["", { Properties: {} } as Resource]] = resourcesOf(central, "AWS::Events::EventBus");
    expect(id).toBe(logicalId(built.stack.organization?.bus ?? built.stack));
    expect(bus.Properties.Name).toBe("kms-responder-organization");
    expect(bus.Properties.Policy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OrganizationForwardsKmsEvents",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "events:PutEvents",
          Resource: {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":events:",
                { Ref: "AWS::Region" },
                ":",
                { Ref: "AWS::AccountId" },
                ":event-bus/kms-responder-organization",
              ],
            ],
          },
          Condition: { StringEquals: { "aws:PrincipalOrgID": ORG.id } },
        },
      ],
    });
  });

  it("outputs the bus ARN", () => {
    const bus = built.stack.organization?.bus;
    if (!bus) throw new Error("no organisation bus");
    built.template.hasOutput("OrganizationEventBusArn", { Value: getAtt(bus) });
  });

  it("has every incident's rule on the bus and on the default bus, same pattern, state and function", () => {
    const bus = built.stack.organization?.bus;
    if (!bus) throw new Error("no organisation bus");
    const rules = resourcesOf(central, "AWS::Events::Rule");
    // And the sweep's schedule, which starts the state machine, the heartbeat's rules (the
    // stack's own canary on the default bus, the members' canaries on the organisation bus, and
    // the canary touches on both), and the hourly schedule of the member heartbeat alarms.
    expect(rules).toHaveLength(2 * DECLARED.length + 6);
    for (const incident of DECLARED) {
      const onDefault = built.stack.rules.get(incident.name as never);
      const onBus = built.stack.organizationRules.get(incident.name as never);
      if (!onDefault || !onBus) throw new Error(`${incident.name}: rule missing`);
      const props = (rule: typeof onBus) =>
        (central.Resources as Record<string, Resource>)[logicalId(rule)]?.Properties ?? {};
      const a = props(onDefault);
      const b = props(onBus);
      expect(a.EventBusName, incident.name).toBeUndefined();
      expect(b.EventBusName, incident.name).toEqual({ Ref: logicalId(bus) });
      expect(b.EventPattern, incident.name).toEqual(a.EventPattern);
      expect(b.State, incident.name).toEqual(a.State);
      expect(b.State, incident.name).toBe(incident.ruleState ?? "ENABLED");
      const target = (p: Json) => (p.Targets as Json[])[0]?.Arn;
      expect(target(b), incident.name).toEqual(target(a));
    }
  });

  it("has no bus, StackSet or member role access without an organization", () => {
    const single = buildStack();
    try {
      single.template.resourceCountIs("AWS::Events::EventBus", 0);
      single.template.resourceCountIs("AWS::CloudFormation::StackSet", 0);
      expect(JSON.stringify(single.template.toJSON())).not.toContain("AssumeTheMemberRole");
      expect(single.stack.organization).toBeUndefined();
    } finally {
      single.cleanup();
    }
  });
});

/** A role's inline policy statements, by its construct's role. */
function statementsOf(roleId: string): Json[] {
  const policies = resourcesOf(central, "AWS::IAM::Policy").filter(([, p]) =>
    (p.Properties.Roles as Json[]).some((r) => (r as { Ref?: string }).Ref === roleId),
  );
  return policies.flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement);
}

const keyArn = (region: string | { Ref: string }) => ({
  "Fn::Join": [
    "",
    typeof region === "string"
      ? ["arn:", { Ref: "AWS::Partition" }, `:kms:${region}:`, { Ref: "AWS::AccountId" }, ":key/*"]
      : ["arn:", { Ref: "AWS::Partition" }, ":kms:", region, ":", { Ref: "AWS::AccountId" }, ":key/*"],
  ],
});

describe("central stack: the functions' roles", () => {
  const functions = () => [
    ...[...built.stack.responders].map(([name, f]) => [name, f] as const),
    ["runbook", built.stack.runbook] as const,
  ];

  it("act on the central account's own keys in its Region and every configured Region, never another account's", () => {
    for (const [name, fn] of functions()) {
      const own = statementsOf(logicalId(fn.role)).filter((s) =>
        ["IncidentActions", "RunbookActions"].includes(String(s.Sid)),
      );
      for (const statement of own) {
        expect(statement.Resource, name).toEqual([
          keyArn({ Ref: "AWS::Region" }),
          keyArn("us-east-1"),
          keyArn("eu-west-1"),
        ]);
      }
    }
  });

  it("assume only the member role name, inside the organisation, and only when they touch keys", () => {
    const assumers: string[] = [];
    for (const [name, fn] of functions()) {
      const statements = statementsOf(logicalId(fn.role));
      const assume = statements.filter((s) => JSON.stringify(s.Action).includes("sts:"));
      const touchesKeys = statements.some((s) =>
        ["IncidentActions", "RunbookActions"].includes(String(s.Sid)),
      );
      if (!touchesKeys) {
        expect(assume, name).toEqual([]);
        continue;
      }
      assumers.push(name);
      expect(assume, name).toEqual([
        {
          Sid: "AssumeTheMemberRole",
          Effect: "Allow",
          Action: ["sts:AssumeRole", "sts:SetSourceIdentity"],
          Resource: {
            "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::*:role/kms-responder-member"]],
          },
          Condition: { StringEquals: { "aws:ResourceOrgID": ORG.id } },
        },
      ]);
    }
    // Exactly the functions whose derived role touches keys (the runbook always does).
    const config = orgConfig();
    const expected = DECLARED.filter((i) => rolePermissions(i, config).kms.length).map((i) => i.name);
    expect(assumers.sort()).toEqual([...expected, "runbook"].sort());
  });
});

describe("central stack: naming the organisation's accounts", () => {
  const describeAccount = {
    Sid: "NameTheOrganisationsAccounts",
    Effect: "Allow",
    Action: "organizations:DescribeAccount",
    Resource: {
      "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, `:organizations::*:account/${ORG.id}/*`]],
    },
  };

  it("every central function (incidents, runbook, sweep) may DescribeAccount on the organisation's accounts only", () => {
    const roles = [
      ...[...built.stack.responders].map(([name, f]) => [name, f.role] as const),
      ["runbook", built.stack.runbook.role] as const,
      ["scan", built.stack.sweep.function.role] as const,
    ];
    for (const [name, role] of roles) {
      if (!role) throw new Error(`${name} has no role`);
      const statements = statementsOf(logicalId(role));
      const naming = statements.filter((s) =>
        JSON.stringify(s.Action).includes("organizations:DescribeAccount"),
      );
      expect(naming, name).toEqual([describeAccount]);
    }
  });

  it("the member role cannot name accounts, and a single-account stack never asks", () => {
    expect(JSON.stringify(member)).not.toContain("organizations:DescribeAccount");
    const single = buildStack();
    try {
      expect(JSON.stringify(single.template.toJSON())).not.toContain("organizations:DescribeAccount");
    } finally {
      single.cleanup();
    }
  });
});

describe("central stack: the member StackSet", () => {
  const stackSet = () => {
    const found = resourcesOf(central, "AWS::CloudFormation::StackSet");
    expect(found).toHaveLength(1);
    const [[, resource] = ["", { Properties: {} } as Resource]] = found;
    return resource.Properties;
  };

  it("is service-managed, auto-deployed to the units in the Regions, as a delegated administrator", () => {
    const props = stackSet();
    expect(props.StackSetName).toBe("kms-responder-member");
    expect(props.PermissionModel).toBe("SERVICE_MANAGED");
    expect(props.AutoDeployment).toEqual({ Enabled: true, RetainStacksOnAccountRemoval: false });
    expect(props.CallAs).toBe("DELEGATED_ADMIN");
    expect(props.Capabilities).toEqual(["CAPABILITY_NAMED_IAM"]);
    expect(props.StackInstancesGroup).toEqual([
      { DeploymentTargets: { OrganizationalUnitIds: ORG.organizationalUnitIds }, Regions: ORG.regions },
    ]);
  });

  it("passes the bus ARN and exactly the roles that assume the member role", () => {
    const bus = built.stack.organization?.bus;
    if (!bus) throw new Error("no organisation bus");
    const roles = [...built.stack.responders.values()]
      .filter((f) => statementsOf(logicalId(f.role)).some((s) => s.Sid === "AssumeTheMemberRole"))
      .map((f) => getAtt(f.role));
    expect(stackSet().Parameters).toEqual([
      { ParameterKey: "CentralBusArn", ParameterValue: getAtt(bus) },
      {
        ParameterKey: "CentralRoleArns",
        ParameterValue: {
          "Fn::Join": [
            ",",
            [...roles, getAtt(built.stack.runbook.role), getAtt(built.stack.sweep.function.role)],
          ],
        },
      },
    ]);
  });

  it("can be created from the management account (stackSetCallAs SELF)", () => {
    const self = buildStack({ config: orgConfig(), stackSetCallAs: "SELF" });
    try {
      self.template.hasResourceProperties("AWS::CloudFormation::StackSet", { CallAs: "SELF" });
    } finally {
      self.cleanup();
    }
  });

  it("embeds the member template, the same one the app synthesizes as a stack of its own", () => {
    expect(member).toEqual(built.stack.organization?.memberTemplate);
    const app = new App({ builtinCloudFormationValidation: false });
    const props = built.stack.organization?.memberProps;
    if (!props) throw new Error("no member props");
    const alone = new MemberStack(app, "kms-responder-member", props);
    expect(Template.fromStack(alone).toJSON()).toEqual(member);
  });
});

describe("member template", () => {
  const resources = () => member.Resources as Record<string, Resource>;
  const resource = (id: string): Resource => {
    const found = resources()[id];
    if (!found) throw new Error(`member template has no ${id}`);
    return found;
  };

  it("takes the central bus and roles as parameters, and needs no CDK bootstrap", () => {
    expect(Object.keys(member.Parameters as Json).sort()).toEqual(["CentralBusArn", "CentralRoleArns"]);
    expect((member.Parameters as Record<string, Json>).CentralRoleArns?.Type).toBe("CommaDelimitedList");
    expect(member.Rules).toBeUndefined();
    expect(JSON.stringify(member)).not.toContain("BootstrapVersion");
    expect(JSON.stringify(member)).not.toContain("AWS::Lambda::");
  });

  it("creates the member role in the first Region only, trusting exactly the central roles", () => {
    expect(member.Conditions).toMatchObject({
      CreatesMemberRole: { "Fn::Equals": [{ Ref: "AWS::Region" }, "us-east-1"] },
    });
    const role = resources().MemberRole;
    expect(role?.Condition).toBe("CreatesMemberRole");
    expect(role?.Properties.RoleName).toBe("kms-responder-member");
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: { Ref: "CentralRoleArns" } },
          // Only sessions marked with the responder's SourceIdentity: the loop prevention trusts exactly those.
          Action: ["sts:AssumeRole", "sts:SetSourceIdentity"],
          Condition: { StringEquals: { "sts:SourceIdentity": "kms-responder" } },
        },
      ],
    });
  });

  it("gives the member role the union of the central functions' KMS actions on this account's keys, no kms:*", () => {
    const config = orgConfig();
    const union = memberPermissionsOf([
      ...DECLARED.map((i) => rolePermissions(i, config)),
      runbookPermissions(config),
      sweepPermissions(config),
    ]);
    const [policy] = resource("MemberRole").Properties.Policies as Array<{
      PolicyDocument: { Statement: Json[] };
    }>;
    expect(policy?.PolicyDocument.Statement).toEqual([
      {
        Sid: "ActOnThisAccountsKeys",
        Effect: "Allow",
        Action: union.kms,
        Resource: {
          "Fn::Join": [
            "",
            ["arn:", { Ref: "AWS::Partition" }, ":kms:*:", { Ref: "AWS::AccountId" }, ":key/*"],
          ],
        },
      },
      { Sid: "ReadOnlyWithoutResourceArn", Effect: "Allow", Action: union.resourceless, Resource: "*" },
    ]);
    expect(union.resourceless).toContain("cloudtrail:LookupEvents");
    expect(union.resourceless).not.toContain("sts:AssumeRole");
    expect(union.kms).toContain("kms:RevokeGrant");
    expect(union.kms).toContain("kms:CancelKeyDeletion");
    expect(union.kms.every((a) => a.startsWith("kms:") && !a.includes("*"))).toBe(true);
  });

  it("reads CloudTrail history only for the sweep's exempt tags when no other central function does (afterCancel keep-disabled, the history readers off)", () => {
    // These incidents read a key's earlier calls (the period it had, the material's import, the
    // approved deletion) whatever afterCancel says.
    const off = { mode: "off" } as const;
    const incidents = {
      "key-deleted": off,
      "key-material-deleted": off,
      "key-material-imported": off,
      "key-rotation-disabled": off,
      "key-rotation-weakened": off,
    };
    const other = buildStack({ config: orgConfig({ afterCancel: "keep-disabled", incidents }) });
    try {
      const body = other.stack.organization?.memberTemplate as Json;
      const role = (body.Resources as Record<string, Resource>).MemberRole;
      // The sweep reads who set an exempt tag (LookupEvents, read-only); nothing else of CloudTrail.
      expect(JSON.stringify(role).match(/cloudtrail:[A-Za-z]+/g)).toEqual(["cloudtrail:LookupEvents"]);
      expect(sweepPermissions(parseConfig({})).other).toContain("cloudtrail:LookupEvents");
    } finally {
      other.cleanup();
    }
  });

  it("forwards with a role allowed only events:PutEvents on the central bus", () => {
    const role = resource("ForwardingRole");
    expect(role.Condition).toBe("ForwardsToCentralBus");
    expect(role.Properties.RoleName).toBeUndefined();
    expect((role.Properties.AssumeRolePolicyDocument as { Statement: Json[] }).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
      },
    ]);
    expect(role.Properties.Policies).toEqual([
      {
        PolicyName: "put-events-on-the-central-bus",
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "events:PutEvents", Resource: { Ref: "CentralBusArn" } }],
        },
      },
    ]);
  });

  it("has one forwarding rule per incident: its pattern without the member role's calls, its state, to the bus", () => {
    const rules = Object.entries(resources()).filter(
      ([id, r]) => r.Type === "AWS::Events::Rule" && id !== "CanaryForward",
    );
    expect(rules).toHaveLength(DECLARED.length);
    const memberRole = {
      // CloudFormation's own substitution syntax (`${...}`), not a JavaScript template.
      "Fn::Sub": `arn:$\{AWS::Partition}:iam::$\{AWS::AccountId}:role/kms-responder-member`,
    };
    for (const incident of DECLARED) {
      const rule = resources()[`${incident.name.replaceAll("-", "")}forward`];
      if (!rule) throw new Error(`${incident.name}: no forwarding rule`);
      expect(rule.Condition).toBe("ForwardsToCentralBus");
      const expected = incident.pattern(notByResponder(["MEMBER_ROLE"]));
      expect(JSON.stringify(rule.Properties.EventPattern)).toBe(
        JSON.stringify(expected).replace('"MEMBER_ROLE"', JSON.stringify(memberRole)),
      );
      expect(rule.Properties.State).toBe(incident.ruleState ?? "ENABLED");
      expect(rule.Properties.Targets).toEqual([
        {
          Id: "central-bus",
          Arn: { Ref: "CentralBusArn" },
          RoleArn: { "Fn::GetAtt": ["ForwardingRole", "Arn"] },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        },
      ]);
    }
    expect(DECLARED.some((i) => i.ruleState === ALL_MANAGEMENT_EVENTS)).toBe(true);
  });

  it("does not forward in the central account's own Region (its default-bus rules see the events)", () => {
    expect((member.Conditions as Json).ForwardsToCentralBus).toEqual({
      "Fn::Not": [
        {
          "Fn::And": [
            {
              "Fn::Equals": [
                { Ref: "AWS::AccountId" },
                { "Fn::Select": [4, { "Fn::Split": [":", { Ref: "CentralBusArn" }] }] },
              ],
            },
            {
              "Fn::Equals": [
                { Ref: "AWS::Region" },
                { "Fn::Select": [3, { "Fn::Split": [":", { Ref: "CentralBusArn" }] }] },
              ],
            },
          ],
        },
      ],
    });
  });

  it("forwards nothing for an incident that is off", () => {
    const off = orgConfig({ incidents: { "alias-changed": { mode: "off" } } });
    expect(
      forwardingRules(off, "arn:aws:iam::222233334444:role/kms-responder-member", INCIDENTS).map(
        (r) => r.incident,
      ),
    ).toEqual(DECLARED.map((i) => i.name).filter((n) => n !== "alias-changed"));
  });
});

describe("member template: the heartbeat's canary path", () => {
  const resources = () => member.Resources as Record<string, Resource>;
  const canary = (id: string): Resource => {
    const found = resources()[id];
    if (!found) throw new Error(`member template has no ${id}`);
    return found;
  };

  it("has its own canary key, a schedule touching it every 5 minutes through a role allowed only that", () => {
    const key = canary("CanaryKey");
    expect(key.Type).toBe("AWS::KMS::Key");
    expect(key.Properties.Description).toBe(HEARTBEAT_DESCRIPTION);
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const schedule = canary("CanarySchedule");
    expect(schedule.Type).toBe("AWS::Scheduler::Schedule");
    expect(schedule.Properties.ScheduleExpression).toBe("rate(5 minutes)");
    const target = schedule.Properties.Target as Json;
    expect(target.Arn).toBe("arn:aws:scheduler:::aws-sdk:kms:updateKeyDescription");
    expect(target.RoleArn).toEqual({ "Fn::GetAtt": ["CanaryScheduleRole", "Arn"] });
    expect(target.Input).toEqual({
      "Fn::Join": [
        "",
        ['{"KeyId":"', { "Fn::GetAtt": ["CanaryKey", "Arn"] }, `","Description":"${HEARTBEAT_DESCRIPTION}"}`],
      ],
    });
    const role = canary("CanaryScheduleRole");
    // The central rule counts a beat only from a role on this path.
    expect(role.Properties.Path).toBe("/kms-responder-heartbeat/");
    expect((role.Properties.AssumeRolePolicyDocument as { Statement: Json[] }).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
      },
    ]);
    expect(role.Properties.Policies).toEqual([
      {
        PolicyName: "touch-the-canary",
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "kms:UpdateKeyDescription",
              Resource: { "Fn::GetAtt": ["CanaryKey", "Arn"] },
            },
          ],
        },
      },
    ]);
  });

  it("forwards exactly that key's UpdateKeyDescription to the central bus, except in the central account's own Region", () => {
    const rule = canary("CanaryForward");
    expect(rule.Properties.EventPattern).toEqual({
      source: ["aws.kms"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["kms.amazonaws.com"],
        eventName: ["UpdateKeyDescription"],
        errorCode: [{ exists: false }],
        resources: { ARN: [{ "Fn::GetAtt": ["CanaryKey", "Arn"] }] },
      },
    });
    expect(rule.Properties.Targets).toEqual([
      {
        Id: "central-bus",
        Arn: { Ref: "CentralBusArn" },
        RoleArn: { "Fn::GetAtt": ["ForwardingRole", "Arn"] },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    ]);
    for (const id of ["CanaryKey", "CanaryScheduleRole", "CanarySchedule", "CanaryForward"])
      expect(canary(id).Condition, id).toBe("ForwardsToCentralBus");
  });
});

describe("central stack: the members' heartbeats", () => {
  const alarms = () =>
    resourcesOf(central, "AWS::CloudWatch::Alarm").filter(([, a]) => a.Properties.MetricName === "Heartbeat");

  it("counts the members' canaries from the organisation bus into the heartbeat log group", () => {
    const bus = built.stack.organization?.bus;
    if (!bus) throw new Error("no organisation bus");
    const onBus = resourcesOf(central, "AWS::Events::Rule").filter(
      ([, r]) =>
        JSON.stringify(r.Properties.EventBusName) === JSON.stringify({ Ref: logicalId(bus) }) &&
        JSON.stringify(r.Properties.EventPattern ?? {}).includes("UpdateKeyDescription") &&
        // The rule of the touches by anyone else is below.
        !String(r.Properties.Description).includes("touched by someone other"),
    );
    expect(onBus).toHaveLength(1);
    const [[, rule] = ["", { Properties: {} } as Resource]] = onBus;
    expect(rule.Properties.EventPattern).toEqual({
      source: ["aws.kms"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["kms.amazonaws.com"],
        eventName: ["UpdateKeyDescription"],
        errorCode: [{ exists: false }],
        requestParameters: { description: [HEARTBEAT_DESCRIPTION] },
        userIdentity: {
          sessionContext: {
            sessionIssuer: { arn: [{ wildcard: "arn:*:iam::*:role/kms-responder-heartbeat/*" }] },
          },
        },
      },
    });
    // A member's schedule role beats; anyone else touching a canary (the same call, the same
    // description) does not.
    const beat = (issuer: string) => ({
      source: "aws.kms",
      "detail-type": "AWS API Call via CloudTrail",
      detail: {
        eventSource: "kms.amazonaws.com",
        eventName: "UpdateKeyDescription",
        requestParameters: {
          keyId: "arn:aws:kms:eu-west-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab",
          description: HEARTBEAT_DESCRIPTION,
        },
        userIdentity: {
          type: "AssumedRole",
          sessionContext: { sessionIssuer: { type: "Role", arn: issuer } },
        },
      },
    });
    const pattern = rule.Properties.EventPattern as Parameters<typeof matchesPattern>[0];
    expect(
      matchesPattern(
        pattern,
        beat(
          "arn:aws:iam::222233334444:role/kms-responder-heartbeat/kms-responder-member-CanaryScheduleRole-AbC",
        ),
      ),
    ).toBe(true);
    expect(matchesPattern(pattern, beat("arn:aws:iam::222233334444:role/Developer"))).toBe(false);
    expect(matchesPattern(pattern, beat("arn:aws:iam::222233334444:role/kms-responder-heartbeat"))).toBe(
      false,
    );
    // Anyone else's touch of a member canary goes to the touches' log group (any description:
    // only the canary forwards send UpdateKeyDescription to this bus), never the beats'.
    const touchRules = resourcesOf(central, "AWS::Events::Rule").filter(
      ([, r]) =>
        JSON.stringify(r.Properties.EventBusName) === JSON.stringify({ Ref: logicalId(bus) }) &&
        String(r.Properties.Description).includes("touched by someone other"),
    );
    expect(touchRules).toHaveLength(1);
    const [[, touchRule] = ["", { Properties: {} } as Resource]] = touchRules;
    const touch = touchRule.Properties.EventPattern as Parameters<typeof matchesPattern>[0];
    expect(touch).toEqual({
      source: ["aws.kms"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["kms.amazonaws.com"],
        eventName: ["UpdateKeyDescription"],
        userIdentity: {
          $or: [
            {
              sessionContext: {
                sessionIssuer: {
                  arn: [{ "anything-but": { wildcard: "arn:*:iam::*:role/kms-responder-heartbeat/*" } }],
                },
              },
            },
            { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } },
          ],
        },
      },
    });
    const forged = beat("arn:aws:iam::222233334444:role/Developer");
    expect(matchesPattern(touch, forged)).toBe(true);
    const byUser = structuredClone(forged);
    byUser.detail.userIdentity = { type: "IAMUser", arn: "arn:aws:iam::222233334444:user/mallory" } as never;
    expect(matchesPattern(touch, byUser)).toBe(true);
    expect(
      matchesPattern(
        touch,
        beat(
          "arn:aws:iam::222233334444:role/kms-responder-heartbeat/kms-responder-member-CanaryScheduleRole-AbC",
        ),
      ),
    ).toBe(false);
    expect(JSON.stringify(touchRule.Properties.Targets)).not.toEqual(JSON.stringify(rule.Properties.Targets));
    // No incident watches UpdateKeyDescription: only the canary forwards bring it to this bus.
    expect(DECLARED.filter((i) => i.eventNames.includes("UpdateKeyDescription"))).toEqual([]);

    const [[, filter] = ["", { Properties: {} } as Resource]] = resourcesOf(
      central,
      "AWS::Logs::MetricFilter",
    ).filter(([, f]) => JSON.stringify(f.Properties.MetricTransformations).includes('"Heartbeat"'));
    const [[, ownRule] = ["", { Properties: {} } as Resource]] = resourcesOf(
      central,
      "AWS::Events::Rule",
    ).filter(
      ([, r]) =>
        r.Properties.EventBusName === undefined &&
        JSON.stringify(r.Properties.EventPattern ?? {}).includes("UpdateKeyDescription") &&
        !String(r.Properties.Description).includes("touched by someone other"),
    );
    // Both rules write to the log group the metric filter counts.
    const logGroup = { "Fn::GetAtt": [(filter.Properties.LogGroupName as { Ref: string }).Ref, "Arn"] };
    expect((rule.Properties.Targets as Json[])[0]?.Arn).toEqual(logGroup);
    expect((ownRule.Properties.Targets as Json[])[0]?.Arn).toEqual(logGroup);
    expect(filter.Properties.MetricTransformations).toEqual([
      expect.objectContaining({
        MetricName: "Heartbeat",
        Dimensions: [
          { Key: "account", Value: "$.detail.recipientAccountId" },
          { Key: "region", Value: "$.detail.awsRegion" },
        ],
      }),
    ]);
  });

  it("has one alarm per listed account and Region, named after them, missing data breaching, to the topic", () => {
    const members = alarms().filter(([, a]) => String(a.Properties.AlarmName ?? "").includes("-heartbeat-"));
    const pairs = ORG.heartbeatAccounts.flatMap((account) => ORG.regions.map((region) => [account, region]));
    expect(members).toHaveLength(pairs.length);
    for (const [account, region] of pairs) {
      const found = members.find(
        ([, a]) => a.Properties.AlarmName === `kms-responder-heartbeat-${account}-${region}`,
      );
      if (!found) throw new Error(`no heartbeat alarm for ${account} ${region}`);
      const [, alarm] = found;
      expect(alarm.Properties).toMatchObject({
        Namespace: "kms-responder",
        MetricName: "Heartbeat",
        Dimensions: [
          { Name: "account", Value: account },
          { Name: "region", Value: region },
        ],
        Statistic: "Sum",
        Period: 900,
        EvaluationPeriods: 2,
        Threshold: 1,
        ComparisonOperator: "LessThanThreshold",
        TreatMissingData: "breaching",
        AlarmActions: [{ Ref: logicalId(built.stack.topic) }],
      });
      expect(String(alarm.Properties.AlarmDescription)).toContain(`member account ${account} in ${region}`);
    }
    // The list is the stack's alone: the functions' environment does not carry it.
    for (const [, fn] of resourcesOf(central, "AWS::Lambda::Function"))
      expect(JSON.stringify(fn.Properties.Environment ?? {})).not.toContain("222233334444");
  });

  it("has no member alarm without heartbeatAccounts, and refuses more alarms than the stack can hold", () => {
    const { heartbeatAccounts: _, ...withoutAccounts } = ORG;
    const none = buildStack({ config: parseConfig({ mode: "enforce", organization: withoutAccounts }) });
    try {
      expect(none.stack.heartbeat.memberAlarms.size).toBe(0);
    } finally {
      none.cleanup();
    }
    const many = Array.from({ length: 91 }, (_, i) => String(100000000000 + i));
    expect(() =>
      buildStack({ config: orgConfig({ organization: { ...ORG, heartbeatAccounts: many } }) }),
    ).toThrow(
      /organization\.heartbeatAccounts: 91 accounts x 2 Regions is 182 heartbeat alarms, over the 180/,
    );
    // The most it allows fits CloudFormation's 500 resources (the synth checks the count).
    const most = buildStack({
      config: orgConfig({ organization: { ...ORG, heartbeatAccounts: many.slice(0, 90) } }),
    });
    try {
      expect(most.stack.heartbeat.memberAlarms.size).toBe(180);
      expect(Object.keys(most.template.toJSON().Resources).length).toBeLessThanOrEqual(500);
    } finally {
      most.cleanup();
    }
  });
});

describe("the forwarding and central patterns together", () => {
  const MEMBER_ROLE = "arn:aws:iam::222233334444:role/kms-responder-member";
  const grant = (issuer: string | undefined, grantee = "arn:aws:iam::444455556666:role/exfil") => ({
    source: "aws.kms",
    "detail-type": "AWS API Call via CloudTrail",
    account: "222233334444",
    region: "eu-west-1",
    detail: {
      eventSource: "kms.amazonaws.com",
      eventName: "CreateGrant",
      requestParameters: { granteePrincipal: grantee },
      userIdentity: issuer
        ? { type: "AssumedRole", sessionContext: { sessionIssuer: { type: "Role", arn: issuer } } }
        : { type: "IAMUser" },
    },
  });
  const forward = forwardingRules(orgConfig(), MEMBER_ROLE, INCIDENTS).find(
    (r) => r.incident === "rogue-grant",
  );
  const centralPattern = DECLARED.find((i) => i.name === "rogue-grant")?.pattern(
    notByResponder(["arn:aws:iam::111122223333:role/kms-responder-roguegrantRole-EXAMPLE"]),
  );

  it("an attacker's grant in a member account passes both; the member role's own calls and service grantees do not", () => {
    if (!forward || !centralPattern) throw new Error("rogue-grant patterns missing");
    const attack = grant("arn:aws:iam::222233334444:role/Developer");
    expect(matchesPattern(forward.pattern, attack)).toBe(true);
    expect(matchesPattern(centralPattern, attack)).toBe(true);
    expect(matchesPattern(forward.pattern, grant(undefined))).toBe(true);
    expect(matchesPattern(forward.pattern, grant(MEMBER_ROLE))).toBe(false);
    expect(matchesPattern(forward.pattern, grant(undefined, "dynamodb.eu-west-1.amazonaws.com"))).toBe(false);
  });
});

describe("cdk-nag AwsSolutions on both templates", () => {
  it("finds nothing unacknowledged in the central stack and acknowledges the member-role scope with a reason", () => {
    const { violations } = new AwsSolutionsChecks(built.app, { verbose: true }).validateScope(built.stack);
    expect(violations).toEqual([]);
    const role = built.stack.responders.get("rogue-grant")?.role;
    if (!role) throw new Error("no rogue-grant role");
    const acknowledged = role.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as Json).map((id) => id.replace(/^annotation::/i, "")));
    expect(acknowledged).toContain(
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/kms-responder-member]",
    );
    expect(acknowledged).toContain(
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:eu-west-1:<AWS::AccountId>:key/*]",
    );
  });

  it("finds nothing unacknowledged in the member template, and acknowledges only the key wildcard and LookupEvents", () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const props = built.stack.organization?.memberProps;
    if (!props) throw new Error("no member props");
    const stack = new MemberStack(app, "kms-responder-member", props);
    const { violations } = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    expect(violations).toEqual([]);
    const acknowledged = stack.memberRole.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as Json).map((id) => id.replace(/^annotation::/i, "")));
    expect(acknowledged.sort()).toEqual(
      [MEMBER_KEY_WILDCARD_FINDING, "AwsSolutions-IAM5[Resource::*]"].sort(),
    );
  });
});

if (!hasCfnLint && process.env.CI) throw new Error("cfn-lint is not installed");

describe.skipIf(!hasCfnLint)("cfn-lint on the central and member templates", () => {
  it.each(["central", "member"] as const)(
    "%s: no error or warning",
    (which) => {
      // Act
      const { output, status } = cfnLint(which === "central" ? central : member, which);

      // Assess
      expect(output.trim()).toBe("");
      expect(status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );
});
