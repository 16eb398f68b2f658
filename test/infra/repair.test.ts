/**
 * The repairs of the responder's own resources (incidents.responder-tampered.repair): the
 * function's role may enable only the stack's rules, start only the trails listed and put back only
 * the stack's functions' concurrency, with the read-backs; without `repair` it may change nothing;
 * cdk-nag finds nothing unacknowledged.
 */
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/shared/config.js";
import { type BuiltStack, buildStack, logicalId } from "./stack-fixture.js";

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };

function statementsOf(built: BuiltStack): Statement[] {
  const role = built.stack.responders.get("responder-tampered")?.role;
  if (!role) throw new Error("no responder-tampered role");
  const id = logicalId(role);
  const policies = Object.values(built.template.findResources("AWS::IAM::Policy")).filter((p) =>
    (p.Properties.Roles as Array<{ Ref?: string }>).some((r) => r.Ref === id),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** An ARN of this account as CDK joins it: in the stack's Region, or in a literal one (`*`). */
const arn = (service: string, region: string, resource: string) => ({
  "Fn::Join": [
    "",
    region === "here"
      ? [
          "arn:",
          { Ref: "AWS::Partition" },
          `:${service}:`,
          { Ref: "AWS::Region" },
          ":",
          { Ref: "AWS::AccountId" },
          resource,
        ]
      : ["arn:", { Ref: "AWS::Partition" }, `:${service}:${region}:`, { Ref: "AWS::AccountId" }, resource],
  ],
});

const repairing = buildStack({
  config: parseConfig({
    mode: "enforce",
    incidents: { "responder-tampered": { repair: true, trails: ["management-events"] } },
  }),
});
const plain = buildStack();
afterAll(() => {
  repairing.cleanup();
  plain.cleanup();
});

describe("responder-tampered's repairs in the stack", () => {
  it("may enable only the stack's rules, start only the listed trail, put back only the stack's functions", () => {
    const repairs = statementsOf(repairing).filter((s) =>
      ["RepairOwnRules", "RepairOwnTrail", "RepairOwnFunctions"].includes(String(s.Sid)),
    );
    expect(repairs).toEqual([
      {
        Sid: "RepairOwnRules",
        Effect: "Allow",
        Action: ["events:DescribeRule", "events:EnableRule", "events:PutRule"],
        Resource: [
          arn("events", "here", ":rule/kms-responder-*"),
          arn("events", "here", ":rule/kms-responder-organization/kms-responder-*"),
        ],
      },
      {
        Sid: "RepairOwnTrail",
        Effect: "Allow",
        Action: ["cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"],
        Resource: arn("cloudtrail", "*", ":trail/management-events"),
      },
      {
        Sid: "RepairOwnFunctions",
        Effect: "Allow",
        Action: ["lambda:DeleteFunctionConcurrency", "lambda:GetFunction", "lambda:PutFunctionConcurrency"],
        Resource: arn("lambda", "here", ":function:kms-responder-*"),
      },
    ]);
  });

  it("tells the repairing function which of the stack's rules take read-only management events, and no other function", () => {
    const envOf = (built: BuiltStack, incident: string) => {
      const fn = built.stack.responders.get(incident as never)?.function;
      if (!fn) throw new Error(`no ${incident} function`);
      const variables = built.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
      return variables.KMS_RESPONDER_READ_ONLY_RULES as unknown;
    };
    const readOnly = [...repairing.stack.rules].filter(
      ([, rule]) =>
        (rule.node.defaultChild as { state?: string }).state ===
        "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
    );
    // One incident takes read-only management events; a single account has its rule on the default bus only.
    expect(readOnly).toHaveLength(1);
    const [[, rule] = ["", undefined]] = readOnly;
    if (!rule) throw new Error("no read-only rule");
    expect(envOf(repairing, "responder-tampered")).toEqual({
      "Fn::Join": ["", ['["', { Ref: logicalId(rule) }, '"]']],
    });
    expect(envOf(repairing, "rogue-grant")).toBeUndefined();
    expect(envOf(plain, "responder-tampered")).toBeUndefined();
  });

  it("may change nothing without repair (the default)", () => {
    const actions = statementsOf(plain).flatMap((s) => [s.Action].flat());
    for (const action of actions) expect(action).not.toMatch(/^(events|lambda):|cloudtrail:StartLogging/);
  });

  it("cdk-nag finds nothing unacknowledged with the repairs on", () => {
    const { violations } = new AwsSolutionsChecks(repairing.app, { verbose: true }).validateScope(
      repairing.stack,
    );
    expect(violations).toEqual([]);
  });
});
