/**
 * What the topic policy and the notification key's policy decide, not only what they say: the
 * synthesized statements are resolved for one account and Region and evaluated the way IAM does
 * for a same-account request (an explicit Deny wins; a resource-policy Allow naming the principal
 * suffices; an Allow to the account root delegates to the caller's IAM policy; a negated condition
 * operator matches a missing key). Every caller below holds AdministratorAccess unless it is a
 * service: the worst case for a forged notification or a silenced key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/shared/config.js";
import { type BuiltStack, buildStack, logicalId } from "./stack-fixture.js";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const REGION = "eu-west-1";
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/security-admin`;
const DEPLOYMENT = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Developer`;
const ROOT_USER = `arn:aws:iam::${ACCOUNT}:root`;
const ALARM = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:kms-responder-roguegrantErrorsAlarm-1A2B3C`;

let built: BuiltStack;
let topicArn: string;
beforeAll(() => {
  built = buildStack({ config: parseConfig({ notificationKeyAdmins: [ADMIN] }) });
  topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId(built.stack.topic)}`;
});
afterAll(() => built.cleanup());

/** The template's intrinsic functions, resolved: roles are `role/<logical id>`. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value !== "object" || value === null) return value;
  const node = value as Record<string, unknown>;
  const pseudo: Record<string, string> = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
  };
  if (typeof node.Ref === "string") return pseudo[node.Ref] ?? topicArn;
  if (Array.isArray(node["Fn::Join"])) {
    const [separator, parts] = node["Fn::Join"] as [string, unknown[]];
    return parts.map(resolve).join(separator);
  }
  if (Array.isArray(node["Fn::GetAtt"])) {
    const [id] = node["Fn::GetAtt"] as [string];
    return `arn:aws:iam::${ACCOUNT}:role/${id}`;
  }
  if (typeof node["Fn::Sub"] === "string") {
    return node["Fn::Sub"].replace(/\$\{([\w:]+)\}/g, (_m, name: string) => pseudo[name] ?? "?");
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
}

interface Statement {
  Effect: "Allow" | "Deny";
  Principal: "*" | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

interface Request {
  action: string;
  /** An IAM principal (`aws:PrincipalArn`) or a service principal. */
  principal: { arn: string } | { service: string } | "anonymous";
  context?: Record<string, string>;
  /** Whether the caller's own IAM policies allow the action (AdministratorAccess: yes). */
  identityAllows?: boolean;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());
const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(value);

function conditionHolds(condition: Statement["Condition"], context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = context[key];
      const values = list(expected);
      switch (operator) {
        case "StringEquals":
        case "ArnEquals":
        case "Bool":
          return actual !== undefined && values.includes(actual);
        case "ArnLike":
          return actual !== undefined && values.some((v) => glob(v, actual));
        case "ArnNotEquals":
        case "StringNotEquals":
          return actual === undefined || !values.includes(actual);
        default:
          throw new Error(`operator ${operator} not modelled`);
      }
    }),
  );
}

/** "direct": the statement names the caller; "account": it names the caller's account root. */
function principalMatch(statement: Statement, request: Request): "direct" | "account" | undefined {
  if (statement.Principal === "*") return "direct";
  const { principal } = request;
  if (principal === "anonymous") return undefined;
  if ("service" in principal)
    return list(statement.Principal.Service).includes(principal.service) ? "direct" : undefined;
  const named = list(statement.Principal.AWS);
  if (named.includes(principal.arn)) return "direct";
  const account = principal.arn.split(":")[4];
  return named.includes(`arn:aws:iam::${account}:root`) ? "account" : undefined;
}

function decide(statements: Statement[], request: Request): "allowed" | "refused" {
  const context: Record<string, string> = {
    "aws:SecureTransport": "true",
    ...(typeof request.principal === "object" && "arn" in request.principal
      ? { "aws:PrincipalArn": request.principal.arn }
      : {}),
    "aws:PrincipalIsAWSService": String(
      typeof request.principal === "object" && "service" in request.principal,
    ),
    ...request.context,
  };
  const identityAllows =
    request.identityAllows ?? (typeof request.principal === "object" && "arn" in request.principal);
  const applying = statements.filter(
    (s) => list(s.Action).some((a) => glob(a, request.action)) && conditionHolds(s.Condition, context),
  );
  if (applying.some((s) => s.Effect === "Deny" && principalMatch(s, request))) return "refused";
  const allows = applying.filter((s) => s.Effect === "Allow").map((s) => principalMatch(s, request));
  return allows.includes("direct") || (allows.includes("account") && identityAllows) ? "allowed" : "refused";
}

const responderRole = () => `arn:aws:iam::${ACCOUNT}:role/${logicalId(built.stack.runbook.role)}`;
const incidentRole = () => {
  const role = built.stack.responders.get("key-disabled")?.role;
  if (!role) throw new Error("no key-disabled role");
  return `arn:aws:iam::${ACCOUNT}:role/${logicalId(role)}`;
};

describe("topic policy: who may publish (a forged 'remediated' notification is refused)", () => {
  const statements = () => {
    const [policy] = Object.values(built.template.findResources("AWS::SNS::TopicPolicy"));
    return resolve(policy?.Properties.PolicyDocument.Statement) as Statement[];
  };
  const publish = (principal: Request["principal"], context?: Record<string, string>) =>
    decide(statements(), { action: "sns:Publish", principal, ...(context && { context }) });

  it("the responder roles publish, over TLS only", () => {
    expect(publish({ arn: incidentRole() })).toBe("allowed");
    expect(publish({ arn: responderRole() })).toBe("allowed");
    expect(publish({ arn: incidentRole() }, { "aws:SecureTransport": "false" })).toBe("refused");
  });

  it("every other principal of the account is refused, even with AdministratorAccess", () => {
    expect(publish({ arn: OTHER_ROLE })).toBe("refused");
    expect(publish({ arn: ADMIN })).toBe("refused");
    expect(publish({ arn: DEPLOYMENT })).toBe("refused");
    expect(publish({ arn: ROOT_USER })).toBe("refused");
    expect(publish({ arn: `arn:aws:iam::${ACCOUNT}:user/alice` })).toBe("refused");
    expect(publish("anonymous")).toBe("refused");
  });

  it("CloudWatch publishes for this account's alarms, and for nothing else", () => {
    const cloudwatch = { service: "cloudwatch.amazonaws.com" };
    expect(publish(cloudwatch, { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": ALARM })).toBe("allowed");
    expect(
      publish(cloudwatch, {
        "aws:SourceAccount": OTHER_ACCOUNT,
        "aws:SourceArn": ALARM.replace(ACCOUNT, OTHER_ACCOUNT),
      }),
    ).toBe("refused");
    expect(
      publish(cloudwatch, {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:dashboard/x`,
      }),
    ).toBe("refused");
    expect(publish(cloudwatch)).toBe("refused");
  });

  it("no other service publishes", () => {
    const context = { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": ALARM };
    expect(publish({ service: "events.amazonaws.com" }, context)).toBe("refused");
    expect(publish({ service: "s3.amazonaws.com" }, context)).toBe("refused");
  });
});

describe("notification key policy: nobody else can silence it", () => {
  const statements = () =>
    resolve(
      built.template.toJSON().Resources[logicalId(built.stack.notificationKey)].Properties.KeyPolicy
        .Statement,
    ) as Statement[];
  const kms = (action: string, principal: Request["principal"], context?: Record<string, string>) =>
    decide(statements(), { action, principal, ...(context && { context }) });
  const SILENCING = ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"];

  it("a principal of the account with AdministratorAccess uses and reads it, and cannot disable, delete, re-police or grant it", () => {
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey", "kms:GetKeyPolicy"]) {
      expect(kms(action, { arn: OTHER_ROLE }), action).toBe("allowed");
    }
    for (const action of [...SILENCING, "kms:DisableKeyRotation", "kms:EnableKey", "kms:CancelKeyDeletion"]) {
      expect(kms(action, { arn: OTHER_ROLE }), action).toBe("refused");
      expect(kms(action, { arn: ROOT_USER }), `root user ${action}`).toBe("refused");
    }
  });

  it("the configured administrators and the deployment role administer it (updates and cdk destroy)", () => {
    for (const principal of [ADMIN, DEPLOYMENT]) {
      for (const action of [
        ...SILENCING,
        "kms:EnableKey",
        "kms:EnableKeyRotation",
        "kms:TagResource",
        "kms:UpdateKeyDescription",
        "kms:CancelKeyDeletion",
      ]) {
        expect(kms(action, { arn: principal }), `${principal} ${action}`).toBe("allowed");
      }
    }
  });

  it("the responder roles repair it (EnableKey, CancelKeyDeletion) and change nothing else", () => {
    for (const role of [incidentRole(), responderRole()]) {
      expect(kms("kms:EnableKey", { arn: role })).toBe("allowed");
      expect(kms("kms:CancelKeyDeletion", { arn: role })).toBe("allowed");
      expect(kms("kms:DescribeKey", { arn: role })).toBe("allowed");
      for (const action of SILENCING) expect(kms(action, { arn: role }), action).toBe("refused");
    }
  });

  it("the repair needs the role's IAM policy too: the key policy alone grants it to nobody", () => {
    expect(
      decide(statements(), {
        action: "kms:EnableKey",
        principal: { arn: incidentRole() },
        identityAllows: false,
      }),
    ).toBe("refused");
  });

  it("CloudWatch encrypts for this account's alarms only", () => {
    const cloudwatch = { service: "cloudwatch.amazonaws.com" };
    expect(kms("kms:GenerateDataKey", cloudwatch, { "aws:SourceAccount": ACCOUNT })).toBe("allowed");
    expect(kms("kms:Decrypt", cloudwatch, { "aws:SourceAccount": ACCOUNT })).toBe("allowed");
    expect(kms("kms:GenerateDataKey", cloudwatch, { "aws:SourceAccount": OTHER_ACCOUNT })).toBe("refused");
    expect(kms("kms:DisableKey", cloudwatch, { "aws:SourceAccount": ACCOUNT })).toBe("refused");
    expect(
      kms("kms:GenerateDataKey", { service: "events.amazonaws.com" }, { "aws:SourceAccount": ACCOUNT }),
    ).toBe("refused");
  });
});
