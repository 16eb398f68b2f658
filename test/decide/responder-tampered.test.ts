import { describe, expect, it } from "vitest";
import { DETAIL_PARSERS, INCIDENTS } from "../../functions/registry.js";
import { decide } from "../../functions/responder-tampered/decide.js";
import type { Config } from "../../functions/shared/config.js";
import { normalise } from "../../functions/shared/event.js";
import { decideAny } from "../../functions/shared/route.js";
import { config, ENFORCING, FAILED_CALL, findingOf, type Shape, shapeOf } from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const DEPLOYMENT = "arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1";
const DEPLOYED = config({
  deploymentRoleArns: [DEPLOYMENT],
  responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-KeyPolicyViolationRole-EXAMPLE"],
});

const eventOf = (variant: string) => {
  const event = normalise(loadEvent(`responder-tampered/${variant}`), DETAIL_PARSERS);
  if (!event) throw new Error("fixture did not normalise");
  return event;
};
const decideFixture = (variant: string, cfg: Config = DEPLOYED) => decide(eventOf(variant), cfg, {});

const critical = (reason: string): Shape => ({
  kind: "finding",
  incident: "responder-tampered",
  severity: "critical",
  reasons: [reason],
  actions: [],
});
const ignored = (skipped: string): Shape => ({ kind: "ignore", skipped, incident: "responder-tampered" });

const CALLS: Array<[string, string]> = [
  ["stop-logging", "trail-stopped"],
  ["delete-trail", "trail-deleted"],
  ["update-trail", "trail-changed"],
  ["put-event-selectors", "event-selectors-changed"],
  ["disable-rule", "rule-disabled"],
  ["delete-rule", "rule-deleted"],
  ["remove-targets", "targets-removed"],
  ["put-rule", "rule-changed"],
  ["put-permission", "bus-opened"],
  ["update-function-configuration", "function-changed"],
  ["update-function-code", "function-code-changed"],
  ["delete-function", "function-deleted"],
  ["put-function-concurrency", "function-throttled"],
  ["remove-permission", "invoke-permission-removed"],
  ["unsubscribe", "unsubscribed"],
  ["set-topic-attributes", "topic-changed"],
  ["delete-topic", "topic-deleted"],
  ["put-role-policy", "role-policy-added"],
  ["attach-role-policy", "role-policy-attached"],
  ["detach-role-policy", "role-policy-detached"],
  ["delete-role-policy", "role-policy-deleted"],
  ["update-assume-role-policy", "role-trust-changed"],
];

describe("responder-tampered decide: every watched call on the responder's own resources", () => {
  it.each(CALLS)("%s is critical (%s)", (variant, reason) => {
    expect(shapeOf(decideFixture(variant))).toEqual(critical(reason));
  });

  it.each([
    ["deployment-put-function-concurrency", ignored("own-call")],
    ["own-call", ignored("own-call")],
    ["other-function", ignored("no-incident")],
    ["failed-call", FAILED_CALL],
  ] as Array<[string, Shape]>)("%s", (variant, expected) => {
    expect(shapeOf(decideFixture(variant))).toEqual(expected);
  });

  it("covers every responder-tampered fixture", () => {
    const variants = loadAllEvents()
      .filter((f) => f.incident === "responder-tampered")
      .map((f) => f.variant)
      .sort();
    expect(variants).toEqual(
      [
        ...CALLS.map(([v]) => v),
        "deployment-put-function-concurrency",
        "other-function",
        "failed-call",
        "own-call",
      ].sort(),
    );
  });
});

describe("responder-tampered decide: what is the responder's own", () => {
  it("another stack name: the same rule is not ours", () => {
    const other = config({ resourcePrefix: "kms-responder-prod-" });
    expect(shapeOf(decideFixture("disable-rule", other))).toEqual(ignored("no-incident"));
  });

  it("trails listed: only those count, by name or ARN", () => {
    const listed = config({ incidents: { "responder-tampered": { trails: ["management-events"] } } });
    const elsewhere = config({ incidents: { "responder-tampered": { trails: ["security-trail"] } } });
    expect(shapeOf(decideFixture("stop-logging", listed))).toEqual(critical("trail-stopped"));
    expect(shapeOf(decideFixture("stop-logging", elsewhere))).toEqual(ignored("no-incident"));
  });

  it("the deployment role's own change is nothing, anyone else's the same change is critical", () => {
    expect(shapeOf(decideFixture("deployment-put-function-concurrency"))).toEqual(ignored("own-call"));
    expect(shapeOf(decideFixture("deployment-put-function-concurrency", ENFORCING))).toEqual(
      critical("function-concurrency-changed"),
    );
  });

  it("PutPermission on another account's bus name is not ours; on the stack's bus it is", () => {
    const event = structuredClone(loadEvent("responder-tampered/put-permission"));
    (event.detail.requestParameters as Record<string, unknown>).eventBusName = "payments-bus";
    const parsed = normalise(event, DETAIL_PARSERS);
    if (!parsed) throw new Error("did not normalise");
    expect(shapeOf(decide(parsed, DEPLOYED, {}))).toEqual(ignored("no-incident"));
    (event.detail.requestParameters as Record<string, unknown>).eventBusName =
      "arn:aws:events:us-east-1:111122223333:event-bus/kms-responder-organization";
    const ours = normalise(event, DETAIL_PARSERS);
    if (!ours) throw new Error("did not normalise");
    expect(shapeOf(decide(ours, DEPLOYED, {}))).toEqual(critical("bus-opened"));
  });
});

describe("responder-tampered decide: how to put it back", () => {
  it.each([
    [
      "stop-logging",
      `aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events --region us-east-1`,
    ],
    [
      "disable-rule",
      "aws events enable-rule --name kms-responder-rogueGrantrule8D1F2A3B-EXAMPLE1 --region us-east-1",
    ],
    [
      "put-function-concurrency",
      "aws lambda delete-function-concurrency --function-name kms-responder-rogueGrantFunction5E6F7A8B-EXAMPLE2 --region us-east-1",
    ],
    ["put-permission", "aws events remove-permission --statement-id open-to-all --region us-east-1"],
    [
      "attach-role-policy",
      "aws iam detach-role-policy --role-name kms-responder-rogueGrantRole1A2B3C4D-EXAMPLE4 --policy-arn arn:aws:iam::aws:policy/AWSDenyAll",
    ],
  ])("%s", (variant, command) => {
    expect(findingOf(decideFixture(variant)).details.join("\n")).toContain(command);
  });
});

describe("triage's router takes the tamper records", () => {
  it.each([
    ["responder-tampered/stop-logging", "trail-stopped"],
    ["responder-tampered/disable-rule", "rule-disabled"],
    ["responder-tampered/put-function-concurrency", "function-throttled"],
    ["responder-tampered/unsubscribe", "unsubscribed"],
    ["exemption-tampered/tag-exempt", "unapproved-exemption"],
  ])("%s: critical", (fixture, reason) => {
    const event = normalise(loadEvent(fixture), DETAIL_PARSERS);
    if (!event) throw new Error("did not normalise");
    expect(shapeOf(decideAny(INCIDENTS, event, DEPLOYED))).toMatchObject({
      severity: "critical",
      reasons: [reason],
    });
  });

  it("the deployment's own change: nothing", () => {
    const event = normalise(
      loadEvent("responder-tampered/deployment-put-function-concurrency"),
      DETAIL_PARSERS,
    );
    if (!event) throw new Error("did not normalise");
    expect(decideAny(INCIDENTS, event, DEPLOYED)).toMatchObject({ kind: "ignore", skipped: "own-call" });
  });

  it("a call of a service no incident watches is still not-kms", () => {
    const event = normalise({ eventSource: "s3.amazonaws.com", eventName: "PutObject" }, DETAIL_PARSERS);
    if (!event) throw new Error("did not normalise");
    expect(decideAny(INCIDENTS, event, DEPLOYED)).toMatchObject({ kind: "ignore", skipped: "not-kms" });
  });
});

describe("responder-tampered decide: odd but real records", () => {
  it.each([
    ["requestParameters null", null],
    ["functionName not a string", { functionName: 42 }],
  ])("%s: no crash, not ours", (_label, params) => {
    const event = structuredClone(loadEvent("responder-tampered/delete-function"));
    event.detail.requestParameters = params;
    const parsed = normalise(event, DETAIL_PARSERS);
    if (!parsed) throw new Error("did not normalise");
    expect(shapeOf(decide(parsed, DEPLOYED, {}))).toEqual(ignored("no-incident"));
  });
});

describe("responder-tampered decide: repair where safe and configured", () => {
  const repairing = (extra: Record<string, unknown> = {}, mode: "enforce" | "notify" = "enforce") =>
    config({
      mode,
      deploymentRoleArns: [DEPLOYMENT],
      incidents: { "responder-tampered": { repair: true, trails: ["management-events"], ...extra } },
    });
  const actionsOf = (variant: string, cfg: Config) => {
    const decision = decideFixture(variant, cfg);
    if (decision.kind !== "finding") throw new Error(`${variant}: not a finding`);
    return decision.actions;
  };

  it("plans the put-back of a disabled rule, a stopped trail and a throttled function, on the resource the record names", () => {
    expect(actionsOf("disable-rule", repairing())).toEqual([
      {
        type: "enable-rule",
        keyRef: "kms-responder-rogueGrantrule8D1F2A3B-EXAMPLE1",
        resource: { name: "kms-responder-rogueGrantrule8D1F2A3B-EXAMPLE1", region: "us-east-1" },
      },
    ]);
    const trail = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";
    expect(actionsOf("stop-logging", repairing())).toEqual([
      { type: "start-logging", keyRef: trail, resource: { name: trail, region: "us-east-1" } },
    ]);
    const fn = "kms-responder-rogueGrantFunction5E6F7A8B-EXAMPLE2";
    expect(actionsOf("put-function-concurrency", repairing())).toEqual([
      { type: "restore-function-concurrency", keyRef: fn, resource: { name: fn, region: "us-east-1" } },
    ]);
  });

  it("a rule on the stack's organisation bus is enabled on that bus", () => {
    const event = structuredClone(loadEvent("responder-tampered/disable-rule"));
    (event.detail.requestParameters as Record<string, unknown>).eventBusName = "kms-responder-organization";
    const parsed = normalise(event, DETAIL_PARSERS);
    if (!parsed) throw new Error("did not normalise");
    const decision = decide(parsed, repairing(), {});
    expect(decision.kind === "finding" && decision.actions[0]?.resource).toEqual({
      name: "kms-responder-rogueGrantrule8D1F2A3B-EXAMPLE1",
      bus: "kms-responder-organization",
      region: "us-east-1",
    });
  });

  it("plans nothing with repair off (the default), and nothing for calls it cannot safely put back", () => {
    expect(actionsOf("disable-rule", DEPLOYED)).toEqual([]);
    expect(actionsOf("put-function-concurrency", DEPLOYED)).toEqual([]);
    for (const variant of [
      "delete-rule",
      "delete-function",
      "unsubscribe",
      "put-role-policy",
      "update-trail",
    ])
      expect(actionsOf(variant, repairing()), variant).toEqual([]);
  });

  it("restarts no trail unless the trails are listed (the role may start only those)", () => {
    const unlisted = config({
      deploymentRoleArns: [DEPLOYMENT],
      incidents: { "responder-tampered": { repair: true } },
    });
    expect(actionsOf("stop-logging", unlisted)).toEqual([]);
    expect(actionsOf("disable-rule", unlisted).map((a) => a.type)).toEqual(["enable-rule"]);
  });

  it("holds the repair in notify mode", () => {
    const [action] = actionsOf("disable-rule", repairing({ mode: "notify" }));
    expect(action?.hold).toMatchObject({ status: "dry-run", code: "notify-mode" });
  });

  it("repairs only the stack's own resources: another account's is held, and another Region's rule or function", () => {
    const here = { responder: { account: "111122223333", region: "us-east-1" } };
    const planned = (variant: string, edit: (d: Record<string, unknown>) => void, cfg = repairing()) => {
      const event = structuredClone(loadEvent(`responder-tampered/${variant}`));
      edit(event.detail as Record<string, unknown>);
      const parsed = normalise(event, DETAIL_PARSERS);
      if (!parsed) throw new Error("did not normalise");
      const decision = decide(parsed, cfg, here);
      if (decision.kind !== "finding") throw new Error(`${variant}: not a finding`);
      return decision.actions;
    };
    // The stack's own account and Region: planned, not held.
    expect(planned("disable-rule", () => {})[0]?.hold).toBeUndefined();
    // A member account's rule of the same name (forwarded to the organisation bus) is not the stack's.
    const member = (d: Record<string, unknown>) => {
      d.recipientAccountId = "222233334444";
      (d.userIdentity as Record<string, unknown>).accountId = "222233334444";
    };
    const org = repairing({});
    for (const variant of ["disable-rule", "stop-logging", "put-function-concurrency"]) {
      const [action] = planned(variant, member, org);
      expect(action?.hold, variant).toMatchObject({ status: "skipped", code: "other-account" });
      expect(action?.hold?.why, variant).toContain("account 222233334444");
    }
    // Another Region of the stack's account: rules and functions are the stack's only in its own;
    // a trail is restarted in its home Region, whichever it is.
    const elsewhere = (d: Record<string, unknown>) => {
      d.awsRegion = "eu-west-1";
    };
    expect(planned("disable-rule", elsewhere)[0]?.hold).toMatchObject({ code: "other-region" });
    expect(planned("put-function-concurrency", elsewhere)[0]?.hold).toMatchObject({ code: "other-region" });
    expect(planned("stop-logging", elsewhere)[0]?.hold).toBeUndefined();
  });

  it("proposes the repair in approve mode: held, with the command an approver runs", () => {
    const approving = config({
      deploymentRoleArns: [DEPLOYMENT],
      approval: { approvers: ["arn:aws:iam::111122223333:role/OnCall"] },
      incidents: {
        "responder-tampered": { mode: "approve", repair: true, trails: ["management-events"] },
      },
    });
    const [rule] = actionsOf("disable-rule", approving);
    expect(rule).toMatchObject({
      type: "enable-rule",
      hold: {
        status: "skipped",
        code: "approve-by-hand",
        why: "approve mode: a repair has no approval document; to approve it, run: aws events enable-rule --name kms-responder-rogueGrantrule8D1F2A3B-EXAMPLE1 --region us-east-1",
      },
    });
    const [trail] = actionsOf("stop-logging", approving);
    expect(trail?.hold?.why).toContain(
      "run: aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events --region us-east-1",
    );
  });

  it("names the resource changed, not a key", () => {
    const decision = decideFixture("put-function-concurrency");
    expect(decision.kind === "finding" && decision.resource).toEqual({
      kind: "function",
      name: "kms-responder-rogueGrantFunction5E6F7A8B-EXAMPLE2",
      short: "rogueGrantFunction5E6F7A8B-EXAMPLE2",
    });
    const unsubscribe = decideFixture("unsubscribe");
    expect(unsubscribe.kind === "finding" && unsubscribe.resource?.kind).toBe("topic");
  });

  it("repair must be a boolean", () => {
    expect(() => config({ incidents: { "responder-tampered": { repair: "yes" } } })).toThrow(
      /incidents\.responder-tampered\.repair: must be true or false/,
    );
  });
});
