import { describe, expect, it } from "vitest";
import { decide as decideDeletion } from "../../functions/key-deletion-scheduled/decide.js";
import { decide } from "../../functions/pending-deletion-key-used/decide.js";
import type { Config } from "../../functions/shared/config.js";
import { incidentOf, type KeyFacts, type PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/model.js";
import {
  callOf,
  config,
  DEFAULTS,
  decisionsFor,
  EXAMPLE,
  FAILED_CALL,
  findingOf,
  keyArn as key,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const { decideEvent, decideFixture } = decisionsFor("pending-deletion-key-used", decide);

const DECRYPT_KEY = "8a9b0c1d-2e3f-4ae1-b5c6-d7e8f9a0b1c2";
const S3_KEY = "9b0c1d2e-3f4a-4bf2-86d7-e8f9a0b1c2d3";

const cancelAndRestore = (keyId: string): PlannedAction[] => [
  { type: "cancel-key-deletion", keyRef: key(keyId) },
  { type: "enable-key", keyRef: key(keyId), onlyIfEnabledBefore: true },
];

const finding = (actions: PlannedAction[]): Shape => ({
  kind: "finding",
  incident: "pending-deletion-key-used",
  severity: "high",
  reasons: ["pending-deletion-key-used"],
  actions,
});

describe("pending-deletion-key-used decide: every fixture", () => {
  it.each([
    ["decrypt-pending-deletion", DEFAULTS, finding(cancelAndRestore(DECRYPT_KEY))],
    ["decrypt-pending-deletion", EXAMPLE, finding(cancelAndRestore(DECRYPT_KEY))],
    ["generate-data-key-via-s3", DEFAULTS, finding(cancelAndRestore(S3_KEY))],
    ["generate-data-key-via-s3", EXAMPLE, finding(cancelAndRestore(S3_KEY))],
    // A call on a disabled key is an ordinary failed call: not this incident.
    ["disabled-key-error", DEFAULTS, FAILED_CALL],
    ["disabled-key-error", EXAMPLE, FAILED_CALL],
  ] as Array<[string, Config, Shape]>)("%s (%#)", (variant, cfg, expected) => {
    // Act
    const decision = decideFixture(variant, cfg);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });

  it("covers every pending-deletion-key-used fixture", () => {
    // Assess
    expect(
      loadAllEvents()
        .filter((f) => f.incident === "pending-deletion-key-used")
        .map((f) => f.variant)
        .sort(),
    ).toEqual(["decrypt-pending-deletion", "disabled-key-error", "generate-data-key-via-s3"]);
  });

  it("routes only the pending-deletion error to this incident", () => {
    // Act / Assess
    expect(incidentOf(callOf(loadEvent("pending-deletion-key-used/decrypt-pending-deletion")))).toBe(
      "pending-deletion-key-used",
    );
    expect(incidentOf(callOf(loadEvent("pending-deletion-key-used/disabled-key-error")))).toBeUndefined();
    expect(incidentOf(callOf(loadEvent("other/decrypt-success")))).toBeUndefined();
  });

  it("is not a key-deletion-scheduled incident", () => {
    // Act
    const decision = decideDeletion(
      callOf(loadEvent("pending-deletion-key-used/decrypt-pending-deletion")),
      DEFAULTS,
    );

    // Assess
    expect(decision).toMatchObject({ kind: "ignore", skipped: "no-incident" });
  });
});

describe("pending-deletion-key-used decide: the notification names key, caller and operation", () => {
  it("names the operation, the caller and the error", () => {
    // Act
    const decision = findingOf(decideFixture("decrypt-pending-deletion"));

    // Assess
    expect(decision.summary).toBe(
      "Decrypt by arn:aws:sts::111122223333:assumed-role/orders-service-lambda/orders-service-processor failed because the key is pending deletion",
    );
    expect(decision.details).toEqual([
      `Failed operation: Decrypt (KMSInvalidStateException: ${key(DECRYPT_KEY)} is pending deletion.)`,
    ]);
  });

  it("names the AWS service that called on the principal's behalf", () => {
    // Act
    const decision = findingOf(decideFixture("generate-data-key-via-s3"));

    // Assess
    expect(decision.summary).toBe(
      "GenerateDataKey by s3.amazonaws.com on behalf of arn:aws:sts::111122223333:assumed-role/data-uploader/i-0c2e4a6b8d0f13579 failed because the key is pending deletion",
    );
  });

  it("finds the key in the error message when the record names it nowhere else", () => {
    // Prepare
    const event = loadEvent("pending-deletion-key-used/decrypt-pending-deletion");
    delete event.detail.resources;
    event.detail.requestParameters = null;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(finding(cancelAndRestore(DECRYPT_KEY)));
  });
});

describe("pending-deletion-key-used decide: config", () => {
  it.each([
    ["keep-disabled", [{ type: "cancel-key-deletion", keyRef: key(DECRYPT_KEY) }]],
    [
      "enable",
      [
        { type: "cancel-key-deletion", keyRef: key(DECRYPT_KEY) },
        { type: "enable-key", keyRef: key(DECRYPT_KEY) },
      ],
    ],
  ] as const)("afterCancel %s", (afterCancel, expected) => {
    // Act
    const decision = findingOf(decideFixture("decrypt-pending-deletion", config({ afterCancel })));

    // Assess
    expect(decision.actions).toEqual(expected);
  });

  it("holds the actions as dry-run in notify mode", () => {
    // Act
    const decision = findingOf(decideFixture("decrypt-pending-deletion", config({ mode: "notify" })));

    // Assess
    expect(decision.actions.map((a) => a.hold?.status)).toEqual(["dry-run", "dry-run"]);
  });

  it.each([
    ["an exempt key", DEFAULTS, { tags: { "kms-responder:exempt": "" } }],
    ["a key in ignoredKeys", config({ ignoredKeys: [key(DECRYPT_KEY)] }), {}],
    ["an AWS managed key", DEFAULTS, { keyManager: "AWS" }],
  ] as Array<[string, Config, KeyFacts]>)("holds the actions as skipped on %s", (_label, cfg, facts) => {
    // Act
    const decision = findingOf(decideFixture("decrypt-pending-deletion", cfg, facts));

    // Assess
    expect(decision.actions.map((a) => a.hold?.status)).toEqual(["skipped", "skipped"]);
  });

  it("ignores the call when the incident is off", () => {
    // Act
    const decision = decideFixture(
      "decrypt-pending-deletion",
      config({ incidents: { "pending-deletion-key-used": { mode: "off" } } }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "incident-off",
      incident: "pending-deletion-key-used",
    });
  });

  it("ignores the responder's own failed call", () => {
    // Prepare
    const ownRole = config({ responderRoleArns: ["arn:aws:iam::111122223333:role/orders-service-lambda"] });

    // Act
    const decision = decideFixture("decrypt-pending-deletion", ownRole);

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "own-call",
      incident: "pending-deletion-key-used",
    });
  });
});

describe("pending-deletion-key-used decide: never throws", () => {
  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))("decides %s", (_path, event) => {
    // Prepare
    const call = normalise(event);

    // Act / Assess
    for (const cfg of [DEFAULTS, EXAMPLE])
      expect(["finding", "ignore"]).toContain(call && decide(call, cfg).kind);
  });
});
