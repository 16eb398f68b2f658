import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  actorPrincipal,
  cloudTrailRecord,
  type EventDetail,
  type KmsEvent,
  keyLabel,
  normalise,
  parseRecordDate,
} from "../../functions/shared/event.js";
import { GRANT_KEY_ARN, GRANT_KEY_ID, loadAllEvents, loadEvent } from "../helpers/fixtures.js";

/** Normalises and fails the test (instead of returning undefined) when the input is not a record. */
function mustNormalise(input: unknown): KmsEvent {
  const event = normalise(input);
  if (!event) throw new Error("expected a KmsEvent, got undefined");
  return event;
}

/** The detail of one kind, or a failed test naming the kind found instead. */
function detailOf<K extends EventDetail["kind"]>(
  event: KmsEvent,
  kind: K,
): Extract<EventDetail, { kind: K }> {
  const detail = event.detail;
  if (detail.kind !== kind) throw new Error(`expected a ${kind} detail, got ${detail.kind}`);
  return detail as Extract<EventDetail, { kind: K }>;
}

const EXTERNAL_GRANT_KEY = GRANT_KEY_ARN;
const EXTERNAL_GRANT_KEY_ID = GRANT_KEY_ID;

describe("normalise: envelope and raw record", () => {
  it.each(loadAllEvents().map((f) => [f.path, f] as const))(
    "gives the same KmsEvent for the EventBridge envelope and the raw record of %s",
    (_path, fixture) => {
      // Prepare
      const raw = structuredClone(fixture.event.detail);

      // Act
      const fromEnvelope = normalise(fixture.event);
      const fromRecord = normalise(raw);

      // Assess
      expect(fromEnvelope).toBeDefined();
      expect(fromEnvelope).toEqual(fromRecord);
    },
  );

  it("reads every field of a CreateGrant record", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call).toMatchObject({
      eventId: "7404c6cc-a32e-4c17-bddb-150a93c40481",
      eventName: "CreateGrant",
      eventSource: "kms.amazonaws.com",
      eventTime: "2026-11-28T18:22:41Z",
      eventType: "AwsApiCall",
      accountId: "111122223333",
      region: "us-east-1",
      partition: "aws",
      keyHint: undefined,
      sourceIp: "203.0.113.45",
      errorCode: undefined,
      errorMessage: undefined,
    });
    expect(call.key).toEqual({
      arn: EXTERNAL_GRANT_KEY,
      id: EXTERNAL_GRANT_KEY_ID,
      region: "us-east-1",
      account: "111122223333",
      partition: "aws",
    });
    expect(call.userAgent).toMatch(/^aws-cli\//);
    expect(call.detail).toEqual({
      kind: "grant",
      grantee: "arn:aws:iam::444455556666:role/exfil",
      retiringPrincipal: undefined,
      operations: ["Decrypt", "GenerateDataKey"],
      constraints: undefined,
      grantId: "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7",
      name: undefined,
    });
    expect(call).not.toHaveProperty("request");
    expect(call).not.toHaveProperty("response");
    expect(keyLabel(call)).toBe(EXTERNAL_GRANT_KEY);
  });
});

describe("normalise: the typed detail of each event name", () => {
  it("CreateGrant: the grant with its encryption-context constraint, retiring principal and name", () => {
    // Prepare: delegation.json's grant is limited to an encryption context.
    const event = loadEvent("rogue-grant/delegation");
    event.detail.requestParameters = {
      ...event.detail.requestParameters,
      retiringPrincipal: "arn:aws:iam::111122223333:role/batch-admin",
    };

    // Act
    const grant = detailOf(mustNormalise(event), "grant");

    // Assess
    expect(grant).toEqual({
      kind: "grant",
      grantee: "arn:aws:iam::111122223333:role/batch-worker",
      retiringPrincipal: "arn:aws:iam::111122223333:role/batch-admin",
      operations: ["Decrypt", "GenerateDataKey", "CreateGrant", "RetireGrant"],
      constraints: { encryptionContextSubset: { app: "nightly-batch", env: "prod" } },
      grantId: "5b988c72b947366b115eb55b774f444d8523ba4bac1cf098c4d978e8d78788e6",
      name: "batch-worker-delegation",
    });
  });

  it("CreateGrant: an encryptionContextEquals constraint is kept as equals, not widened to subset", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.requestParameters = {
      ...event.detail.requestParameters,
      constraints: { encryptionContextEquals: { tenant: "acme", bad: 7 } },
    };

    // Act
    const grant = detailOf(mustNormalise(event), "grant");

    // Assess: a non-string context value cannot be part of a grant constraint and is dropped
    expect(grant.constraints).toEqual({ encryptionContextEquals: { tenant: "acme" } });
  });

  it("CreateGrant: operations that are not strings are dropped, a missing list is empty", () => {
    // Prepare
    const odd = loadEvent("rogue-grant/external-grantee");
    odd.detail.requestParameters = { ...odd.detail.requestParameters, operations: ["Decrypt", 3, null] };
    const none = loadEvent("rogue-grant/external-grantee");
    none.detail.requestParameters = { keyId: EXTERNAL_GRANT_KEY_ID };

    // Act
    const oddGrant = detailOf(mustNormalise(odd), "grant");
    const noneGrant = detailOf(mustNormalise(none), "grant");

    // Assess
    expect(oddGrant.operations).toEqual(["Decrypt"]);
    expect(noneGrant).toMatchObject({ operations: [], grantee: undefined, constraints: undefined });
  });

  it("ScheduleKeyDeletion: the deletion date, the state KMS answered and the window", () => {
    // Act
    const deletion = detailOf(mustNormalise(loadEvent("key-deletion-scheduled/unapproved")), "deletion");

    // Assess
    expect(deletion).toEqual({
      kind: "deletion",
      deletionDate: new Date("2026-12-05T18:31:12Z"),
      keyState: "PendingDeletion",
      pendingWindowInDays: 7,
    });
  });

  it("ScheduleKeyDeletion of a multi-Region primary: PendingReplicaDeletion, no date", () => {
    // Act
    const call = mustNormalise(loadEvent("key-deletion-scheduled/multi-region-primary"));

    // Assess
    expect(detailOf(call, "deletion")).toEqual({
      kind: "deletion",
      deletionDate: undefined,
      keyState: "PendingReplicaDeletion",
      pendingWindowInDays: 30,
    });
    expect(call.key?.id).toBe("mrk-8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a");
  });

  it("ScheduleKeyDeletion: the window from the request when the response has none", () => {
    // Prepare: legacy-date-format.json answers without pendingWindowInDays
    const event = loadEvent("key-deletion-scheduled/legacy-date-format");

    // Act
    const deletion = detailOf(mustNormalise(event), "deletion");

    // Assess: "Dec 5, 2026 11:47:31 PM" is UTC, 12-hour clock
    expect(deletion).toEqual({
      kind: "deletion",
      deletionDate: new Date("2026-12-05T23:47:31Z"),
      keyState: undefined,
      pendingWindowInDays: 8,
    });
  });

  it.each<[string, unknown, string]>([
    ["the console text form", "Dec 5, 2026, 6:31:12 PM", "2026-12-05T18:31:12.000Z"],
    ["the text form without the comma after the year", "Jun 30, 2020 2:34:07 AM", "2020-06-30T02:34:07.000Z"],
    ["a 24-hour clock with a stray PM", "Apr 12, 2021 18:58:30 PM", "2021-04-12T18:58:30.000Z"],
    ["12 AM as midnight", "Dec 12, 2026, 12:00:00 AM", "2026-12-12T00:00:00.000Z"],
    ["12 PM as noon", "Dec 12, 2026, 12:00:00 PM", "2026-12-12T12:00:00.000Z"],
    ["a full month name", "December 5, 2026, 6:31:12 PM", "2026-12-05T18:31:12.000Z"],
    ["ISO 8601 with a zone", "2026-12-05T18:31:12Z", "2026-12-05T18:31:12.000Z"],
    ["ISO 8601 with an offset", "2026-12-05T20:31:12+02:00", "2026-12-05T18:31:12.000Z"],
    ["ISO 8601 without a zone (UTC, not local time)", "2026-12-05T18:31:12", "2026-12-05T18:31:12.000Z"],
    ["an ISO date and time with a space", "2026-12-05 18:31:12", "2026-12-05T18:31:12.000Z"],
    ["epoch seconds", 1796495472, "2026-12-05T18:31:12.000Z"],
    ["epoch milliseconds", 1796495472000, "2026-12-05T18:31:12.000Z"],
    ["epoch seconds as text", "1796495472", "2026-12-05T18:31:12.000Z"],
  ])("ScheduleKeyDeletion: reads deletionDate in %s", (_label, value, iso) => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    event.detail.responseElements = { ...event.detail.responseElements, deletionDate: value };

    // Act
    const deletion = detailOf(mustNormalise(event), "deletion");

    // Assess
    expect(deletion.deletionDate?.toISOString()).toBe(iso);
    expect(parseRecordDate(value)?.toISOString()).toBe(iso);
  });

  it.each<[string, unknown]>([
    ["missing", undefined],
    ["null", null],
    ["empty", ""],
    ["not a date", "soon"],
    ["an impossible hour", "Dec 5, 2026, 25:31:12"],
    ["an unknown month", "Foo 5, 2026, 6:31:12 PM"],
    ["out of Date's range", 1e20],
    ["an object", { date: "2026-12-05" }],
  ])("ScheduleKeyDeletion: a deletionDate that is %s is undefined, not a crash", (_label, value) => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    event.detail.responseElements = { ...event.detail.responseElements, deletionDate: value };

    // Act
    const deletion = detailOf(mustNormalise(event), "deletion");

    // Assess
    expect(deletion.deletionDate).toBeUndefined();
    expect(deletion.keyState).toBe("PendingDeletion");
  });

  it("PutKeyPolicy: the policy text, the lockout bypass flag and the key it belongs to", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/public-policy");

    // Act
    const call = mustNormalise(event);
    const policy = detailOf(call, "policy");

    // Assess
    expect(policy.policy).toBe(event.detail.requestParameters?.policy);
    expect(policy.bypassLockoutSafetyCheck).toBe(false);
    expect(policy.target).toEqual(call.key);
    expect(policy.target?.arn).toBe(
      "arn:aws:kms:us-east-1:111122223333:key/1d2e3f4a-5b6c-4d14-a8f9-a0b1c2d3e4f5",
    );
  });

  it("PutKeyPolicy: the bypass flag is true only for the boolean true", () => {
    // Prepare
    const bypass = loadEvent("key-policy-violation/public-policy");
    bypass.detail.requestParameters = {
      ...bypass.detail.requestParameters,
      bypassPolicyLockoutSafetyCheck: true,
    };
    const text = loadEvent("key-policy-violation/public-policy");
    text.detail.requestParameters = {
      ...text.detail.requestParameters,
      bypassPolicyLockoutSafetyCheck: "true",
    };

    // Act / Assess
    expect(detailOf(mustNormalise(bypass), "policy").bypassLockoutSafetyCheck).toBe(true);
    expect(detailOf(mustNormalise(text), "policy").bypassLockoutSafetyCheck).toBe(false);
  });

  it("CreateKey: the policy of the new key (from keyMetadata.arn); without a policy, undefined", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/create-key-default-policy");
    const without = loadEvent("key-policy-violation/create-key-default-policy");
    without.detail.requestParameters = { ...without.detail.requestParameters, policy: null };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(detailOf(call, "policy")).toMatchObject({
      policy: expect.stringContaining("key-default-1"),
      target: { arn: "arn:aws:kms:us-east-1:111122223333:key/5b6c7d8e-9f0a-4b58-acd3-e4f5a6b7c8d9" },
    });
    expect(detailOf(mustNormalise(without), "policy").policy).toBeUndefined();
  });

  it("ReplicateKey: the policy belongs to the replica (responseElements.replicaKeyMetadata.arn), not the primary", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/replicate-key-public");

    // Act
    const call = mustNormalise(event);
    const policy = detailOf(call, "policy");

    // Assess
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0");
    expect(policy.target).toEqual({
      arn: "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
      id: "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
      region: "us-west-2",
      account: "111122223333",
      partition: "aws",
    });
    expect(policy.policy).toBe(event.detail.requestParameters?.policy);
  });

  it("ReplicateKey without replicaKeyMetadata: the replica is the primary's id in requestParameters.replicaRegion", () => {
    // Prepare: a record whose response lacks the replica's metadata
    const event = loadEvent("key-policy-violation/replicate-key-public");
    event.detail.responseElements = { replicaPolicy: "{}" };

    // Act
    const policy = detailOf(mustNormalise(event), "policy");

    // Assess
    expect(policy.target).toEqual({
      arn: "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
      id: "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
      region: "us-west-2",
      account: "111122223333",
      partition: "aws",
    });
  });

  it("ReplicateKey: without a request policy, the response's replicaPolicy is the policy", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/replicate-key-public");
    const { policy: _policy, ...request } = event.detail.requestParameters ?? {};
    event.detail.requestParameters = request;
    event.detail.responseElements = { ...event.detail.responseElements, replicaPolicy: '{"Statement":[]}' };

    // Act
    const policy = detailOf(mustNormalise(event), "policy");

    // Assess
    expect(policy.policy).toBe('{"Statement":[]}');
  });

  it("ReplicateKey with neither replicaKeyMetadata nor replicaRegion: no target, never the primary", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/replicate-key-public");
    event.detail.responseElements = null;
    event.detail.requestParameters = { keyId: "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0", policy: "{}" };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toBeDefined();
    expect(detailOf(call, "policy").target).toBeUndefined();
  });

  it("ImportKeyMaterial: the expiration model and validTo", () => {
    // Act
    const call = mustNormalise(loadEvent("key-material-expiring/expires-soon"));

    // Assess
    expect(detailOf(call, "import")).toEqual({
      kind: "import",
      expirationModel: "KEY_MATERIAL_EXPIRES",
      validTo: new Date("2026-12-12T00:00:00Z"),
      importType: "NEW_KEY_MATERIAL",
      keyMaterialId: "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
      keyMaterialDescription: "payments-hsm-export",
    });
  });

  it("ImportKeyMaterial: a validTo without an expirationModel expires (the API's default)", () => {
    // Prepare
    const raw = loadEvent("key-material-expiring/expires-soon");
    delete (raw.detail.requestParameters as Record<string, unknown>).expirationModel;

    // Act / Assess
    expect(detailOf(mustNormalise(raw), "import").expirationModel).toBe("KEY_MATERIAL_EXPIRES");
  });

  it("ImportKeyMaterial: validTo in epoch seconds; material that does not expire has none", () => {
    // Prepare
    const epoch = loadEvent("key-material-expiring/expires-soon");
    epoch.detail.requestParameters = { ...epoch.detail.requestParameters, validTo: 1796495472 };

    // Act
    const fromEpoch = detailOf(mustNormalise(epoch), "import");
    const never = detailOf(mustNormalise(loadEvent("key-material-expiring/does-not-expire")), "import");

    // Assess
    expect(fromEpoch.validTo?.toISOString()).toBe("2026-12-05T18:31:12.000Z");
    expect(never).toMatchObject({ expirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE", validTo: undefined });
  });

  it("UpdateAlias: the alias and its new target key; the alias ARN in resources is not the key", () => {
    // Act
    const call = mustNormalise(loadEvent("alias-changed/update-alias"));

    // Assess
    const target = "arn:aws:kms:us-east-1:111122223333:key/0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";
    expect(detailOf(call, "alias")).toEqual({
      kind: "alias",
      aliasName: "alias/payments-data",
      targetKey: {
        arn: target,
        id: "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
        region: "us-east-1",
        account: "111122223333",
        partition: "aws",
      },
    });
    expect(call.key?.arn).toBe(target);
  });

  it("UpdateAlias: an alias given as an ARN is read as alias/...; a target given as an ARN is kept", () => {
    // Prepare
    const event = loadEvent("alias-changed/update-alias");
    const target = "arn:aws:kms:us-east-1:111122223333:key/0b0b0b0b-1111-4222-8333-444444444444";
    event.detail.requestParameters = {
      aliasName: "arn:aws:kms:us-east-1:111122223333:alias/payments-data",
      targetKeyId: target,
    };

    // Act
    const alias = detailOf(mustNormalise(event), "alias");

    // Assess
    expect(alias.aliasName).toBe("alias/payments-data");
    expect(alias.targetKey?.arn).toBe(target);
  });

  it("DeleteAlias: the alias, no target; the key is the one the alias pointed to", () => {
    // Act
    const call = mustNormalise(loadEvent("alias-changed/delete-alias"));

    // Assess
    expect(detailOf(call, "alias")).toEqual({
      kind: "alias",
      aliasName: "alias/payments-data",
      targetKey: undefined,
    });
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
  });

  it.each(["other/decrypt-success", "other/enable-key", "other/retire-grant-null-params"])(
    "%s has no typed detail (kind none)",
    (fixture) => {
      // Act / Assess
      expect(mustNormalise(loadEvent(fixture)).detail).toEqual({ kind: "none" });
    },
  );
});

describe("normalise: the key and its precedence", () => {
  it("a failed call: the key its error message names comes first (ReEncrypt fails on its destination)", () => {
    // Prepare: resources list the source first; the destination is the key pending deletion
    const event = loadEvent("pending-deletion-key-used/reencrypt-destination");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/4a5b6c7d-8e9f-4a0b-9c2d-e3f4a5b6c7d8");
    expect(call.errorCode).toBe("KMSInvalidStateException");
  });

  it("a failed call on the source key: the source (the message decides, not the resources order)", () => {
    // Act
    const call = mustNormalise(loadEvent("pending-deletion-key-used/reencrypt-source"));

    // Assess
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/3f4a5b6c-7d8e-4f9a-8b1c-d2e3f4a5b6c7");
  });

  it("a successful call's message is not read for a key (only failed calls name their key there)", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.errorMessage = "arn:aws:kms:us-east-1:111122223333:key/0b0b0b0b-1111-4222-8333-444444444444";

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key?.arn).toBe(EXTERNAL_GRANT_KEY);
  });

  it("a failed call whose message names no key: the resources", () => {
    // Prepare
    const event = loadEvent("rogue-grant/failed-call");
    event.detail.errorMessage = "Rate exceeded";

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/e8a0c2e4-6b8d-4f0a-b2c4-e6a8c0e2b4d6");
  });

  it("takes the key from detail.resources (ARN with type AWS::KMS::Key)", () => {
    // Prepare: the request and response name other keys, so only resources can be the source
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.requestParameters = { keyId: "alias/other" };
    event.detail.responseElements = {};

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toEqual({
      arn: EXTERNAL_GRANT_KEY,
      id: EXTERNAL_GRANT_KEY_ID,
      region: "us-east-1",
      account: "111122223333",
      partition: "aws",
      alias: "alias/other",
    });
  });

  it("takes the key from an older resources entry that writes `arn` and has no type", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0b0b0b0b-1111-4222-8333-444444444444";
    event.detail.resources = [{ accountId: "111122223333", arn }];
    event.detail.requestParameters = { keyId: "alias/other" };
    event.detail.responseElements = {};

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toMatchObject({ arn, id: "0b0b0b0b-1111-4222-8333-444444444444", region: "eu-west-1" });
  });

  it("ignores resources entries that are not KMS keys, and an alias ARN typed AWS::KMS::Key", () => {
    // Prepare: UpdateAlias and DeleteAlias records type the alias AWS::KMS::Key too
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.resources = [
      {
        type: "AWS::IAM::Role",
        ARN: "arn:aws:kms:us-east-1:111122223333:key/0b0b0b0b-1111-4222-8333-444444444444",
      },
      { type: "AWS::KMS::Alias", ARN: "arn:aws:kms:us-east-1:111122223333:alias/payments" },
      { type: "AWS::KMS::Key", ARN: "arn:aws:kms:us-east-1:111122223333:alias/payments" },
    ];

    // Act
    const call = mustNormalise(event);

    // Assess: falls back to responseElements.keyId
    expect(call.key?.arn).toBe(EXTERNAL_GRANT_KEY);
  });

  it("falls back to responseElements.keyId when resources is missing, keeping the alias the caller used", () => {
    // Prepare
    const event = loadEvent("rogue-grant/alias-key-id");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(event.detail.resources).toBeUndefined();
    expect(call.key).toMatchObject({
      arn: "arn:aws:kms:us-east-1:111122223333:key/a4c6e8f0-2b4d-4f6a-9c1e-3b5d7f9a1c3e",
      alias: "alias/payments",
    });
    expect(call.keyHint).toBeUndefined();
  });

  it("falls back to responseElements.keyMetadata.arn (CreateKey names the new key only there)", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/create-key-default-policy");
    delete event.detail.resources;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/5b6c7d8e-9f0a-4b58-acd3-e4f5a6b7c8d9");
  });

  it("falls back to requestParameters.keyId qualified with the record's region and account", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    delete event.detail.resources;
    event.detail.responseElements = null;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toEqual({
      arn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      id: "1234abcd-12ab-34cd-56ef-1234567890ab",
      region: "us-east-1",
      account: "111122223333",
      partition: "aws",
    });
  });

  it("keeps a key ARN given in requestParameters.keyId as it is", () => {
    // Prepare: a key of another account and Region than the record's
    const event = loadEvent("rogue-grant/external-grantee");
    const arn = "arn:aws:kms:eu-central-1:999988887777:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    delete event.detail.resources;
    event.detail.responseElements = null;
    event.detail.requestParameters = { keyId: arn };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toMatchObject({ arn, account: "999988887777", region: "eu-central-1" });
  });

  it("leaves the key undefined and keeps the alias as keyHint when only an alias names the key", () => {
    // Prepare
    const event = loadEvent("rogue-grant/alias-key-id");
    event.detail.responseElements = { grantId: "g-1" };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toBeUndefined();
    expect(call.keyHint).toBe("alias/payments");
    expect(keyLabel(call)).toBe("alias/payments");
  });

  it("reads the alias out of an alias ARN", () => {
    // Prepare
    const event = loadEvent("rogue-grant/alias-key-id");
    event.detail.requestParameters = {
      keyId: "arn:aws:kms:us-east-1:111122223333:alias/payments",
      granteePrincipal: "arn:aws:iam::444455556666:user/contractor",
    };
    event.detail.responseElements = {};

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toBeUndefined();
    expect(call.keyHint).toBe("alias/payments");
  });

  it("a key id without a Region or account to qualify it stays a hint", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    delete event.detail.resources;
    delete event.detail.awsRegion;
    delete event.detail.recipientAccountId;
    delete event.detail.userIdentity;
    event.detail.responseElements = null;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toBeUndefined();
    expect(call.keyHint).toBe("1234abcd-12ab-34cd-56ef-1234567890ab");
    expect(keyLabel(call)).toBe("1234abcd-12ab-34cd-56ef-1234567890ab");
  });

  it("finds the key in a pending-deletion error message when nothing else names it", () => {
    // Prepare
    const event = loadEvent("pending-deletion-key-used/decrypt-pending-deletion");
    delete event.detail.resources;
    event.detail.requestParameters = { encryptionAlgorithm: "SYMMETRIC_DEFAULT" };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key?.arn).toBe("arn:aws:kms:us-east-1:111122223333:key/8a9b0c1d-2e3f-4ae1-b5c6-d7e8f9a0b1c2");
    expect(call.errorCode).toBe("KMSInvalidStateException");
  });

  it("does not invent a key from a malformed resources ARN", () => {
    // Prepare
    const event = loadEvent("other/retire-grant-null-params");
    event.detail.resources = [{ type: "AWS::KMS::Key", ARN: "not-an-arn" }];

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.key).toBeUndefined();
    expect(keyLabel(call)).toBe("unknown-key");
  });
});

describe("normalise: partitions", () => {
  it.each([
    ["cn-north-1", "aws-cn"],
    ["cn-northwest-1", "aws-cn"],
    ["us-gov-west-1", "aws-us-gov"],
    ["us-gov-east-1", "aws-us-gov"],
    ["eu-west-1", "aws"],
  ])("a key id logged in %s is qualified in the %s partition", (region, partition) => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    delete event.detail.resources;
    event.detail.responseElements = null;
    event.detail.awsRegion = region;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.partition).toBe(partition);
    expect(call.key).toEqual({
      arn: `arn:${partition}:kms:${region}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      id: "1234abcd-12ab-34cd-56ef-1234567890ab",
      region,
      account: "111122223333",
      partition,
    });
  });

  it.each([
    ["aws-cn", "cn-north-1"],
    ["aws-us-gov", "us-gov-west-1"],
  ])("reads a %s key ARN from resources and a failed call's message", (partition, region) => {
    // Prepare
    const arn = `arn:${partition}:kms:${region}:111122223333:key/8a9b0c1d-2e3f-4ae1-b5c6-d7e8f9a0b1c2`;
    const fromResources = loadEvent("rogue-grant/external-grantee");
    fromResources.detail.awsRegion = region;
    fromResources.detail.resources = [{ type: "AWS::KMS::Key", ARN: arn }];
    fromResources.detail.responseElements = null;
    const fromMessage = loadEvent("pending-deletion-key-used/decrypt-pending-deletion");
    fromMessage.detail.awsRegion = region;
    delete fromMessage.detail.resources;
    fromMessage.detail.requestParameters = null;
    fromMessage.detail.errorMessage = `${arn} is pending deletion.`;

    // Act
    const a = mustNormalise(fromResources);
    const b = mustNormalise(fromMessage);

    // Assess
    for (const call of [a, b]) {
      expect(call.partition).toBe(partition);
      expect(call.key).toMatchObject({ arn, partition, region });
    }
  });

  it("the partition follows the key ARN over the record's Region", () => {
    // Prepare: a record without a Region naming a GovCloud key
    const event = loadEvent("rogue-grant/external-grantee");
    delete event.detail.awsRegion;
    event.detail.resources = [
      {
        type: "AWS::KMS::Key",
        ARN: "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/0b0b0b0b-1111-4222-8333-444444444444",
      },
    ];

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.partition).toBe("aws-us-gov");
    expect(call.region).toBe("us-gov-west-1");
  });

  it("UpdateAlias in aws-cn: the target key id is qualified in aws-cn", () => {
    // Prepare
    const event = loadEvent("alias-changed/update-alias");
    event.detail.awsRegion = "cn-north-1";
    delete event.detail.resources;
    event.detail.responseElements = null;

    // Act
    const alias = detailOf(mustNormalise(event), "alias");

    // Assess
    expect(alias.targetKey?.arn).toBe(
      "arn:aws-cn:kms:cn-north-1:111122223333:key/0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
    );
  });
});

describe("normalise: fields real records leave out", () => {
  it("reads a RetireGrant with null requestParameters and responseElements (no typed detail)", () => {
    // Prepare
    const event = loadEvent("other/retire-grant-null-params");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(event.detail.requestParameters).toBeNull();
    expect(call.detail).toEqual({ kind: "none" });
    expect(call.key?.arn).toBe("arn:aws:kms:us-west-2:111122223333:key/9f0a1b2c-3d4e-4f9c-a017-c8d9e0f1a2b3");
  });

  it("a CreateGrant with null parameters still has a grant detail, all fields empty", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.requestParameters = null;
    event.detail.responseElements = null;

    // Act
    const grant = detailOf(mustNormalise(event), "grant");

    // Assess
    expect(grant).toEqual({
      kind: "grant",
      grantee: undefined,
      retiringPrincipal: undefined,
      operations: [],
      constraints: undefined,
      grantId: undefined,
      name: undefined,
    });
  });

  it("reads a service event without userIdentity.type", () => {
    // Prepare
    const event = loadEvent("other/aws-service-event-rotation");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.actor.type).toBeUndefined();
    expect(call.actor.arn).toBeUndefined();
    expect(call.actor.invokedBy).toBe("AWS Internal");
    expect(call.eventType).toBe("AwsServiceEvent");
  });

  it("reads a record with no userIdentity at all", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    delete event.detail.userIdentity;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.actor).toEqual({
      type: undefined,
      arn: undefined,
      roleArn: undefined,
      accountId: undefined,
      principalId: undefined,
      mfaAuthenticated: undefined,
      invokedBy: undefined,
    });
    expect(call.accountId).toBe("111122223333");
  });

  it("takes account and Region from the key ARN when the record has neither", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    delete event.detail.recipientAccountId;
    delete event.detail.awsRegion;
    delete event.detail.userIdentity;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.accountId).toBe("111122223333");
    expect(call.region).toBe("us-east-1");
  });

  it.each([
    ["true", true],
    ["false", false],
    [true, true],
    [false, false],
    ["yes", undefined],
  ])("reads mfaAuthenticated %j as %j", (value, expected) => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/approved");
    event.detail.userIdentity = {
      ...event.detail.userIdentity,
      sessionContext: { attributes: { mfaAuthenticated: value } },
    };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.actor.mfaAuthenticated).toBe(expected);
  });

  it("leaves mfaAuthenticated undefined when the record does not say", () => {
    // Prepare: an IAM user's long-term keys carry no session context
    const event = loadEvent("key-deletion-scheduled/unapproved");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.actor.mfaAuthenticated).toBeUndefined();
  });

  it("reads invokedBy for calls an AWS service made on a principal's behalf", () => {
    // Prepare
    const event = loadEvent("rogue-grant/dynamodb-service");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.actor.invokedBy).toBe("dynamodb.amazonaws.com");
  });
});

describe("normalise: inputs that are not records", () => {
  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a number", 42],
    ["an array", []],
    ["an array of records", [{ eventName: "CreateGrant" }]],
    ["a string", "x"],
    ["an empty object", {}],
    ["an envelope with detail null", { detail: null }],
    ["an envelope with detail null and a detail-type", { "detail-type": "AWS API Call", detail: null }],
    ["a CloudTrail log file", { Records: [] }],
  ])("returns undefined for %s", (_label, input) => {
    // Act
    const call = normalise(input);

    // Assess
    expect(call).toBeUndefined();
  });

  it("never throws on any JSON value, including record-shaped ones with wrong field types", () => {
    // Prepare: records whose every field may be any JSON value
    const anyJson = fc.jsonValue();
    const recordish = fc.record(
      {
        eventName: anyJson,
        eventSource: anyJson,
        eventID: anyJson,
        userIdentity: anyJson,
        requestParameters: anyJson,
        responseElements: anyJson,
        resources: anyJson,
        errorMessage: anyJson,
        awsRegion: anyJson,
        recipientAccountId: anyJson,
      },
      { requiredKeys: ["eventName"] },
    );
    const input = fc.oneof(anyJson, recordish, fc.record({ source: anyJson, detail: recordish }));

    // Act / Assess
    fc.assert(
      fc.property(input, (value) => {
        const call = normalise(value);
        return call === undefined || typeof call.detail.kind === "string";
      }),
    );
  });

  it("reads a record only out of an envelope that says it is one", () => {
    // Prepare: `detail` alone (no source, no detail-type, no event name) is not an envelope
    const detail = loadEvent("rogue-grant/external-grantee").detail;

    // Act / Assess
    expect(cloudTrailRecord({ detail })).toBeUndefined();
    expect(cloudTrailRecord({ source: "aws.kms", detail })).toBe(detail);
  });
});

describe("normalise: the actor", () => {
  it("reads the root user", () => {
    // Act
    const call = mustNormalise(loadEvent("key-deletion-scheduled/root-user"));

    // Assess
    expect(call.actor).toMatchObject({
      type: "Root",
      arn: "arn:aws:iam::111122223333:root",
      roleArn: undefined,
      accountId: "111122223333",
    });
    expect(actorPrincipal(call.actor)).toBe("arn:aws:iam::111122223333:root");
  });

  it("reads an IAM user", () => {
    // Act
    const call = mustNormalise(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(call.actor).toEqual({
      type: "IAMUser",
      arn: "arn:aws:iam::111122223333:user/mallory",
      roleArn: undefined,
      accountId: "111122223333",
      principalId: "AIDAEXAMPLEMALLORY001",
      mfaAuthenticated: undefined,
      invokedBy: undefined,
    });
    expect(actorPrincipal(call.actor)).toBe("arn:aws:iam::111122223333:user/mallory");
  });

  it("reads an assumed role: the session ARN and the role behind it", () => {
    // Act
    const call = mustNormalise(loadEvent("rogue-grant/delegation"));

    // Assess
    expect(call.actor).toEqual({
      type: "AssumedRole",
      arn: "arn:aws:sts::111122223333:assumed-role/Developer/sam.ortiz",
      roleArn: "arn:aws:iam::111122223333:role/Developer",
      accountId: "111122223333",
      principalId: "AROAEXAMPLEDEVELOPR1:sam.ortiz",
      mfaAuthenticated: false,
      invokedBy: undefined,
    });
    expect(actorPrincipal(call.actor)).toBe("arn:aws:iam::111122223333:role/Developer");
  });

  it("reads an AWS service identity (type AWSService, no ARN)", () => {
    // Prepare: the first record of the CloudTrail log fixture, moved onto KMS
    const record = {
      eventVersion: "1.08",
      userIdentity: { type: "AWSService", invokedBy: "lambda.amazonaws.com" },
      eventTime: "2026-11-28T18:30:02Z",
      eventSource: "kms.amazonaws.com",
      eventName: "Decrypt",
      awsRegion: "us-east-1",
      sourceIPAddress: "lambda.amazonaws.com",
      requestParameters: null,
      responseElements: null,
      eventID: "b0f86d33-7f86-469c-8917-15542ada3432",
      recipientAccountId: "111122223333",
    };

    // Act
    const call = mustNormalise(record);

    // Assess
    expect(call.actor).toEqual({
      type: "AWSService",
      arn: undefined,
      roleArn: undefined,
      accountId: undefined,
      principalId: undefined,
      mfaAuthenticated: undefined,
      invokedBy: "lambda.amazonaws.com",
    });
    expect(call.sourceIp).toBe("lambda.amazonaws.com");
    expect(call.accountId).toBe("111122223333");
    expect(actorPrincipal(call.actor)).toBeUndefined();
  });
});
