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
        Action: ["events:DescribeRule", "events:EnableRule"],
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
