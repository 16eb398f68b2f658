/**
 * The incident whose event ends a key (key-deleted, `closesKeyFindings`) may find and resolve the
 * key's open Security Hub findings: GetFindings and BatchUpdateFindings on this account's hub,
 * only with `securityHub` on, and no other function gets them.
 */
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import { parseConfig } from "../../functions/shared/config.js";
import type { Incident } from "../../functions/shared/incident.js";
import { type BuiltStack, buildStack, logicalId } from "./stack-fixture.js";

type Statement = { Sid?: string; Action: unknown; Resource: unknown };

function statementsOf(built: BuiltStack, role: IConstruct): Statement[] {
  const policies = Object.values(built.template.findResources("AWS::IAM::Policy")) as Array<{
    Properties: { Roles: Array<{ Ref?: string }>; PolicyDocument: { Statement: Statement[] } };
  }>;
  return policies
    .filter((p) => p.Properties.Roles.some((r) => r.Ref === logicalId(role)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const closing = (INCIDENTS as readonly Incident[]).filter((i) => i.closesKeyFindings).map((i) => i.name);

let on: BuiltStack;
let off: BuiltStack;
beforeAll(() => {
  on = buildStack({ config: parseConfig({ mode: "enforce", securityHub: true }) });
  off = buildStack({ config: parseConfig({ mode: "enforce" }) });
});
afterAll(() => {
  on.cleanup();
  off.cleanup();
});

describe("closing a deleted key's findings", () => {
  it("key-deleted is the incident that closes a key's findings", () => {
    expect(closing).toEqual(["key-deleted"]);
  });

  it("with securityHub on: key-deleted's role may GetFindings and BatchUpdateFindings on the hub, no other responder's", () => {
    const hub = {
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":securityhub:",
          { Ref: "AWS::Region" },
          ":",
          { Ref: "AWS::AccountId" },
          ":hub/default",
        ],
      ],
    };
    for (const [name, fn] of on.stack.responders) {
      const close = statementsOf(on, fn.role).filter((s) => s.Sid === "CloseTheDeletedKeysFindings");
      expect(close, name).toEqual(
        name === "key-deleted"
          ? [
              {
                Sid: "CloseTheDeletedKeysFindings",
                Effect: "Allow",
                Action: ["securityhub:BatchUpdateFindings", "securityhub:GetFindings"],
                Resource: hub,
              },
            ]
          : [],
      );
    }
  });

  it("with securityHub off: no function may read or update findings", () => {
    const policies = JSON.stringify(off.template.findResources("AWS::IAM::Policy"));
    expect(policies).not.toContain("securityhub:GetFindings");
    expect(policies).not.toContain("securityhub:BatchUpdateFindings");
  });
});
