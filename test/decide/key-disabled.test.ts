import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-disabled/decide.js";
import type { Config } from "../../functions/shared/config.js";
import type { PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import {
  config,
  decisionsFor,
  ENFORCING,
  EXAMPLE,
  FAILED_CALL,
  findingOf,
  HERE,
  holdCases,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { loadAllEvents } from "../helpers/fixtures.js";

const { decideFixture } = decisionsFor("key-disabled", decide);

const MALLORY_KEY = "arn:aws:kms:us-east-1:111122223333:key/9d0e1f2a-3b4c-4d5e-a6f7-a8b9c0d1e2f3";
const REENABLE = config({ ...EXAMPLE, reenableDisabledKeys: true });

const finding = (severity: string, reasons: string[], actions: PlannedAction[]): Shape => ({
  kind: "finding",
  incident: "key-disabled",
  severity,
  reasons,
  actions,
});
const skipped = (reason: string): Shape => ({ kind: "ignore", skipped: reason, incident: "key-disabled" });

describe("key-disabled decide: every fixture", () => {
  it.each([
    ["iam-user", ENFORCING, finding("medium", ["unapproved-disable"], [])],
    ["approved-admin", ENFORCING, finding("medium", ["unapproved-disable"], [])],
    ["own-call", ENFORCING, finding("medium", ["unapproved-disable"], [])],
    ["failed-call", ENFORCING, FAILED_CALL],
    ["iam-user", EXAMPLE, finding("medium", ["unapproved-disable"], [])],
    ["approved-admin", EXAMPLE, finding("low", ["approved-disable"], [])],
    ["own-call", EXAMPLE, skipped("own-call")],
    ["failed-call", EXAMPLE, FAILED_CALL],
    [
      "iam-user",
      REENABLE,
      finding("medium", ["unapproved-disable"], [{ type: "enable-key", keyRef: MALLORY_KEY }]),
    ],
    ["approved-admin", REENABLE, finding("low", ["approved-disable"], [])],
    ["own-call", REENABLE, skipped("own-call")],
  ] as Array<[string, Config, Shape]>)("%s (%#)", (variant, cfg, expected) => {
    // Act
    const decision = decideFixture(variant, cfg);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });

  it("covers every key-disabled fixture", () => {
    // Assess
    expect(
      loadAllEvents()
        .filter((f) => f.incident === "key-disabled")
        .map((f) => f.variant)
        .sort(),
    ).toEqual(["approved-admin", "failed-call", "iam-user", "own-call"]);
  });
});

describe("key-disabled decide: notify by default, re-enable only when configured", () => {
  it("says the key stays disabled when reenableDisabledKeys is off", () => {
    // Act
    const decision = findingOf(decideFixture("iam-user"));

    // Assess
    expect(decision.details).toEqual(["reenableDisabledKeys is off: the key stays disabled."]);
  });

  it("re-enables a key that is still Disabled now", () => {
    // Act
    const decision = findingOf(
      decideFixture("iam-user", REENABLE, { keyState: "Disabled", responder: HERE }),
    );

    // Assess
    expect(decision.actions).toEqual([{ type: "enable-key", keyRef: MALLORY_KEY }]);
    expect(decision.verdicts).toBeUndefined();
  });

  it("state-differs: the key is Enabled again now, nothing to re-enable", () => {
    // Act
    const decision = findingOf(decideFixture("iam-user", REENABLE, { keyState: "Enabled", responder: HERE }));

    // Assess
    expect(decision.verdicts).toEqual(["state-differs"]);
    expect(decision.actions).toEqual([]);
  });

  it("state-differs: the key is PendingDeletion now, nothing to re-enable", () => {
    // Act
    const decision = findingOf(
      decideFixture("iam-user", REENABLE, { keyState: "PendingDeletion", responder: HERE }),
    );

    // Assess
    expect(decision.verdicts).toEqual(["state-differs"]);
    expect(decision.actions).toEqual([]);
  });

  it("holds the re-enable as failed/unverified when DescribeKey failed", () => {
    // Act
    const decision = findingOf(
      decideFixture("iam-user", REENABLE, { readErrors: { key: "ThrottlingException" }, responder: HERE }),
    );

    // Assess
    expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([["failed", "unverified"]]);
  });

  it("matches approved principals against the role of a session", () => {
    // Act
    const decision = decideFixture(
      "approved-admin",
      config({ approvedDisablePrincipals: ["arn:aws:iam::111122223333:role/Key*"] }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(finding("low", ["approved-disable"], []));
  });

  it("does not let approval for deletion approve disabling", () => {
    // Act
    const decision = decideFixture(
      "approved-admin",
      config({ approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"] }),
    );

    // Assess
    expect(decision).toMatchObject({ reasons: ["unapproved-disable"] });
  });
});

describe("key-disabled decide: modes and held actions", () => {
  it("holds the re-enable as dry-run in notify mode", () => {
    // Act
    const decision = decideFixture("iam-user", config({ ...REENABLE, mode: "notify" }));

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "medium",
        ["unapproved-disable"],
        [
          {
            type: "enable-key",
            keyRef: MALLORY_KEY,
            hold: { status: "dry-run", code: "notify-mode", why: expect.any(String) },
          },
        ],
      ),
    );
  });

  it("ignores the call when the incident is off", () => {
    // Act
    const decision = decideFixture("iam-user", config({ incidents: { "key-disabled": { mode: "off" } } }));

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("incident-off"));
  });

  it.each(holdCases(REENABLE, { "a key in ignoredKeys": MALLORY_KEY }))(
    "holds the re-enable as skipped on %s",
    (_label, cfg, facts, code) => {
      // Act
      const decision = findingOf(decideFixture("iam-user", cfg, facts));

      // Assess
      expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([["skipped", code]]);
    },
  );
});

describe("key-disabled decide: never throws", () => {
  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))("decides %s", (_path, event) => {
    // Prepare
    const normalised = normalise(event);

    // Act / Assess
    for (const cfg of [ENFORCING, EXAMPLE, REENABLE]) {
      expect(["finding", "ignore"]).toContain(normalised && decide(normalised, cfg, {}).kind);
    }
  });
});
