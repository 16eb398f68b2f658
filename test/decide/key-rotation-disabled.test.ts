import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-rotation-disabled/decide.js";
import type { Config } from "../../functions/shared/config.js";
import type { PlannedAction } from "../../functions/shared/decision.js";
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
  holdCases,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const { decideEvent, decideFixture } = decisionsFor("key-rotation-disabled", decide);

const KEY_ID = "5d6e7f8a-9b0c-4dbe-82f3-a4b5c6d7e8f9";
const KEY = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const ENABLE_ROTATION: PlannedAction = { type: "enable-key-rotation", keyRef: KEY };

const finding = (actions: PlannedAction[]): Shape => ({
  kind: "finding",
  incident: "key-rotation-disabled",
  severity: "medium",
  reasons: ["rotation-disabled"],
  actions,
});

describe("key-rotation-disabled decide: every fixture", () => {
  it.each([
    ["disable-rotation", ENFORCING, finding([ENABLE_ROTATION])],
    ["disable-rotation", EXAMPLE, finding([ENABLE_ROTATION])],
    [
      "own-call",
      ENFORCING,
      finding([
        {
          type: "enable-key-rotation",
          keyRef: "arn:aws:kms:us-east-1:111122223333:key/7f8a9b0c-1d2e-4fd0-a4b5-c6d7e8f9a0b1",
        },
      ]),
    ],
    ["own-call", EXAMPLE, { kind: "ignore", skipped: "own-call", incident: "key-rotation-disabled" }],
    ["failed-call", ENFORCING, FAILED_CALL],
    ["failed-call", EXAMPLE, FAILED_CALL],
  ] as Array<[string, Config, Shape]>)("%s (%#)", (variant, cfg, expected) => {
    // Act
    const decision = decideFixture(variant, cfg);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });

  it("covers every key-rotation-disabled fixture", () => {
    // Assess
    expect(
      loadAllEvents()
        .filter((f) => f.incident === "key-rotation-disabled")
        .map((f) => f.variant)
        .sort(),
    ).toEqual(["disable-rotation", "failed-call", "own-call"]);
  });
});

describe("key-rotation-disabled decide: modes and held actions", () => {
  it("holds the re-enable as dry-run in notify mode", () => {
    // Act
    const decision = decideFixture("disable-rotation", config({ mode: "notify" }));

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding([
        { ...ENABLE_ROTATION, hold: { status: "dry-run", code: "notify-mode", why: expect.any(String) } },
      ]),
    );
  });

  it("holds the re-enable as dry-run when only this incident is in notify mode", () => {
    // Act
    const decision = findingOf(
      decideFixture(
        "disable-rotation",
        config({ incidents: { "key-rotation-disabled": { mode: "notify" } } }),
      ),
    );

    // Assess
    expect(decision.actions.map((a) => a.hold?.status)).toEqual(["dry-run"]);
  });

  it("ignores the call when the incident is off", () => {
    // Act
    const decision = decideFixture(
      "disable-rotation",
      config({ incidents: { "key-rotation-disabled": { mode: "off" } } }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "incident-off",
      incident: "key-rotation-disabled",
    });
  });

  it.each(
    holdCases(
      ENFORCING,
      { "a key in ignoredKeys (by id)": KEY_ID, "a key in ignoredKeys (by ARN)": KEY },
      "true",
    ),
  )("holds the re-enable as skipped on %s", (_label, cfg, facts, code) => {
    // Act
    const decision = findingOf(decideFixture("disable-rotation", cfg, facts));

    // Assess
    expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([["skipped", code]]);
  });

  it("names the key by alias/aws/ebs only: still a finding, nothing planned until the alias is resolved", () => {
    // Prepare
    const event = loadEvent("key-rotation-disabled/disable-rotation");
    event.detail.requestParameters = { keyId: "alias/aws/ebs" };
    delete event.detail.resources;

    // Act
    const decision = findingOf(decideEvent(event));

    // Assess
    expect(decision.event?.keyHint).toBe("alias/aws/ebs");
    expect(decision.actions).toEqual([]);
  });

  it("holds the re-enable as aws-managed-key once the handler resolved alias/aws/ebs to its key", () => {
    // Prepare: what the pipeline decides with after DescribeKey resolved the alias.
    const event = loadEvent("key-rotation-disabled/disable-rotation");
    event.detail.requestParameters = { keyId: "alias/aws/ebs" };
    delete event.detail.resources;
    const normalised = eventOf(event);
    const resolved = {
      ...normalised,
      key: {
        arn: KEY,
        id: KEY_ID,
        region: "us-east-1",
        account: "111122223333",
        partition: "aws",
        alias: "alias/aws/ebs",
      },
    };

    // Act
    const decision = findingOf(decide(resolved, ENFORCING, { responder: HERE }));

    // Assess
    expect(decision.actions.map((a) => [a.keyRef, a.hold?.code])).toEqual([[KEY, "aws-managed-key"]]);
  });
});

describe("key-rotation-disabled decide: the rotation status now is the fact", () => {
  it("state-differs: rotation is on again now, nothing to do", () => {
    // Act
    const decision = findingOf(
      decideFixture("disable-rotation", ENFORCING, { rotationEnabled: true, responder: HERE }),
    );

    // Assess
    expect(decision.verdicts).toEqual(["state-differs"]);
    expect(decision.actions).toEqual([]);
  });

  it("re-enables when rotation is still off", () => {
    // Act
    const decision = findingOf(
      decideFixture("disable-rotation", ENFORCING, { rotationEnabled: false, responder: HERE }),
    );

    // Assess
    expect(decision.actions).toEqual([ENABLE_ROTATION]);
  });

  it("holds the re-enable as failed/unverified when GetKeyRotationStatus failed", () => {
    // Act
    const decision = findingOf(
      decideFixture("disable-rotation", ENFORCING, {
        readErrors: { rotation: "AccessDenied" },
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([["failed", "unverified"]]);
  });
});

describe("key-rotation-disabled decide: never throws", () => {
  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))("decides %s", (_path, event) => {
    // Prepare
    const normalised = normalise(event);

    // Act / Assess
    for (const cfg of [ENFORCING, EXAMPLE])
      expect(["finding", "ignore"]).toContain(normalised && decide(normalised, cfg, {}).kind);
  });
});
