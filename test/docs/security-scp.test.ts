import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WATCHED_CALLS } from "../../functions/responder-tampered/calls.js";

/** The IAM action of a watched CloudTrail event: Lambda's event names carry the API version. */
function iamAction(eventName: string, eventSource: string): string {
  const service = eventSource.replace(/\.amazonaws\.com$/, "");
  return `${service}:${eventName.replace(/\d{8}(v\d+)?$/, "")}`;
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

/** The SCP docs/security.md gives as the responder's protection (its one JSON block). */
function documentedScp(): Statement[] {
  const doc = readFileSync(new URL("../../docs/security.md", import.meta.url), "utf8");
  const block = /```json\n([\s\S]*?)\n```/.exec(doc);
  if (!block?.[1]) throw new Error("docs/security.md has no JSON block");
  const policy = JSON.parse(block[1]) as { Statement: Statement[] };
  return policy.Statement;
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

describe("the SCP in docs/security.md", () => {
  const denied = new Set(
    documentedScp()
      .filter((s) => s.Effect === "Deny")
      .flatMap((s) => list(s.Action)),
  );

  it("denies every call responder-tampered watches", () => {
    // Arrange
    const watched = Object.entries(WATCHED_CALLS).map(([name, call]) => iamAction(name, call.eventSource));

    // Assert
    expect(watched.filter((action) => !denied.has(action))).toEqual([]);
  });

  it("denies invoking the responders and replaying events into them", () => {
    expect(denied.has("lambda:InvokeFunction")).toBe(true);
    expect(denied.has("events:StartReplay")).toBe(true);
  });

  it("names rules as EventBridge writes their ARNs: rule/<name> on the default bus, rule/<bus>/<name> on another", () => {
    // Arrange
    const resources = documentedScp().flatMap((s) => list(s.Resource));
    const rules = resources.filter((r) => r.includes(":rule/"));

    // Assert
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((r) => r.includes(":rule/default/"))).toEqual([]);
  });
});
