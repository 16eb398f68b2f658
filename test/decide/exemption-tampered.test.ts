import { describe, expect, it } from "vitest";
import { decide, RESTORED_PROTECTED_VALUE } from "../../functions/exemption-tampered/decide.js";
import { parseTagging } from "../../functions/exemption-tampered/incident.js";
import type { Config } from "../../functions/shared/config.js";
import type { PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import {
  config,
  ENFORCING,
  EXAMPLE,
  FAILED_CALL,
  findingOf,
  HERE,
  holdCases,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const parsers = [{ eventNames: ["TagResource", "UntagResource"], parse: parseTagging }];
/** The fixtures normalised with the incident's own parser, as the pipeline and triage do. */
const decideFixture = (variant: string, cfg: Config = ENFORCING, facts = {}) => {
  const event = normalise(loadEvent(`exemption-tampered/${variant}`), parsers);
  if (!event) throw new Error("fixture did not normalise");
  return decide(event, cfg, facts);
};

const KEY = "arn:aws:kms:us-east-1:111122223333:key/5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const UNTAG: PlannedAction = {
  type: "untag-exempt",
  keyRef: KEY,
  tag: { key: "kms-responder:exempt", value: "true" },
};
const RETAG: PlannedAction = {
  type: "retag-protected",
  keyRef: KEY,
  tag: { key: "kms-responder:protected", value: RESTORED_PROTECTED_VALUE },
};
const critical = (reason: string, actions: PlannedAction[], verdicts?: string[]): Shape => ({
  kind: "finding",
  incident: "exemption-tampered",
  severity: "critical",
  reasons: [reason],
  actions,
  ...(verdicts && { verdicts }),
});
const info = (reason: string): Shape => ({
  kind: "finding",
  incident: "exemption-tampered",
  severity: "info",
  reasons: [reason],
  actions: [],
});
const NO_INCIDENT: Shape = { kind: "ignore", skipped: "no-incident", incident: "exemption-tampered" };

describe("exemption-tampered decide: every fixture", () => {
  it.each([
    ["tag-exempt", ENFORCING, critical("unapproved-exemption", [UNTAG])],
    ["tag-exempt", EXAMPLE, critical("unapproved-exemption", [UNTAG])],
    ["untag-protected", ENFORCING, critical("unapproved-unprotection", [RETAG])],
    // No approved principals by default: even a security admin's exemption is undone.
    [
      "approved-exempt",
      ENFORCING,
      critical("unapproved-exemption", [
        { ...UNTAG, tag: { key: "kms-responder:exempt", value: "migration-2026" } },
      ]),
    ],
    ["approved-exempt", EXAMPLE, info("approved-exemption")],
    ["other-tag", ENFORCING, NO_INCIDENT],
    ["own-call", EXAMPLE, { kind: "ignore", skipped: "own-call", incident: "exemption-tampered" }],
    ["failed-call", ENFORCING, FAILED_CALL],
  ] as Array<[string, Config, Shape]>)("%s (%#)", (variant, cfg, expected) => {
    // Act
    const decision = decideFixture(variant, cfg);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });

  it("covers every exemption-tampered fixture", () => {
    expect(
      loadAllEvents()
        .filter((f) => f.incident === "exemption-tampered")
        .map((f) => f.variant)
        .sort(),
    ).toEqual(["approved-exempt", "failed-call", "other-tag", "own-call", "tag-exempt", "untag-protected"]);
  });
});

describe("exemption-tampered decide: the tag names come from the config", () => {
  it("a custom exempt tag key is the one watched, the default one is then just a tag", () => {
    // Arrange
    const custom = config({ exemptTagKey: "security:no-auto-response" });
    const event = loadEvent("exemption-tampered/tag-exempt");
    const tags = event.detail.requestParameters?.tags as Array<Record<string, string>>;
    const renamed = structuredClone(event);
    (renamed.detail.requestParameters as { tags: unknown }).tags = [
      { ...tags[0], tagKey: "security:no-auto-response" },
    ];

    // Act / Assess
    expect(shapeOf(decideFixture("tag-exempt", custom))).toEqual(NO_INCIDENT);
    const decision = decide(normaliseWith(renamed), custom, {});
    expect(shapeOf(decision)).toEqual(
      critical("unapproved-exemption", [
        { ...UNTAG, tag: { key: "security:no-auto-response", value: "true" } },
      ]),
    );
  });

  it("approved principals are patterns matched against the role", () => {
    const cfg = config({ approvedExemptionPrincipals: ["arn:aws:iam::111122223333:role/build-*"] });
    expect(shapeOf(decideFixture("tag-exempt", cfg))).toEqual(info("approved-exemption"));
    expect(shapeOf(decideFixture("untag-protected", cfg))).toEqual(info("approved-unprotection"));
  });
});

function normaliseWith(raw: unknown) {
  const event = normalise(raw, parsers);
  if (!event) throw new Error("did not normalise");
  return event;
}

describe("exemption-tampered decide: judged by the tags now", () => {
  it("the exempt tag already gone: nothing to undo", () => {
    expect(shapeOf(decideFixture("tag-exempt", ENFORCING, { tags: {} }))).toEqual(
      critical("unapproved-exemption", [], ["tag-gone"]),
    );
  });

  it("the protected tag already back: nothing to undo", () => {
    expect(
      shapeOf(decideFixture("untag-protected", ENFORCING, { tags: { "kms-responder:protected": "yes" } })),
    ).toEqual(critical("unapproved-unprotection", [], ["tag-back"]));
  });

  it("the exemption it undoes does not hold the undo", () => {
    // Arrange: the key carries the exempt tag the attacker set.
    const facts = { tags: { "kms-responder:exempt": "true" }, responder: HERE };

    // Act
    const decision = findingOf(decideFixture("tag-exempt", ENFORCING, facts));

    // Assess
    expect(decision.actions).toEqual([UNTAG]);
  });

  it("an unreadable tag list holds the undo as unverified", () => {
    const decision = findingOf(
      decideFixture("tag-exempt", ENFORCING, { readErrors: { tags: "AccessDenied" } }),
    );
    expect(decision.actions.map((a) => a.hold?.code)).toEqual(["unverified"]);
  });

  it.each(
    holdCases(ENFORCING, { "an ignored key (ARN)": KEY }).filter(([label]) => label !== "an exempt key"),
  )("holds the undo on %s", (_label, cfg, facts, code) => {
    const decision = findingOf(
      decideFixture("tag-exempt", cfg, { tags: { "kms-responder:exempt": "true" }, ...facts }),
    );
    expect(decision.actions.map((a) => a.hold?.code)).toEqual([code]);
  });

  it("notify mode: decided, not changed", () => {
    const decision = findingOf(decideFixture("untag-protected", config({ mode: "notify" }), { tags: {} }));
    expect(decision.actions.map((a) => a.hold?.code)).toEqual(["notify-mode"]);
  });
});

describe("exemption-tampered decide: odd but real records", () => {
  it.each([
    ["tags null", { keyId: KEY, tags: null }],
    ["a tag without a key", { keyId: KEY, tags: [{ tagValue: "x" }, "junk"] }],
    ["tagKeys not a list", { keyId: KEY, tagKeys: "kms-responder:protected" }],
  ])("%s: no incident, no crash", (_label, params) => {
    const event = structuredClone(loadEvent("exemption-tampered/tag-exempt"));
    event.detail.requestParameters = params;
    expect(shapeOf(decide(normaliseWith(event), ENFORCING, {}))).toEqual(NO_INCIDENT);
  });

  it("an empty exempt tag value still exempts", () => {
    const event = structuredClone(loadEvent("exemption-tampered/tag-exempt"));
    event.detail.requestParameters = { keyId: KEY, tags: [{ tagKey: "kms-responder:exempt" }] };
    expect(shapeOf(decide(normaliseWith(event), ENFORCING, {}))).toEqual(
      critical("unapproved-exemption", [{ ...UNTAG, tag: { key: "kms-responder:exempt", value: "" } }]),
    );
  });
});
