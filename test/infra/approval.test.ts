/** Approval mode in the template: the approval documents, who may start them, the rule for rejections. */
import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/shared/config.js";
import { type BuiltStack, buildStack } from "./stack-fixture.js";

const APPROVER = "arn:aws:iam::111122223333:role/security-oncall";
const built: BuiltStack[] = [];
function stackWith(config: object): BuiltStack {
  const b = buildStack({ config: parseConfig(config) });
  built.push(b);
  return b;
}
afterAll(() => {
  for (const b of built) b.cleanup();
});

type Document = {
  mainSteps: Array<{
    name: string;
    action: string;
    timeoutSeconds?: number;
    inputs: Record<string, unknown>;
  }>;
};

describe("approval mode", () => {
  const { template, stack } = stackWith({
    mode: "enforce",
    incidents: { "rogue-grant": { mode: "approve" } },
    approval: { approvers: [APPROVER], timeoutMinutes: 30 },
  });

  it("each mutating runbook action has an approval document: aws:approve with the approvers and timeout, then the runbook", () => {
    const documents = template.findResources("AWS::SSM::Document");
    const approval = Object.values(documents).find(
      (d) => d.Properties.Name === "kms-responder-Approved-RevokeGrant",
    );
    const content = approval?.Properties.Content as Document;
    expect(content.mainSteps.map((s) => [s.name, s.action])).toEqual([
      ["Approve", "aws:approve"],
      ["InvokeRunbook", "aws:invokeLambdaFunction"],
    ]);
    expect(content.mainSteps[0]).toMatchObject({
      timeoutSeconds: 1800,
      onFailure: "Abort",
      inputs: { Approvers: [APPROVER], MinRequiredApprovals: 1 },
    });
    expect(content.mainSteps[0]?.inputs.Message).toContain("{{ KeyId }}");
    expect(stack.runbookAutomation.approvalDocuments.has("analyze-key-policy")).toBe(false);
  });

  it("only the approving incident's function may start exactly its approval documents, and pass the automation role", () => {
    const policies = Object.values(template.findResources("AWS::IAM::Policy"));
    const starting = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes("ssm:StartAutomationExecution"),
    );
    expect(starting).toHaveLength(1);
    const rogue = stack.responders.get("rogue-grant");
    expect(JSON.stringify(starting[0]?.Properties.Roles)).toContain(
      stack.getLogicalId(rogue?.role.node.defaultChild as never),
    );
    const statements = starting[0]?.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const start = statements.find((s) => s.Sid === "RequestApproval");
    expect(JSON.stringify(start?.Resource)).toContain(
      ":automation-definition/kms-responder-Approved-RevokeGrant:$DEFAULT",
    );
    expect(JSON.stringify(start?.Resource)).not.toContain("*");
    expect(statements.find((s) => s.Sid === "PassTheAutomationRole")).toMatchObject({
      Action: "iam:PassRole",
      Condition: { StringEquals: { "iam:PassedToService": "ssm.amazonaws.com" } },
    });
    const functions = template.findResources("AWS::Lambda::Function");
    const withStack = Object.values(functions).filter(
      (f) => f.Properties.Environment.Variables.APPROVAL_STACK_NAME,
    );
    expect(withStack).toHaveLength(1);
  });

  it("a rejected, timed-out or cancelled approval reaches the topic through a rule", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.ssm"],
        "detail-type": ["EC2 Automation Execution Status-change Notification"],
        detail: {
          Definition: Match.arrayWith(["kms-responder-Approved-RevokeGrant"]),
          Status: ["Rejected", "Failed", "TimedOut", "Cancelled"],
        },
      },
      Targets: [
        Match.objectLike({ Arn: { Ref: stack.getLogicalId(stack.topic.node.defaultChild as never) } }),
      ],
    });
  });

  it("without an approving incident: no approval document, no StartAutomationExecution", () => {
    const { template: plain } = stackWith({
      mode: "enforce",
      approval: { approvers: [APPROVER] },
    });
    const names = Object.values(plain.findResources("AWS::SSM::Document")).map((d) => d.Properties.Name);
    expect(names.some((n) => String(n).includes("Approved"))).toBe(false);
    expect(JSON.stringify(plain.toJSON())).not.toContain("ssm:StartAutomationExecution");
  });
});
