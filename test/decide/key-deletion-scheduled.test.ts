import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  daysLeft,
  decide,
  deletionCountdown,
  parseDeletionDate,
} from "../../functions/key-deletion-scheduled/decide.js";
import type { Config } from "../../functions/shared/config.js";
import type { KeyFacts, PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import {
  config,
  decisionsFor,
  ENFORCING,
  EXAMPLE,
  eventOf,
  FAILED_CALL,
  findingOf,
  HERE,
  keyArn as key,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

/** A fixed "now" one week before the unapproved fixture's deletion date. */
const NOW = new Date("2026-11-28T18:31:12Z");

const { decideEvent, decideFixture } = decisionsFor("key-deletion-scheduled", (event, cfg, facts) =>
  decide(event, cfg, facts, NOW),
);

/**
 * CancelKeyDeletion, then EnableKey (afterCancel: restore plans the enable unless the history read
 * shows the key was disabled before; offline nothing was read, so it is planned).
 */
const cancelAndRestore = (keyId: string, hold?: PlannedAction["hold"]): PlannedAction[] =>
  [
    { type: "cancel-key-deletion", keyRef: key(keyId) } as PlannedAction,
    { type: "enable-key", keyRef: key(keyId) } as PlannedAction,
  ].map((a) => (hold ? { ...a, hold } : a));
const cancelOnly = (keyId: string): PlannedAction[] => [{ type: "cancel-key-deletion", keyRef: key(keyId) }];

const finding = (severity: string, reasons: string[], actions: PlannedAction[]): Shape => ({
  kind: "finding",
  incident: "key-deletion-scheduled",
  severity,
  reasons,
  actions,
});
const skipped = (reason: string): Shape => ({
  kind: "ignore",
  skipped: reason,
  incident: "key-deletion-scheduled",
});

const UNAPPROVED_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab";
const APPROVED_KEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const NO_MFA_KEY = "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f";

describe("key-deletion-scheduled decide: every fixture", () => {
  it.each([
    ["unapproved", ENFORCING, finding("critical", ["unapproved-deletion"], cancelAndRestore(UNAPPROVED_KEY))],
    ["approved", ENFORCING, finding("critical", ["unapproved-deletion"], cancelAndRestore(APPROVED_KEY))],
    [
      "approved-without-mfa",
      ENFORCING,
      finding("critical", ["unapproved-deletion"], cancelAndRestore(NO_MFA_KEY)),
    ],
    [
      "legacy-date-format",
      ENFORCING,
      finding("critical", ["unapproved-deletion"], cancelAndRestore("5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")),
    ],
    [
      "multi-region-primary",
      ENFORCING,
      finding("critical", ["unapproved-deletion"], cancelAndRestore("mrk-8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a")),
    ],
    [
      "root-user",
      ENFORCING,
      finding("critical", ["unapproved-deletion"], cancelAndRestore("8c9d0e1f-2a3b-4c4d-95e6-f7a8b9c0d1e2")),
    ],
    [
      "own-call",
      ENFORCING,
      finding("critical", ["unapproved-deletion"], cancelAndRestore("7b8c9d0e-1f2a-4b3c-84d5-e6f7a8b9c0d1")),
    ],
    ["failed-call", ENFORCING, FAILED_CALL],
    ["unapproved", EXAMPLE, finding("critical", ["unapproved-deletion"], cancelAndRestore(UNAPPROVED_KEY))],
    ["approved", EXAMPLE, finding("medium", ["approved-deletion"], [])],
    ["approved-without-mfa", EXAMPLE, finding("critical", ["mfa-missing"], cancelAndRestore(NO_MFA_KEY))],
    [
      "root-user",
      EXAMPLE,
      finding("critical", ["unapproved-deletion"], cancelAndRestore("8c9d0e1f-2a3b-4c4d-95e6-f7a8b9c0d1e2")),
    ],
    ["own-call", EXAMPLE, skipped("own-call")],
    ["failed-call", EXAMPLE, FAILED_CALL],
  ] as Array<[string, Config, Shape]>)("%s (%#)", (variant, cfg, expected) => {
    // Act
    const decision = decideFixture(variant, cfg);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });

  it("covers every key-deletion-scheduled fixture", () => {
    // Prepare
    const variants = loadAllEvents()
      .filter((f) => f.incident === "key-deletion-scheduled")
      .map((f) => f.variant)
      .sort();

    // Assess
    expect(variants).toEqual([
      "approved",
      "approved-without-mfa",
      "failed-call",
      "legacy-date-format",
      "multi-region-primary",
      "own-call",
      "root-user",
      "unapproved",
    ]);
  });
});

describe("key-deletion-scheduled decide: approval", () => {
  it("approves the configured principal: notify only, with the deletion date and days left", () => {
    // Act
    const decision = findingOf(decideFixture("approved", EXAMPLE));

    // Assess
    expect(decision.severity).toBe("medium");
    expect(decision.actions).toEqual([]);
    const key = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    expect(decision.details).toEqual([
      "Deletion date: 2026-12-28T14:05:09.000Z (30 days left)",
      `To stop it: aws kms cancel-key-deletion --key-id ${key} --region us-east-1; the key is then Disabled, so if it should be used again: aws kms enable-key --key-id ${key} --region us-east-1`,
    ]);
  });

  it.each([
    ["the role ARN", "arn:aws:iam::111122223333:role/KeyAdmin"],
    ["a role pattern", "arn:aws:iam::111122223333:role/Key*"],
    ["the session ARN pattern", "arn:aws:sts::111122223333:assumed-role/KeyAdmin/*"],
  ])("approves a role session when the config names %s", (_label, pattern) => {
    // Act
    const decision = decideFixture("approved", config({ approvedDeletionPrincipals: [pattern] }));

    // Assess
    expect(shapeOf(decision)).toEqual(finding("medium", ["approved-deletion"], []));
  });

  it("does not approve a principal that only looks similar", () => {
    // Act
    const decision = decideFixture(
      "approved",
      config({ approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmins"] }),
    );

    // Assess
    expect(decision).toMatchObject({ severity: "critical", reasons: ["unapproved-deletion"] });
  });

  it("does not approve a user whose path makes its ARN end like an approved role pattern", () => {
    // Prepare: an IAM user at path /x:role/ named KeyAdmin in another account of the organisation.
    const event = loadEvent("key-deletion-scheduled/approved");
    const lookAlike = "arn:aws:iam::444455556666:user/x:role/KeyAdmin";
    event.detail.userIdentity = { type: "IAMUser", arn: lookAlike, accountId: "444455556666" };

    // Act
    const decision = decideEvent(
      event,
      config({ approvedDeletionPrincipals: ["arn:aws:iam::*:role/KeyAdmin"] }),
    );

    // Assess
    expect(decision).toMatchObject({ severity: "critical", reasons: ["unapproved-deletion"] });
  });

  it("never approves a deletion of a key tagged protected, even by an approved principal", () => {
    // Act
    const decision = decideFixture("approved", EXAMPLE, { tags: { "kms-responder:protected": "" } });

    // Assess
    expect(shapeOf(decision)).toEqual(finding("critical", ["protected-key"], cancelAndRestore(APPROVED_KEY)));
    expect(findingOf(decision).details).toContain("The key is tagged kms-responder:protected.");
  });

  it("reads the configured protected tag key", () => {
    // Prepare
    const custom = config({ ...EXAMPLE, protectedTagKey: "data:crown-jewel" });

    // Act
    const untagged = decideFixture("approved", custom, { tags: { "kms-responder:protected": "" } });
    const tagged = decideFixture("approved", custom, { tags: { "data:crown-jewel": "yes" } });

    // Assess
    expect(untagged).toMatchObject({ reasons: ["approved-deletion"] });
    expect(tagged).toMatchObject({ reasons: ["protected-key"] });
  });

  it("with requireMfa, refuses an approved principal whose session says mfaAuthenticated false", () => {
    // Act
    const decision = findingOf(decideFixture("approved-without-mfa", EXAMPLE));

    // Assess
    expect(decision.reasons).toEqual(["mfa-missing"]);
    expect(decision.details).toContain("requireMfa is set and the session was not MFA-authenticated.");
  });

  it("with requireMfa, refuses an approved principal whose record does not say whether MFA was used", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/approved");
    delete event.detail.userIdentity?.sessionContext;

    // Act
    const decision = decideEvent(event, EXAMPLE);

    // Assess
    expect(shapeOf(decision)).toEqual(finding("critical", ["mfa-missing"], cancelAndRestore(APPROVED_KEY)));
  });

  it("without requireMfa, approves an approved principal without MFA", () => {
    // Act
    const decision = decideFixture("approved-without-mfa", config({ ...EXAMPLE, requireMfa: false }));

    // Assess
    expect(shapeOf(decision)).toEqual(finding("medium", ["approved-deletion"], []));
  });
});

describe("key-deletion-scheduled decide: what happens after the cancel", () => {
  it.each([
    ["restore", cancelAndRestore(UNAPPROVED_KEY)],
    ["enable", cancelAndRestore(UNAPPROVED_KEY)],
    ["keep-disabled", cancelOnly(UNAPPROVED_KEY)],
  ] as const)("afterCancel %s, offline, plans %j", (afterCancel, expected) => {
    // Act
    const decision = findingOf(decideFixture("unapproved", config({ afterCancel })));

    // Assess
    expect(decision.actions).toEqual(expected);
  });

  it("afterCancel restore: a key that was disabled before the deletion is only cancelled (facts.prior)", () => {
    // Prepare
    const facts: KeyFacts = {
      keyState: "PendingDeletion",
      prior: {
        state: "disabled",
        detail: "the key was disabled before the event (DisableKey at 2026-11-01T00:00:00.000Z)",
      },
      responder: HERE,
    };

    // Act
    const decision = findingOf(decideFixture("unapproved", ENFORCING, facts));

    // Assess
    expect(decision.actions).toEqual(cancelOnly(UNAPPROVED_KEY));
    expect(decision.details).toContain(`Left Disabled: ${facts.prior?.detail}.`);
  });

  it.each([
    ["enabled before", { state: "enabled", detail: "the key was enabled before the event" }],
    ["history unreadable", { state: "unknown", detail: "CloudTrail history could not be read" }],
  ] as const)("afterCancel restore: %s -> cancel and enable", (_label, prior) => {
    // Act
    const decision = findingOf(
      decideFixture("unapproved", ENFORCING, { keyState: "PendingDeletion", prior, responder: HERE }),
    );

    // Assess
    expect(decision.actions).toEqual(cancelAndRestore(UNAPPROVED_KEY));
  });

  it("afterCancel enable ignores the prior state: it re-enables whatever the history says", () => {
    // Act
    const decision = findingOf(
      decideFixture("unapproved", config({ afterCancel: "enable" }), {
        keyState: "PendingDeletion",
        prior: { state: "disabled", detail: "disabled before" },
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.actions).toEqual(cancelAndRestore(UNAPPROVED_KEY));
  });

  it("a DisableKey made since the event (facts.disabledSince) is respected: no enable", () => {
    // Prepare
    const facts: KeyFacts = {
      keyState: "PendingDeletion",
      prior: { state: "enabled", detail: "enabled before" },
      disabledSince: "the key was disabled after the event (DisableKey at 2026-11-28T18:40:00.000Z)",
      responder: HERE,
    };

    // Act
    const decision = findingOf(decideFixture("unapproved", config({ afterCancel: "enable" }), facts));

    // Assess
    expect(decision.actions).toEqual(cancelOnly(UNAPPROVED_KEY));
  });
});

describe("key-deletion-scheduled decide: held actions", () => {
  it("holds the cancel and the restore as dry-run in notify mode", () => {
    // Act
    const decision = decideFixture("unapproved", config({ mode: "notify" }));

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["unapproved-deletion"],
        cancelAndRestore(UNAPPROVED_KEY, { status: "dry-run", code: "notify-mode", why: expect.any(String) }),
      ),
    );
  });

  it("ignores the call when the incident is off", () => {
    // Act
    const decision = decideFixture(
      "unapproved",
      config({ incidents: { "key-deletion-scheduled": { mode: "off" } } }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("incident-off"));
  });

  it("holds the actions as skipped on an exempt key", () => {
    // Act
    const decision = decideFixture("unapproved", ENFORCING, { tags: { "kms-responder:exempt": "" } });

    // Assess
    expect(findingOf(decision).actions.map((a) => a.hold?.code)).toEqual(["exempt-key", "exempt-key"]);
  });

  it("holds the actions as skipped on a key listed in ignoredKeys", () => {
    // Act
    const decision = decideFixture("unapproved", config({ ignoredKeys: [UNAPPROVED_KEY] }));

    // Assess
    expect(findingOf(decision).actions.map((a) => a.hold?.code)).toEqual(["ignored-key", "ignored-key"]);
  });

  it.each([
    ["the alias alias/aws/ebs", {}, "alias/aws/ebs"],
    ["KeyManager AWS", { keyManager: "AWS" }, undefined],
  ] as Array<[string, KeyFacts, string | undefined]>)(
    "holds the actions as skipped on an AWS managed key (%s)",
    (_label, facts, alias) => {
      // Prepare
      const event = loadEvent("key-deletion-scheduled/unapproved");
      const request = event.detail.requestParameters ?? {};
      if (alias) request.keyId = alias;

      // Act
      const decision = findingOf(decideEvent(event, ENFORCING, facts));

      // Assess
      expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([
        ["skipped", "aws-managed-key"],
        ["skipped", "aws-managed-key"],
      ]);
    },
  );
});

describe("key-deletion-scheduled decide: details", () => {
  it("explains a multi-Region primary waiting for its replicas, with no deletion date", () => {
    // Act
    const decision = findingOf(decideFixture("multi-region-primary"));

    // Assess
    expect(decision.details.join("\n")).toMatch(/replica/i);
    expect(decision.details.join("\n")).not.toMatch(/Deletion date/);
    expect(decision.details).toContain("Waiting period: 30 days");
  });

  it("reads the legacy text date as UTC", () => {
    // Act
    const decision = findingOf(decideFixture("legacy-date-format"));

    // Assess
    expect(decision.details).toEqual(["Deletion date: 2026-12-05T23:47:31.000Z (8 days left)"]);
  });

  it("names the waiting period when the date cannot be read", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    const response = event.detail.responseElements ?? {};
    response.deletionDate = "sometime next week";

    // Act
    const decision = findingOf(decideEvent(event));

    // Assess
    expect(decision.details).toEqual(["Waiting period: 7 days"]);
  });

  it("decides a record whose deletionDate is a number out of Date's range", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    const response = event.detail.responseElements ?? {};
    response.deletionDate = 1e20;

    // Act
    const decision = findingOf(decideEvent(event));

    // Assess
    expect(decision.details).toEqual(["Waiting period: 7 days"]);
  });
});

describe("parseDeletionDate", () => {
  const ORIGINAL_TZ = process.env.TZ;
  afterEach(() => {
    if (ORIGINAL_TZ === undefined) delete process.env.TZ;
    else process.env.TZ = ORIGINAL_TZ;
  });

  it.each([
    ["ISO 8601 with Z", "2026-12-05T00:00:00Z", "2026-12-05T00:00:00.000Z"],
    ["ISO 8601 with milliseconds", "2026-12-05T10:20:30.456Z", "2026-12-05T10:20:30.456Z"],
    ["ISO 8601 with an offset", "2026-12-05T02:00:00+02:00", "2026-12-05T00:00:00.000Z"],
    ["ISO 8601 without a zone (UTC)", "2026-12-05T00:00:00", "2026-12-05T00:00:00.000Z"],
    ["text with a comma, midnight", "Dec 5, 2026, 12:00:00 AM", "2026-12-05T00:00:00.000Z"],
    ["text without the comma, midnight", "Dec 5, 2026 12:00:00 AM", "2026-12-05T00:00:00.000Z"],
    ["text, noon", "Dec 5, 2026, 12:00:00 PM", "2026-12-05T12:00:00.000Z"],
    ["text, afternoon", "Dec 5, 2026, 6:31:12 PM", "2026-12-05T18:31:12.000Z"],
    ["text, 24-hour clock with a stray PM", "Apr 12, 2021 18:58:30 PM", "2021-04-12T18:58:30.000Z"],
    ["text without AM/PM", "Dec 5, 2026 18:31:12", "2026-12-05T18:31:12.000Z"],
    ["text with surrounding spaces", "  Dec 5, 2026, 1:02:03 AM ", "2026-12-05T01:02:03.000Z"],
    ["epoch seconds", 1796428800, "2026-12-05T00:00:00.000Z"],
    ["epoch milliseconds", 1796428800000, "2026-12-05T00:00:00.000Z"],
    ["epoch seconds as text", "1796428800", "2026-12-05T00:00:00.000Z"],
    ["epoch seconds with a fraction", 1796428800.5, "2026-12-05T00:00:00.500Z"],
  ])("reads %s", (_label, input, iso) => {
    // Act
    const date = parseDeletionDate(input);

    // Assess
    expect(date?.toISOString()).toBe(iso);
  });

  it.each([
    ["garbage", "soon"],
    ["an empty string", ""],
    ["whitespace", "   "],
    ["null", null],
    ["undefined", undefined],
    ["an object", {}],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a number out of Date's range", 1e20],
    ["an unknown month", "Foo 5, 2026, 1:00:00 AM"],
    ["an impossible hour", "Dec 5, 2026, 25:00:00"],
    ["day zero", "Dec 0, 2026, 1:00:00 AM"],
    ["a date-ish sentence", "5 December"],
  ])("gives undefined for %s", (_label, input) => {
    // Act / Assess
    expect(parseDeletionDate(input)).toBeUndefined();
  });

  it("reads zone-less text as UTC whatever the machine's time zone", () => {
    // Prepare
    process.env.TZ = "Pacific/Auckland";

    // Act
    const text = parseDeletionDate("Dec 5, 2026, 12:00:00 AM");
    const iso = parseDeletionDate("2026-12-05T00:00:00");

    // Assess
    expect(text?.toISOString()).toBe("2026-12-05T00:00:00.000Z");
    expect(iso?.toISOString()).toBe("2026-12-05T00:00:00.000Z");
  });

  it("never throws and returns a valid date or undefined for any value", () => {
    // Act / Assess
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.double(), fc.string()), (value) => {
        const date = parseDeletionDate(value);
        return date === undefined || !Number.isNaN(date.getTime());
      }),
    );
  });
});

describe("daysLeft", () => {
  const deletion = new Date("2026-12-05T18:31:12Z");

  it.each([
    ["exactly a week before", "2026-11-28T18:31:12Z", 7],
    ["a second after a week before (rounds up)", "2026-11-28T18:31:13Z", 7],
    ["a day and a second before", "2026-12-04T18:31:11Z", 2],
    ["a minute before", "2026-12-05T18:30:12Z", 1],
    ["at the deletion time", "2026-12-05T18:31:12Z", 0],
    ["after the deletion time (never negative)", "2026-12-09T00:00:00Z", 0],
  ])("%s: %i", (_label, from, expected) => {
    // Act / Assess
    expect(daysLeft(deletion, new Date(from))).toBe(expected);
  });
});

describe("deletionCountdown", () => {
  const deletion = new Date("2026-12-05T18:31:12Z");

  it.each([
    ["a week before", "2026-11-28T18:31:12Z", "7 days left"],
    ["a minute before", "2026-12-05T18:30:12Z", "1 day left"],
    ["at the deletion time", "2026-12-05T18:31:12Z", "expired today"],
    ["a day and an hour after", "2026-12-06T19:31:12Z", "expired 1 day ago"],
    ["three and a half days after", "2026-12-09T06:31:12Z", "expired 3 days ago"],
  ])("%s: %s", (_label, from, expected) => {
    expect(deletionCountdown(deletion, new Date(from))).toBe(expected);
  });

  it("a past deletion date in a decision says expired, never 0 days left", () => {
    // Prepare: the approved fixture decided 40 days after its deletion date
    const event = structuredClone(loadEvent("key-deletion-scheduled/approved"));

    // Act
    const normalised = normalise(event);
    if (!normalised) throw new Error("the fixture does not normalise");
    const decision = decide(normalised, EXAMPLE, {}, new Date("2027-02-06T14:05:09Z"));

    // Assess
    if (decision.kind !== "finding") throw new Error(`expected a finding, got ${decision.kind}`);
    expect(decision.details.join("\n")).toContain("(expired 40 days ago)");
    expect(decision.details.join("\n")).not.toContain("0 days left");
  });
});

describe("key-deletion-scheduled decide: never throws", () => {
  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))("decides %s", (_path, event) => {
    // Prepare
    const normalised = normalise(event);

    // Act / Assess
    for (const cfg of [ENFORCING, EXAMPLE, config({ mode: "notify", afterCancel: "keep-disabled" })]) {
      const decision =
        normalised && decide(normalised, cfg, { tags: { "kms-responder:protected": "" } }, NOW);
      expect(["finding", "ignore"]).toContain(decision?.kind);
    }
  });

  it("decides ScheduleKeyDeletion records whose response fields have any JSON value", () => {
    // Prepare
    const base = loadEvent("key-deletion-scheduled/unapproved");
    const anyJson = fc.jsonValue();
    const response = fc.record(
      {
        deletionDate: fc.oneof(anyJson, fc.double(), fc.string()),
        keyState: anyJson,
        pendingWindowInDays: anyJson,
      },
      { requiredKeys: [] },
    );

    // Act / Assess
    fc.assert(
      fc.property(response, (responseElements) => {
        const event = structuredClone(base);
        event.detail.responseElements = responseElements as Record<string, unknown>;
        return decide(eventOf(event), EXAMPLE, {}, NOW).kind === "finding";
      }),
    );
  });
});

describe("key-deletion-scheduled decide: the key's current state is the fact", () => {
  it.each(["Enabled", "Disabled"])(
    "not-pending-deletion: the key is %s now (a late replay or already cancelled), nothing to cancel",
    (keyState) => {
      // Act
      const decision = findingOf(decideFixture("unapproved", ENFORCING, { keyState, responder: HERE }));

      // Assess
      expect(decision.verdicts).toEqual(["not-pending-deletion"]);
      expect(decision.actions.map((a) => a.type)).not.toContain("cancel-key-deletion");
    },
  );

  it("a late replay for an Enabled key plans nothing at all", () => {
    // Act
    const decision = findingOf(
      decideFixture("unapproved", ENFORCING, { keyState: "Enabled", responder: HERE }),
    );

    // Assess
    expect(decision.actions).toEqual([]);
  });

  it("a key cancelled since but left Disabled is still restored when it was enabled before", () => {
    // Act
    const decision = findingOf(
      decideFixture("unapproved", ENFORCING, {
        keyState: "Disabled",
        prior: { state: "enabled", detail: "enabled before" },
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.actions).toEqual([{ type: "enable-key", keyRef: key(UNAPPROVED_KEY) }]);
  });

  it("a multi-Region primary in PendingReplicaDeletion is still cancelled", () => {
    // Act
    const decision = findingOf(
      decideFixture("multi-region-primary", ENFORCING, {
        keyState: "PendingReplicaDeletion",
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.verdicts).toBeUndefined();
    expect(decision.actions.map((a) => a.type)).toEqual(["cancel-key-deletion", "enable-key"]);
  });

  it("holds the actions as failed/unverified when DescribeKey failed", () => {
    // Act
    const decision = findingOf(
      decideFixture("unapproved", ENFORCING, { readErrors: { key: "ThrottlingException" }, responder: HERE }),
    );

    // Assess
    expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([
      ["failed", "unverified"],
      ["failed", "unverified"],
    ]);
  });

  it.each([
    ["other-account", { region: "us-east-1", account: "999988887777" }],
    ["other-region", { region: "eu-west-1", account: "111122223333" }],
  ] as const)("%s: the cancel and the restore are held", (code, responder) => {
    // Act
    const decision = findingOf(
      decideFixture("unapproved", ENFORCING, { keyState: "PendingDeletion", responder }),
    );

    // Assess
    expect(decision.actions.map((a) => a.hold?.code)).toEqual([code, code]);
  });

  it("unknown-key: a record naming the key by alias only is still a finding, nothing planned offline", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    delete event.detail.resources;
    event.detail.requestParameters = { keyId: "alias/payments", pendingWindowInDays: 7 };
    event.detail.responseElements = { keyState: "PendingDeletion", pendingWindowInDays: 7 };

    // Act
    const decision = findingOf(decideEvent(event));

    // Assess
    expect(decision.key).toBeUndefined();
    expect(decision.event?.keyHint).toBe("alias/payments");
    expect(shapeOf(decision)).toEqual(finding("critical", ["unapproved-deletion"], []));
  });
});
