import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  KMSInternalException,
  KMSServiceException,
  ListGrantsCommand,
  ListResourceTagsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type FakeGrant, FakeKms, KmsError } from "../helpers/fake-kms.js";
import { GRANT_KEY_ARN, loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, grantClaimedBy, onlyNotification, published, TOPIC_ARN } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** The key and grant of events/rogue-grant/external-grantee.json. */
const KEY_ARN = GRANT_KEY_ARN;
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const OWN_ROLE = "arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE";
/** The grant external-grantee.json claims, as ListGrants lists it when the claim is true. */
const CLAIMED = grantClaimedBy(loadEvent("rogue-grant/external-grantee"));

/** No command that changes a key or its grants was sent. */
function expectNoKmsChange(): void {
  expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(RetireGrantCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(CreateGrantCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 0);
}

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("rogue-grant handler: a grant to another account", () => {
  it("reads the key, its tags, the grant and the key's aliases in parallel, revokes exactly the event's grant by key ARN, then verifies", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandTimes(ListGrantsCommand, 2);
    expect(kms).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    // One parallel round of reads (the notification's aliases with them, its description from the
    // same DescribeKey), the action, its verification: nothing else.
    expect(key.fake.operations()).toEqual([
      "DescribeKey",
      "ListResourceTags",
      "ListGrants",
      "ListAliases",
      "RevokeGrant",
      "ListGrants",
    ]);
    expect(key.grants.map((g) => g.GrantId)).not.toContain(GRANT_ID);
    expect(result).toMatchObject({
      incident: "rogue-grant",
      outcome: "remediated",
      severity: "critical",
      reasons: expect.arrayContaining(["external-grantee"]),
      actions: [{ type: "revoke-grant", status: "succeeded", verified: true }],
      notificationId: "msg-1",
    });
  });

  it("publishes one critical notification with JSON structure and filterable attributes", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    const handler = await coldStart("rogue-grant");

    // Act
    await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC_ARN,
      MessageStructure: "json",
      Subject: expect.stringMatching(/^\[CRITICAL\] /),
      MessageAttributes: {
        severity: { DataType: "String", StringValue: "critical" },
        incident: { DataType: "String", StringValue: "rogue-grant" },
        outcome: { DataType: "String", StringValue: "remediated" },
      },
    });
    const note = onlyNotification(sns);
    expect(note.doc).toMatchObject({ incident: "rogue-grant", outcome: "remediated", key: { arn: KEY_ARN } });
    expect(note.text).toContain("arn:aws:iam::444455556666:role/exfil");
    expect(note.text).toContain("aws kms create-grant");
  });
});

describe("rogue-grant handler: grants it must leave alone", () => {
  it.each([
    ["ebs-infrastructure", "trusted-grant"],
    ["dynamodb-service", "trusted-grant"],
    ["rds-invoked-by", "trusted-grant"],
    ["aws-internal", "trusted-grant"],
    ["failed-call", "failed-call"],
  ])("%s: ignored (%s), no KMS change and no notification", async (variant, skipped) => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(loadEvent(`rogue-grant/${variant}`));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped });
    expectNoKmsChange();
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it("own-call: a grant made by a configured responder role is ignored without any AWS call", async () => {
    // Prepare
    const handler = await coldStart("rogue-grant", { responderRoleArns: [OWN_ROLE] });

    // Act
    const result = await handler(loadEvent("rogue-grant/own-call"));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "own-call" });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it("exempt key: notifies with outcome skipped and does not revoke", async () => {
    // Prepare
    const arn = "arn:aws:kms:us-east-1:111122223333:key/e0e0e0e0-1111-2222-3333-444455556666";
    const event = loadEvent("rogue-grant/exempt-key");
    fakeKey(kms, { arn, tags: { "kms-responder:exempt": "break-glass" }, grants: [grantClaimedBy(event)] });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(event);

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: arn });
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result).toMatchObject({ outcome: "skipped", actions: [{ status: "skipped" }] });
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("skipped");
    expect(note.subject).toMatch(/^\[CRITICAL\] /);
  });

  it("notify mode: decides and reports (outcome dry-run) but does not revoke", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    const handler = await coldStart("rogue-grant", { mode: "notify" });

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result).toMatchObject({
      outcome: "dry-run",
      actions: [{ type: "revoke-grant", status: "dry-run" }],
    });
    expect(onlyNotification(sns).attributes.outcome).toBe("dry-run");
  });

  it.each([
    ["non-arn-grantee", "medium", "unresolvable-grantee"],
    ["unconstrained", "low", "unconstrained-grant"],
  ])("%s: a %s finding is notified but not revoked", async (variant, severity, reason) => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(loadEvent(`rogue-grant/${variant}`));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result).toMatchObject({ outcome: "notified", severity, reasons: [reason], actions: [] });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(new RegExp(`^\\[${severity.toUpperCase()}\\] `));
    expect(note.attributes).toMatchObject({ severity, outcome: "notified" });
  });
});

describe("rogue-grant handler: idempotency and eventual consistency", () => {
  it("RevokeGrant NotFoundException after ListGrants listed it (revoked in between): already-remediated, no failure", async () => {
    // Prepare: the grant is listed when read, then someone revokes it before the responder does.
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    key.fake.fail(
      "RevokeGrant",
      () => {
        key.grants.length = 0;
        return new KmsError("NotFoundException", `Grant ID ${GRANT_ID} not found`);
      },
      1,
    );
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess: "already gone" is tried once more (confirmAfterSeconds later) before it stands.
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 2);
    expect(result).toMatchObject({
      outcome: "already-remediated",
      actions: [{ type: "revoke-grant", status: "already-done" }],
    });
    expect(onlyNotification(sns).attributes.outcome).toBe("already-remediated");
  });

  it("ListGrants still lists the revoked grant: succeeded but not verified (propagation delay), not failed", async () => {
    // Prepare: the read-back after the revoke still lists the grant (eventual consistency).
    fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    kms.on(ListGrantsCommand).resolves({ Grants: [{ ...CLAIMED, KeyId: KEY_ARN }], Truncated: false });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ status: "succeeded", verified: false }],
    });
    expect(onlyNotification(sns).text).toContain("NOT verified yet");
  });

  it("duplicate delivery: the second copy finds the grant gone (grant-gone), revokes nothing and succeeds", async () => {
    // Prepare
    const other = { ...CLAIMED, GrantId: "a".repeat(64) };
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED, other] });
    const handler = await coldStart("rogue-grant");
    const event = loadEvent("rogue-grant/external-grantee");

    // Act
    const first = await handler(event);
    const second = await handler(structuredClone(event));

    // Assess
    expect(first.outcome).toBe("remediated");
    expect(second).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"], actions: [] });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(kms).not.toHaveReceivedCommandWith(RevokeGrantCommand, { GrantId: other.GrantId });
    expect(key.grants.map((g) => g.GrantId)).toEqual([other.GrantId]);
    expect(published(sns).map((n) => n.attributes.outcome)).toEqual(["remediated", "notified"]);
  });
});

describe("rogue-grant handler: the event is a claim, the grant is the fact (issue 11)", () => {
  it.each([
    ["an AWS service principal", "dynamodb.us-east-1.amazonaws.com"],
    ["a role of the key's own account", "arn:aws:iam::111122223333:role/app-server"],
  ])(
    "a forged CreateGrant naming the id of a legitimate grant to %s: no RevokeGrant, grant-differs, the grant stays",
    async (_label, grantee) => {
      // Prepare: ListGrants reports the grant with its real (trusted) grantee and a constraint.
      const legitimate: FakeGrant = {
        GrantId: GRANT_ID,
        GranteePrincipal: grantee,
        Operations: ["Decrypt", "GenerateDataKey"],
        Constraints: { EncryptionContextSubset: { "aws:ebs:id": "vol-0123" } },
      };
      const key = fakeKey(kms, { arn: KEY_ARN, grants: [legitimate] });
      const handler = await coldStart("rogue-grant");

      // Act
      const result = await handler(loadEvent("rogue-grant/external-grantee"));

      // Assess
      expect(kms).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
      expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
      expect(key.fake.mutations()).toEqual([]);
      expect(key.grants).toEqual([legitimate]);
      expect(result).toMatchObject({ outcome: "notified", verdicts: ["grant-differs"], actions: [] });
      const note = onlyNotification(sns);
      expect(note.attributes.outcome).toBe("notified");
      expect(note.doc.verdicts).toEqual(["grant-differs"]);
    },
  );

  it.each(["empty", "not-found"] as const)(
    "a grant id that does not exist (ListGrants answers %s): no RevokeGrant, grant-gone, the invocation succeeds",
    async (answer) => {
      // Prepare
      const key = fakeKey(kms, { arn: KEY_ARN, grants: [] });
      key.fake.missingGrant = answer;
      const handler = await coldStart("rogue-grant");

      // Act
      const result = await handler(loadEvent("rogue-grant/external-grantee"));

      // Assess
      expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
      expect(result).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"], actions: [] });
      expect(onlyNotification(sns).doc.verdicts).toEqual(["grant-gone"]);
    },
  );

  it("ListGrants denied: does not revoke blind, notifies failed and the invocation throws (Lambda retries)", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    key.fake.fail(
      "ListGrants",
      new KmsError("AccessDeniedException", "not authorized to perform kms:ListGrants"),
    );
    const handler = await coldStart("rogue-grant");

    // Act
    const outcome = handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("ListGrants"),
    });
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
    expect(key.grants).toEqual([CLAIMED]);
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("failed");
    expect(note.doc.actions).toMatchObject([{ type: "revoke-grant", status: "failed" }]);
  });

  it("an AWS managed key (DescribeKey KeyManager AWS): no action, held aws-managed-key", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, keyManager: "AWS", grants: [CLAIMED] });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
    expect(result).toMatchObject({
      outcome: "skipped",
      actions: [{ type: "revoke-grant", status: "skipped" }],
    });
  });

  it("a key in another account than the responder's: held other-account, no RevokeGrant", async () => {
    // Prepare: the responder's topic (its account) is 999988887777; the key is 111122223333's.
    fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    const handler = await coldStart(
      "rogue-grant",
      {},
      "arn:aws:sns:us-east-1:999988887777:kms-responder-notifications",
    );

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
    expect(result).toMatchObject({ outcome: "skipped", actions: [{ status: "skipped" }] });
    expect(onlyNotification(sns).doc.actions[0]?.detail).toContain("999988887777");
  });
});

describe("rogue-grant handler: how the key is named", () => {
  it("alias-key-id: a record naming the key by alias is revoked by the ARN from responseElements.keyId", async () => {
    // Prepare
    const arn = "arn:aws:kms:us-east-1:111122223333:key/a4c6e8f0-2b4d-4f6a-9c1e-3b5d7f9a1c3e";
    const event = loadEvent("rogue-grant/alias-key-id");
    const grant = grantClaimedBy(event);
    fakeKey(kms, { arn, aliases: ["alias/payments"], grants: [grant] });
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(event);

    // Assess
    expect(kms).toHaveReceivedCommandWith(RevokeGrantCommand, { KeyId: arn, GrantId: grant.GrantId });
    expect(kms).not.toHaveReceivedCommandWith(RevokeGrantCommand, { KeyId: "alias/payments" });
    expect(kms).not.toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: "alias/payments" });
    expect(result.outcome).toBe("remediated");
  });
});

describe("rogue-grant handler: failures", () => {
  it.each([
    [
      "AccessDeniedException",
      new KMSServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        message: "User is not authorized to perform: kms:RevokeGrant",
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    [
      "KMSInternalException",
      new KMSInternalException({ message: "Internal failure", $metadata: { httpStatusCode: 500 } }),
    ],
  ])(
    "RevokeGrant %s: notifies outcome failed with the error, then rejects with ActionError",
    async (name, error) => {
      // Prepare
      const key = fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
      key.fake.fail("RevokeGrant", error);
      const handler = await coldStart("rogue-grant");

      // Act
      const outcome = handler(loadEvent("rogue-grant/external-grantee"));

      // Assess
      await expect(outcome).rejects.toMatchObject({
        name: "ActionError",
        message: expect.stringContaining(name),
      });
      const note = onlyNotification(sns);
      expect(note.attributes.outcome).toBe("failed");
      expect(note.doc.actions).toMatchObject([
        { status: "failed", error: expect.stringContaining(error.message) },
      ]);
      expect(note.text).toContain(error.message);
      expect(note.subject).toContain("ACTION FAILED");
    },
  );

  it("SNS down after a successful revoke: the revoke stands (no undo), the invocation rejects", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [CLAIMED] });
    sns.on(PublishCommand).rejects(new Error("SNS unavailable"));
    const handler = await coldStart("rogue-grant");

    // Act
    const outcome = handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("notification failed"),
    });
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 1);
    expect(kms).toHaveReceivedCommandTimes(CreateGrantCommand, 0);
    expect(key.grants).toEqual([]);
  });

  it.each([
    ["null", null],
    ["a number", 42],
    ["a string", "x"],
    ["an empty object", {}],
    ["an envelope with a null detail", { detail: null }],
  ])("malformed event (%s): resolves as ignored/unparseable and calls nothing", async (_label, event) => {
    // Prepare
    const handler = await coldStart("rogue-grant");

    // Act
    const result = await handler(event);

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "unparseable" });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
    expect(cloudTrail.calls()).toHaveLength(0);
  });
});

describe("rogue-grant handler: cold start", () => {
  it("an invalid config fails the import with a ConfigError naming the unknown field", async () => {
    await expect(coldStart("rogue-grant", '{"mdoe":"enforce"}')).rejects.toMatchObject({
      name: "ConfigError",
      message: expect.stringContaining('"mdoe"'),
    });
  });

  it("a missing NOTIFICATION_TOPIC_ARN fails the import with a ConfigError", async () => {
    await expect(coldStart("rogue-grant", {}, null)).rejects.toMatchObject({
      name: "ConfigError",
      message: expect.stringContaining("NOTIFICATION_TOPIC_ARN"),
    });
  });
});

describe("rogue-grant handler: SDK retries (real middleware stack, fake HTTP)", () => {
  // aws-sdk-client-mock replaces Client#send, so the SDK's retry middleware never runs under it:
  // a rejectsOnce(ThrottlingException) chain fails on the first attempt, whatever `$retryable`
  // says. The throttling test below lets the real send run and answers at the HTTP layer instead.
  it("the module-scope KMS and SNS clients make up to 6 attempts", async () => {
    // Prepare
    await coldStart("rogue-grant");
    const { kms: kmsClient } = await import("../../functions/shared/clients/kms.js");
    const { sns: snsClient } = await import("../../functions/shared/clients/sns.js");

    // Act
    const attempts = [await kmsClient.config.maxAttempts(), await snsClient.config.maxAttempts()];

    // Assess
    expect(attempts).toEqual([6, 6]);
  });

  it("ThrottlingException twice on RevokeGrant, then success: retried by the SDK and remediated", async () => {
    // Prepare
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "example-secret");
    // Low jitter keeps the SDK's backoff (up to 1.5 s for two throttled attempts) in milliseconds.
    vi.spyOn(Math, "random").mockReturnValue(0.01);
    const handler = await coldStart("rogue-grant");
    const { kms: kmsClient } = await import("../../functions/shared/clients/kms.js");
    kms.restore();
    // The fake KMS model answers every call at the HTTP layer, except the first two RevokeGrants.
    const fake = new FakeKms();
    fake.addKey({ arn: KEY_ARN, grants: [CLAIMED] });
    const targets: string[] = [];
    const json = (statusCode: number, body: unknown) => ({
      response: {
        statusCode,
        headers: { "content-type": "application/x-amz-json-1.1" },
        body: Buffer.from(JSON.stringify(body)),
      },
    });
    kmsClient.config.requestHandler = {
      handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
        const target = request.headers["x-amz-target"] ?? "";
        targets.push(target);
        if (target.endsWith("RevokeGrant") && targets.filter((t) => t === target).length <= 2) {
          return json(400, { __type: "ThrottlingException", message: "Rate exceeded" });
        }
        const body =
          request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : request.body;
        const input = JSON.parse(typeof body === "string" && body ? body : "{}") as Record<string, unknown>;
        try {
          return json(200, fake.call("kms", target.split(".").pop() ?? "", input));
        } catch (error) {
          return json(400, { __type: error instanceof Error ? error.name : "Error", message: String(error) });
        }
      },
    } as typeof kmsClient.config.requestHandler; // a fake HTTP handler: only `handle` is called

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(targets.filter((t) => t.endsWith("RevokeGrant"))).toHaveLength(3);
    expect(result).toMatchObject({ outcome: "remediated", actions: [{ status: "succeeded" }] });
  });
});
