import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-rotation-weakened/decide.js";
import type { KeyFacts } from "../../functions/shared/decision.js";
import {
  config,
  decisionsFor,
  ENFORCING,
  eventOf,
  FAILED_CALL,
  findingOf,
  holdCases,
  shapeOf,
} from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const { decideFixture } = decisionsFor("key-rotation-weakened", decide);

const KEY = "arn:aws:kms:us-east-1:111122223333:key/5d6e7f8a-9b0c-4dbe-82f3-a4b5c6d7e8f9";

/** The key's history: an EnableKeyRotation at `days` (undefined: without a period) before the event. */
function history(days: number | undefined): KeyFacts {
  const raw = loadEvent("key-rotation-weakened/within-maximum");
  raw.detail.eventTime = "2026-10-01T09:00:00Z";
  raw.detail.eventID = "0b3f7a2e-1111-4c3d-9e8f-000000000001";
  raw.detail.requestParameters =
    days === undefined ? { keyId: KEY } : { keyId: KEY, rotationPeriodInDays: days };
  return { earlier: [eventOf(raw)] };
}

describe("key-rotation-weakened decide", () => {
  it("a period above the maximum by an unapproved caller, previous period known: put it back (medium)", () => {
    // Act
    const decision = decideFixture("lengthened", ENFORCING, history(90));

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "finding",
      incident: "key-rotation-weakened",
      severity: "medium",
      reasons: ["rotation-period-above-maximum"],
      actions: [
        {
          type: "enable-key-rotation",
          keyRef: KEY,
          rotationPeriodInDays: 90,
          replacedRotationPeriodInDays: 2560,
        },
      ],
    });
  });

  it("an earlier EnableKeyRotation without a period: the previous period was the default 365", () => {
    const decision = findingOf(decideFixture("lengthened", ENFORCING, history(undefined)));
    expect(decision.actions).toEqual([
      {
        type: "enable-key-rotation",
        keyRef: KEY,
        rotationPeriodInDays: 365,
        replacedRotationPeriodInDays: 2560,
      },
    ]);
  });

  it("history not read yet: a provisional restore (the handler reads the history before acting)", () => {
    expect(findingOf(decideFixture("lengthened")).actions).toEqual([
      { type: "enable-key-rotation", keyRef: KEY, replacedRotationPeriodInDays: 2560 },
    ]);
  });

  it("history unreadable: the restore is held as unverified", () => {
    const decision = findingOf(
      decideFixture("lengthened", ENFORCING, { readErrors: { earlier: "AccessDenied" } }),
    );
    expect(decision.actions.map((a) => a.hold?.code)).toEqual(["unverified"]);
  });

  it("previous period unknown (no earlier EnableKeyRotation): notify only, and says why", () => {
    const decision = findingOf(decideFixture("lengthened", ENFORCING, { earlier: [] }));
    expect(decision.actions).toEqual([]);
    expect(decision.details.join(" ")).toContain("previous rotation period is unknown");
  });

  it("the key has another period now (someone fixed it): nothing to put back", () => {
    const decision = findingOf(
      decideFixture("lengthened", ENFORCING, {
        ...history(90),
        rotationEnabled: true,
        rotationPeriodInDays: 90,
      }),
    );
    expect(decision.actions).toEqual([]);
    expect(decision.verdicts).toEqual(["state-differs"]);
  });

  it.each([
    ["within-maximum", ENFORCING, "no-incident"],
    [
      "approved",
      config({
        incidents: {
          "key-rotation-weakened": { approvedPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"] },
        },
      }),
      "no-incident",
    ],
    ["default-period", ENFORCING, "no-incident"],
  ] as const)("%s: ignored (%#)", (variant, cfg, skipped) => {
    expect(decideFixture(variant, cfg)).toMatchObject({ kind: "ignore", skipped });
  });

  it("maxPeriodDays 180: a call without a period (365 days) is above it", () => {
    const cfg = config({ incidents: { "key-rotation-weakened": { maxPeriodDays: 180 } } });
    expect(findingOf(decideFixture("default-period", cfg)).summary).toContain(
      "every 365 days, above the maximum of 180",
    );
  });

  it("an unapproved caller is not approved by a pattern for another role", () => {
    const cfg = config({
      incidents: {
        "key-rotation-weakened": { approvedPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"] },
      },
    });
    expect(decideFixture("lengthened", cfg).kind).toBe("finding");
  });

  it("a bad maxPeriodDays is a config error naming the field", () => {
    expect(() => config({ incidents: { "key-rotation-weakened": { maxPeriodDays: 30 } } })).toThrow(
      /incidents\.key-rotation-weakened\.maxPeriodDays/,
    );
  });

  it.each([["failed-call", FAILED_CALL]] as const)("%s", (variant, expected) => {
    expect(shapeOf(decideFixture(variant))).toEqual(expected);
  });

  it.each(holdCases(ENFORCING, { "the key ARN": KEY }))(
    "%s: the restore is held (%s)",
    (_label, cfg, facts, code) => {
      const decision = findingOf(decideFixture("lengthened", cfg, { ...history(90), ...facts }));
      expect(decision.actions.map((a) => a.hold?.code)).toEqual([code]);
    },
  );
});
