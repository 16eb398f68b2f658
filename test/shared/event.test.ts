import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  actorPrincipal,
  cloudTrailRecord,
  type KmsApiCall,
  normalise,
} from "../../functions/shared/model.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

/** Normalises and fails the test (instead of returning undefined) when the input is not a record. */
function mustNormalise(input: unknown): KmsApiCall {
  const call = normalise(input);
  if (!call) throw new Error("expected a KmsApiCall, got undefined");
  return call;
}

const EXTERNAL_GRANT_KEY = "arn:aws:kms:us-east-1:111122223333:key/7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34";

describe("normalise: envelope and raw record", () => {
  it.each(loadAllEvents().map((f) => [f.path, f] as const))(
    "gives the same KmsApiCall for the EventBridge envelope and the raw record of %s",
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
      keyArn: EXTERNAL_GRANT_KEY,
      keyId: "7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34",
      keyAlias: undefined,
      sourceIp: "203.0.113.45",
      errorCode: undefined,
      errorMessage: undefined,
    });
    expect(call.userAgent).toMatch(/^aws-cli\//);
    expect(call.request.granteePrincipal).toBe("arn:aws:iam::444455556666:role/exfil");
    expect(call.response.grantId).toBe("17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7");
  });
});

describe("normalise: the key ARN", () => {
  it("takes the key ARN from detail.resources (ARN with type AWS::KMS::Key)", () => {
    // Prepare: the request and response name other keys, so only resources can be the source
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.requestParameters = { keyId: "alias/other" };
    event.detail.responseElements = {};

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.keyArn).toBe(EXTERNAL_GRANT_KEY);
  });

  it("takes the key ARN from an older resources entry that writes `arn` and has no type", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0b0b0b0b-1111-4222-8333-444444444444";
    event.detail.resources = [{ accountId: "111122223333", arn }];
    event.detail.requestParameters = { keyId: "alias/other" };
    event.detail.responseElements = {};

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.keyArn).toBe(arn);
    expect(call.keyId).toBe("0b0b0b0b-1111-4222-8333-444444444444");
  });

  it("ignores resources entries that are not KMS keys", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.resources = [
      { type: "AWS::IAM::Role", ARN: "arn:aws:iam::111122223333:role/exfil" },
      { type: "AWS::KMS::Alias", ARN: "arn:aws:kms:us-east-1:111122223333:alias/payments" },
    ];

    // Act
    const call = mustNormalise(event);

    // Assess: falls back to responseElements.keyId
    expect(call.keyArn).toBe(EXTERNAL_GRANT_KEY);
  });

  it("falls back to responseElements.keyId when resources is missing", () => {
    // Prepare
    const event = loadEvent("rogue-grant/alias-key-id");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(event.detail.resources).toBeUndefined();
    expect(call.keyArn).toBe("arn:aws:kms:us-east-1:111122223333:key/a4c6e8f0-2b4d-4f6a-9c1e-3b5d7f9a1c3e");
    expect(call.keyAlias).toBe("alias/payments");
  });

  it("falls back to requestParameters.keyId qualified with the record's region and account", () => {
    // Prepare
    const event = loadEvent("key-deletion-scheduled/unapproved");
    delete event.detail.resources;
    event.detail.responseElements = null;

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.keyArn).toBe("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    expect(call.keyId).toBe("1234abcd-12ab-34cd-56ef-1234567890ab");
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
    expect(call.keyArn).toBe(arn);
  });

  it("leaves keyArn undefined and sets keyAlias when only an alias names the key", () => {
    // Prepare
    const event = loadEvent("rogue-grant/alias-key-id");
    event.detail.responseElements = { grantId: "g-1" };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.keyArn).toBeUndefined();
    expect(call.keyId).toBeUndefined();
    expect(call.keyAlias).toBe("alias/payments");
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
    expect(call.keyArn).toBeUndefined();
    expect(call.keyAlias).toBe("alias/payments");
  });

  it("finds the key ARN in a pending-deletion error message when nothing else names it", () => {
    // Prepare
    const event = loadEvent("pending-deletion-key-used/decrypt-pending-deletion");
    delete event.detail.resources;
    event.detail.requestParameters = { encryptionAlgorithm: "SYMMETRIC_DEFAULT" };

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.keyArn).toBe("arn:aws:kms:us-east-1:111122223333:key/8a9b0c1d-2e3f-4ae1-b5c6-d7e8f9a0b1c2");
    expect(call.errorCode).toBe("KMSInvalidStateException");
  });

  it("does not invent a key ARN from a malformed resources ARN", () => {
    // Prepare
    const event = loadEvent("other/retire-grant-null-params");
    event.detail.resources = [{ type: "AWS::KMS::Key", ARN: "not-an-arn" }];

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(call.keyArn).toBeUndefined();
  });
});

describe("normalise: fields real records leave out", () => {
  it("turns null requestParameters into {} and keeps additionalEventData (RetireGrant)", () => {
    // Prepare
    const event = loadEvent("other/retire-grant-null-params");

    // Act
    const call = mustNormalise(event);

    // Assess
    expect(event.detail.requestParameters).toBeNull();
    expect(call.request).toEqual({});
    expect(call.response).toEqual({});
    expect(call.additionalData.grantId).toBe(
      "d59db5bdc332fcc5a49e002398d7eb1e77640c13d2d11310407a9b5117b50f9b",
    );
    expect(call.keyArn).toBe("arn:aws:kms:us-west-2:111122223333:key/9f0a1b2c-3d4e-4f9c-a017-c8d9e0f1a2b3");
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
        return call === undefined || typeof call.request === "object";
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
