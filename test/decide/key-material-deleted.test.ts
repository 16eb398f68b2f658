import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-material-deleted/decide.js";
import type { Config } from "../../functions/shared/config.js";
import type { KeyFacts } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import { config, decisionsFor, ENFORCING, EXAMPLE, eventOf, shapeOf } from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const { decideFixture } = decisionsFor("key-material-deleted", decide);

const PENDING = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1";

const CRITICAL_NOTIFY = {
  kind: "finding",
  incident: "key-material-deleted",
  severity: "critical",
  reasons: ["key-material-deleted"],
  actions: [],
};

describe("key-material-deleted decide", () => {
  it.each([
    ["the defaults", ENFORCING, {}],
    ["config/example.json", EXAMPLE, {}],
    ["notify mode", config({ mode: "notify" }), {}],
    ["an exempt key", ENFORCING, { tags: { "kms-responder:exempt": "" } }],
    ["an AWS managed key", ENFORCING, { keyManager: "AWS" }],
  ] as Array<[string, Config, KeyFacts]>)(
    "is a critical notification with no action, with %s",
    (_label, cfg, facts) => {
      // Act
      const decision = decideFixture("delete-imported", cfg, facts);

      // Assess
      expect(shapeOf(decision)).toEqual(CRITICAL_NOTIFY);
    },
  );

  it.each([
    [
      "current now (listed CURRENT)",
      { keyMaterials: [{ id: PENDING, state: "CURRENT", importState: "PENDING_IMPORT" }] },
      "critical",
    ],
    [
      "an earlier material (NON_CURRENT)",
      { keyMaterials: [{ id: PENDING, state: "NON_CURRENT", importState: "PENDING_IMPORT" }] },
      "critical",
    ],
    [
      "pending rotation",
      { keyMaterials: [{ id: PENDING, state: "PENDING_ROTATION", importState: "PENDING_IMPORT" }] },
      "high",
    ],
    ["unknown (nothing read)", {}, "critical"],
  ] as Array<[string, KeyFacts, string]>)("graded by the material: %s -> %s", (_label, facts, severity) => {
    expect(decideFixture("delete-pending-rotation", ENFORCING, facts)).toMatchObject({ severity });
  });

  it("offline: a new import into a key with material, no on-demand rotation since: pending (high); rotated: critical", () => {
    // Prepare
    const first = eventOf(loadEvent("key-material-imported/first-import-no-type"));
    const added = eventOf(loadEvent("key-material-imported/new-material"));
    const rotated = eventOf(loadEvent("key-material-imported/rotate-on-demand"));

    // Act / Assess
    expect(decideFixture("delete-pending-rotation", ENFORCING, { earlier: [first, added] })).toMatchObject({
      severity: "high",
    });
    expect(
      decideFixture("delete-pending-rotation", ENFORCING, { earlier: [first, added, rotated] }),
    ).toMatchObject({
      severity: "critical",
    });
  });

  it("DeleteExpiredKeyMaterial names the material (from serviceEventDetails)", () => {
    const decision = decideFixture("delete-expired");
    expect(decision.kind === "finding" && decision.details[0]).toBe(
      "Key material: 9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
    );
  });

  it("says that nothing automatic can undo it", () => {
    // Act
    const decision = decideFixture("delete-imported");

    // Assess
    expect(decision.kind === "finding" && decision.details.join(" ")).toMatch(/re-import/);
  });

  it("ignores a failed call (a key whose origin is not EXTERNAL)", () => {
    // Act
    const decision = decideFixture("failed-call");

    // Assess
    expect(shapeOf(decision)).toEqual({ kind: "ignore", skipped: "failed-call", incident: undefined });
  });

  it("ignores the call when the incident is off", () => {
    // Act
    const decision = decideFixture(
      "delete-imported",
      config({ incidents: { "key-material-deleted": { mode: "off" } } }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "incident-off",
      incident: "key-material-deleted",
    });
  });

  it("ignores the responder's own call", () => {
    // Prepare
    const event = loadEvent("key-material-deleted/delete-imported");
    event.detail.userIdentity = {
      type: "AssumedRole",
      arn: "arn:aws:sts::111122223333:assumed-role/kms-responder-X/fn",
      sessionContext: { sessionIssuer: { arn: "arn:aws:iam::111122223333:role/kms-responder-X" } },
    };

    const own = config({ responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-X"] });

    // Act
    const decision = decide(eventOf(event), own, {});

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "own-call",
      incident: "key-material-deleted",
    });
  });

  it("covers every key-material-deleted fixture", () => {
    // Assess
    expect(
      loadAllEvents()
        .filter((f) => f.incident === "key-material-deleted")
        .map((f) => f.variant)
        .sort(),
    ).toEqual(["delete-expired", "delete-imported", "delete-pending-rotation", "failed-call"]);
  });

  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))(
    "never throws: decides %s",
    (_path, event) => {
      // Prepare
      const normalised = normalise(event);

      // Act / Assess
      for (const cfg of [ENFORCING, EXAMPLE])
        expect(["finding", "ignore"]).toContain(normalised && decide(normalised, cfg, {}).kind);
    },
  );
});
