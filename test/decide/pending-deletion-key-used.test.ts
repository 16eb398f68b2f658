import { describe, expect, it } from "vitest";
import { decide as decideDeletion } from "../../functions/key-deletion-scheduled/decide.js";
import { decide } from "../../functions/pending-deletion-key-used/decide.js";
import { INCIDENTS } from "../../functions/registry.js";
import type { Config } from "../../functions/shared/config.js";
import type { PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import { decideAny, incidentFor } from "../../functions/shared/route.js";
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
  { type: "enable-key", keyRef: key(keyId) },
];

const finding = (actions: PlannedAction[], reasons = ["pending-deletion-key-used"]): Shape => ({
  kind: "finding",
  incident: "pending-deletion-key-used",
  severity: "high",
  reasons,
  actions,
});

const ENCRYPT_KEY = "0c1d2e3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5";
const SIGNING_KEY = "1d2e3f4a-5b6c-4d7e-9f0a-b1c2d3e4f5a6";
const PRIMARY_KEY = "mrk-2e3f4a5b6c7d4e8f9a0b1c2d3e4f5a6b";
const SOURCE_KEY = "3f4a5b6c-7d8e-4f9a-8b1c-d2e3f4a5b6c7";
const DESTINATION_KEY = "4a5b6c7d-8e9f-4a0b-9c2d-e3f4a5b6c7d8";
const OUR_KEY = "6c7d8e9f-0a1b-4c2d-9e4f-a5b6c7d8e9f0";
/** This incident's decide takes failed calls, and finds no pending deletion in this one. */
const NOT_THIS: Shape = { kind: "ignore", skipped: "no-incident", incident: "pending-deletion-key-used" };
const FOREIGN = finding([], ["foreign-key-pending-deletion"]);
const UNTRUSTED = finding([], ["untrusted-account-uses-key"]);

/** Whether the incident's own `matches` (routing) takes the event. */
const routed = (raw: unknown) => incidentFor(INCIDENTS, eventOf(raw))?.name;

describe("pending-deletion-key-used decide: every fixture", () => {
  it.each([
    ["decrypt-pending-deletion", ENFORCING, finding(cancelAndRestore(DECRYPT_KEY))],
    ["decrypt-pending-deletion", EXAMPLE, finding(cancelAndRestore(DECRYPT_KEY))],
    ["generate-data-key-via-s3", ENFORCING, finding(cancelAndRestore(S3_KEY))],
    ["generate-data-key-via-s3", EXAMPLE, finding(cancelAndRestore(S3_KEY))],
    // A call on a disabled key is an ordinary failed call: not this incident.
    ["disabled-key-error", ENFORCING, NOT_THIS],
    ["disabled-key-error", EXAMPLE, NOT_THIS],
    ["disabled-exception-pending", ENFORCING, finding(cancelAndRestore(ENCRYPT_KEY))],
    ["get-public-key-pending", ENFORCING, finding(cancelAndRestore(SIGNING_KEY))],
    ["replica-deletion-pending", ENFORCING, finding(cancelAndRestore(PRIMARY_KEY))],
    ["reencrypt-destination", ENFORCING, finding(cancelAndRestore(DESTINATION_KEY))],
    ["reencrypt-source", ENFORCING, finding(cancelAndRestore(SOURCE_KEY))],
    ["partner-key", ENFORCING, FOREIGN],
    ["partner-key", EXAMPLE, FOREIGN],
    ["untrusted-caller", ENFORCING, UNTRUSTED],
    ["untrusted-caller", EXAMPLE, UNTRUSTED],
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
    ).toEqual([
      "decrypt-pending-deletion",
      "disabled-exception-pending",
      "disabled-key-error",
      "generate-data-key-via-s3",
      "get-public-key-pending",
      "partner-key",
      "reencrypt-destination",
      "reencrypt-source",
      "replica-deletion-pending",
      "untrusted-caller",
    ]);
  });

  it("routes only the pending-deletion error to this incident", () => {
    // Act / Assess
    expect(routed(loadEvent("pending-deletion-key-used/decrypt-pending-deletion"))).toBe(
      "pending-deletion-key-used",
    );
    expect(routed(loadEvent("pending-deletion-key-used/disabled-key-error"))).toBeUndefined();
    expect(routed(loadEvent("other/decrypt-success"))).toBeUndefined();
    // Routed over every incident, a failed call no incident takes is a failed call.
    expect(
      shapeOf(
        decideAny(INCIDENTS, eventOf(loadEvent("pending-deletion-key-used/disabled-key-error")), ENFORCING),
      ),
    ).toEqual(FAILED_CALL);
  });

  it("is not a key-deletion-scheduled incident", () => {
    // Act
    const decision = decideDeletion(
      eventOf(loadEvent("pending-deletion-key-used/decrypt-pending-deletion")),
      ENFORCING,
    );

    // Assess
    expect(decision).toMatchObject({ kind: "ignore", skipped: "failed-call" });
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
    expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([
      ["dry-run", "notify-mode"],
      ["dry-run", "notify-mode"],
    ]);
  });

  it.each(holdCases(ENFORCING, { "a key in ignoredKeys": key(DECRYPT_KEY) }))(
    "holds the actions as skipped on %s",
    (_label, cfg, facts, code) => {
      // Act
      const decision = findingOf(decideFixture("decrypt-pending-deletion", cfg, facts));

      // Assess
      expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([
        ["skipped", code],
        ["skipped", code],
      ]);
    },
  );

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
    const normalised = normalise(event);

    // Act / Assess
    for (const cfg of [ENFORCING, EXAMPLE])
      expect(["finding", "ignore"]).toContain(normalised && decide(normalised, cfg, {}).kind);
  });
});

describe("pending-deletion-key-used decide: which failures count", () => {
  it("DisabledException with 'is pending deletion.' counts", () => {
    // Act / Assess
    expect(routed(loadEvent("pending-deletion-key-used/disabled-exception-pending"))).toBe(
      "pending-deletion-key-used",
    );
  });

  it("DisabledException with 'is disabled.' does not", () => {
    // Act / Assess
    expect(routed(loadEvent("pending-deletion-key-used/disabled-key-error"))).toBeUndefined();
  });

  it("GetPublicKey counts: reading the public key proves the key is needed", () => {
    // Act / Assess
    expect(routed(loadEvent("pending-deletion-key-used/get-public-key-pending"))).toBe(
      "pending-deletion-key-used",
    );
  });

  it.each(["EnableKey", "DescribeKey", "PutKeyPolicy"])(
    "an administrative call (%s) does not count",
    (eventName) => {
      // Prepare
      const event = loadEvent("pending-deletion-key-used/get-public-key-pending");
      event.detail.eventName = eventName;

      // Act
      const decision = decideEvent(event);

      // Assess
      expect(routed(event)).toBeUndefined();
      expect(shapeOf(decision)).toEqual({
        kind: "ignore",
        skipped: "no-incident",
        incident: "pending-deletion-key-used",
      });
    },
  );

  it("a multi-Region primary's 'is pending replica deletion.' counts", () => {
    // Act / Assess
    expect(routed(loadEvent("pending-deletion-key-used/replica-deletion-pending"))).toBe(
      "pending-deletion-key-used",
    );
  });

  it("'is not pending deletion.' does not count", () => {
    // Prepare
    const event = loadEvent("pending-deletion-key-used/decrypt-pending-deletion");
    event.detail.errorMessage = `${key(DECRYPT_KEY)} is not pending deletion.`;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(routed(event)).toBeUndefined();
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "no-incident",
      incident: "pending-deletion-key-used",
    });
  });

  it("a ReEncrypt failing on its destination key targets the destination, not the source", () => {
    // Act
    const decision = findingOf(decideFixture("reencrypt-destination"));

    // Assess
    expect(decision.key?.arn).toBe(key(DESTINATION_KEY));
    expect(decision.actions.map((a) => a.keyRef)).not.toContain(key(SOURCE_KEY));
  });
});

describe("pending-deletion-key-used decide: whose key, whose call", () => {
  it("a partner's key (another account) plans nothing and says so", () => {
    // Act
    const decision = findingOf(decideFixture("partner-key"));

    // Assess
    expect(decision.actions).toEqual([]);
    expect(decision.key?.account).toBe("444455556666");
  });

  it("a caller from an untrusted account plans nothing: still having access is no reason to keep the key", () => {
    // Act
    const decision = findingOf(
      decideFixture("untrusted-caller", ENFORCING, { keyState: "PendingDeletion", responder: HERE }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(UNTRUSTED);
  });

  it("a caller from a trusted account counts like our own", () => {
    // Prepare
    const trusting = config({ trustedAccounts: ["777788889999"] });

    // Act
    const decision = decideFixture("untrusted-caller", trusting);

    // Assess
    expect(shapeOf(decision)).toEqual(finding(cancelAndRestore(OUR_KEY)));
  });
});

describe("pending-deletion-key-used decide: the key's current state is the fact", () => {
  it("not-pending-deletion: the key is Enabled now, nothing is cancelled or enabled", () => {
    // Act
    const decision = findingOf(
      decideFixture("decrypt-pending-deletion", ENFORCING, { keyState: "Enabled", responder: HERE }),
    );

    // Assess
    expect(decision.verdicts).toEqual(["not-pending-deletion"]);
    expect(decision.actions).toEqual([]);
  });

  it("a key disabled before the deletion (facts.prior) is cancelled but not enabled", () => {
    // Act
    const decision = findingOf(
      decideFixture("decrypt-pending-deletion", ENFORCING, {
        keyState: "PendingDeletion",
        prior: { state: "disabled", detail: "disabled before" },
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.actions).toEqual([{ type: "cancel-key-deletion", keyRef: key(DECRYPT_KEY) }]);
  });

  it("a DisableKey since the event (facts.disabledSince) is respected: cancelled, not enabled", () => {
    // Act
    const decision = findingOf(
      decideFixture("decrypt-pending-deletion", ENFORCING, {
        keyState: "PendingDeletion",
        prior: { state: "enabled", detail: "enabled before" },
        disabledSince: "the key was disabled after the event",
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.actions).toEqual([{ type: "cancel-key-deletion", keyRef: key(DECRYPT_KEY) }]);
  });

  it("holds the actions as failed/unverified when DescribeKey failed", () => {
    // Act
    const decision = findingOf(
      decideFixture("decrypt-pending-deletion", ENFORCING, {
        readErrors: { key: "Throttling" },
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.actions.map((a) => a.hold?.code)).toEqual(["unverified", "unverified"]);
  });
});
