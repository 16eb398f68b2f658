import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-material-deleted/decide.js";
import {
  type Config,
  type ConfigInput,
  parseConfig,
  parseConfigText,
} from "../../functions/shared/config.js";
import type { Decision, KeyFacts } from "../../functions/shared/decision.js";
import { type KmsApiCall, normalise } from "../../functions/shared/model.js";
import { type FixtureEvent, loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const DEFAULTS = parseConfig({});
const EXAMPLE = parseConfigText(readFileSync("config/example.json", "utf8"), "config/example.json");

function callOf(event: FixtureEvent): KmsApiCall {
  const call = normalise(event);
  if (!call) throw new Error("fixture did not normalise");
  return call;
}

function decideFixture(variant: string, config: Config = DEFAULTS, facts: KeyFacts = {}): Decision {
  return decide(callOf(loadEvent(`key-material-deleted/${variant}`)), config, facts);
}

const config = (input: ConfigInput): Config => parseConfig(input);

function shapeOf(decision: Decision) {
  return decision.kind === "ignore"
    ? { kind: decision.kind, skipped: decision.skipped, incident: decision.incident }
    : {
        kind: decision.kind,
        incident: decision.incident,
        severity: decision.severity,
        reasons: decision.reasons,
        actions: decision.actions,
      };
}

const CRITICAL_NOTIFY = {
  kind: "finding",
  incident: "key-material-deleted",
  severity: "critical",
  reasons: ["key-material-deleted"],
  actions: [],
};

describe("key-material-deleted decide", () => {
  it.each([
    ["the defaults", DEFAULTS, {}],
    ["config/example.json", EXAMPLE, {}],
    ["notify mode", config({ mode: "notify" }), {}],
    ["an exempt key", DEFAULTS, { tags: { "kms-responder:exempt": "" } }],
    ["an AWS managed key", DEFAULTS, { keyManager: "AWS" }],
  ] as Array<[string, Config, KeyFacts]>)(
    "is a critical notification with no action, with %s",
    (_label, cfg, facts) => {
      // Act
      const decision = decideFixture("delete-imported", cfg, facts);

      // Assess
      expect(shapeOf(decision)).toEqual(CRITICAL_NOTIFY);
    },
  );

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

    // Act
    const decision = decide(callOf(event), EXAMPLE);

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
    ).toEqual(["delete-imported", "failed-call"]);
  });

  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))(
    "never throws: decides %s",
    (_path, event) => {
      // Prepare
      const call = normalise(event);

      // Act / Assess
      for (const cfg of [DEFAULTS, EXAMPLE])
        expect(["finding", "ignore"]).toContain(call && decide(call, cfg).kind);
    },
  );
});
