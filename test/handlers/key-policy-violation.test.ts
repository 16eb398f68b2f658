import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListResourceTagsCommand,
  MalformedPolicyDocumentException,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KmsError } from "../helpers/fake-kms.js";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** The key of events/key-policy-violation/public-policy.json. */
const KEY_ID = "1d2e3f4a-5b6c-4d14-a8f9-a0b1c2d3e4f5";
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
/** The policy that event set: the account root's kms:* (statement 0) and Decrypt for everyone (statement 1). */
const PUBLIC_POLICY = String(
  loadEvent("key-policy-violation/public-policy").detail.requestParameters?.policy,
);
const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::111122223333:root" },
  Action: "kms:*",
  Resource: "*",
};
const PUBLIC_STATEMENT = {
  Sid: "Allow decrypt",
  Effect: "Allow",
  Principal: { AWS: "*" },
  Action: "kms:Decrypt",
  Resource: "*",
};
/** The role the stack gives this function (events/key-disabled/own-call.json was made by it). */
const OWN_ROLE = "arn:aws:iam::111122223333:role/kms-responder-KeyPolicyViolationRole-EXAMPLE";

/** No command that changes a key, its policy or its grants was sent. */
function expectNoKmsChange(): void {
  expect(kms).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(ScheduleKeyDeletionCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
  expect(kms).toHaveReceivedCommandTimes(CreateGrantCommand, 0);
}

/** The KMS commands sent, by name, oldest first. */
function kmsCommands(): string[] {
  return kms.calls().map((c) => c.args[0].constructor.name);
}

/** The safe policy a key has when the event's public statement is gone (or never was). */
const SAFE_POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [ROOT_STATEMENT] });

/** The public-policy event, made by the given identity. */
function publicPolicyBy(userIdentity: Record<string, unknown> | undefined) {
  const event = loadEvent("key-policy-violation/public-policy");
  event.detail.userIdentity = userIdentity;
  return event;
}

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("key-policy-violation handler: onCritical disable-key (the default)", () => {
  it("reads the key, tags, current policy and aliases in parallel, disables the key by key ID, verifies, never changes the policy", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    // One parallel round of reads (the notification's aliases with them; the state DisableKey
    // starts from is the round's DescribeKey), the action, its verification: nothing else.
    expect(kmsCommands()).toEqual([
      "DescribeKeyCommand",
      "ListResourceTagsCommand",
      "GetKeyPolicyCommand",
      "ListAliasesCommand",
      "DisableKeyCommand",
      "DescribeKeyCommand",
    ]);
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(kms).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 0);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetKeyPolicyCommand, {
      KeyId: KEY_ARN,
      PolicyName: "default",
    });
    expect(key.state).toBe("Disabled");
    expect(key.policy).toBe(PUBLIC_POLICY);
    expect(result).toMatchObject({
      incident: "key-policy-violation",
      outcome: "remediated",
      severity: "critical",
      reasons: ["public-principal"],
      actions: [
        {
          type: "disable-key",
          status: "succeeded",
          keyStateBefore: "Enabled",
          keyStateAfter: "Disabled",
          verified: true,
        },
      ],
      notificationId: "msg-1",
    });
  });

  it("tells responders which statement did it and how to undo", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation");

    // Act
    await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[CRITICAL\] Dangerous KMS key policy, key disabled: key 1d2e3f4a in /);
    expect(note.attributes).toMatchObject({
      severity: "critical",
      incident: "key-policy-violation",
      outcome: "remediated",
    });
    expect(note.text).toContain("[critical] public-principal in statement 2 (Sid Allow decrypt)");
    expect(note.text).toContain(`Statement 2: ${JSON.stringify(PUBLIC_STATEMENT)}`);
    expect(note.text).toContain(`aws kms enable-key --key-id ${KEY_ARN} --region us-east-1`);
    // The policy is fixed first: re-enabling the key as it is would expose it again.
    expect(note.doc.undo).toEqual([
      `aws kms put-key-policy --key-id ${KEY_ARN} --policy-name default --policy file://fixed-policy.json --region us-east-1`,
      `aws kms enable-key --key-id ${KEY_ARN} --region us-east-1`,
    ]);
  });

  it("a key already Disabled: already-remediated, no DisableKey", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, state: "Disabled", policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
    expect(result).toMatchObject({
      outcome: "already-remediated",
      actions: [{ type: "disable-key", status: "already-done" }],
    });
  });
});

describe("key-policy-violation handler: onCritical remove-statements", () => {
  const config = { onCritical: "remove-statements" };

  it("puts back the policy without the public statement (root statement kept), then reads it back", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation", config);

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expect(kmsCommands()).toEqual([
      "DescribeKeyCommand",
      "ListResourceTagsCommand",
      "GetKeyPolicyCommand",
      "ListAliasesCommand",
      // Read again right before the write: unchanged since the decision read it.
      "GetKeyPolicyCommand",
      "PutKeyPolicyCommand",
      "GetKeyPolicyCommand",
    ]);
    expect(kms).toHaveReceivedCommandWith(GetKeyPolicyCommand, { KeyId: KEY_ARN, PolicyName: "default" });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(PutKeyPolicyCommand, {
      KeyId: KEY_ARN,
      PolicyName: "default",
      Policy: expect.any(String),
    });
    const put = kms.commandCalls(PutKeyPolicyCommand)[0]?.args[0].input;
    expect(JSON.parse(put?.Policy ?? "{}")).toEqual({
      Version: "2012-10-17",
      Id: "key-consolepolicy-3",
      Statement: [ROOT_STATEMENT],
    });
    expect(key.policy).toBe(put?.Policy);
    expect(kms).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [
        {
          type: "remove-statements",
          status: "succeeded",
          detail: "removed the offending principals from the key policy",
          verified: true,
          previousPolicy: PUBLIC_POLICY,
        },
      ],
    });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[CRITICAL\] Dangerous KMS key policy, statements removed: /);
    expect(note.text).toContain("Removing from statement 2 (Sid Allow decrypt)");
    expect(note.text).toContain("aws kms put-key-policy");
  });

  it("judges the current policy: one already fixed is policy-differs, notified, no PutKeyPolicy", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, policy: SAFE_POLICY });
    const handler = await coldStart("key-policy-violation", config);

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess: the negative read is confirmed by a second one before settling on it.
    expect(kms).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 2);
    expectNoKmsChange();
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["policy-differs"], actions: [] });
  });

  it("every statement critical: removal cannot leave the owners, so it falls back to disabling the key", async () => {
    // Prepare
    const onlyPublic = JSON.stringify({ Version: "2012-10-17", Statement: [PUBLIC_STATEMENT] });
    const key = fakeKey(kms, { arn: KEY_ARN, policy: onlyPublic });
    const handler = await coldStart("key-policy-violation", config);

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 0);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(key.policy).toBe(onlyPublic);
    expect(key.state).toBe("Disabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "disable-key", status: "succeeded" }],
    });
    expect(onlyNotification(sns).text).toContain("disabling the key instead");
  });

  it("PutKeyPolicy MalformedPolicyDocumentException: failed with the error, previous policy kept in the result", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    key.fake.fail(
      "PutKeyPolicy",
      new MalformedPolicyDocumentException({
        message: "The new key policy will not allow you to update the key policy in the future.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const handler = await coldStart("key-policy-violation", config);

    // Act
    const outcome = handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("MalformedPolicyDocumentException"),
    });
    expect(kms).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 1);
    // The decision's read and the check right before the write; no read-back after the failure.
    expect(kms).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 2);
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("failed");
    expect(note.doc.actions).toMatchObject([
      {
        type: "remove-statements",
        status: "failed",
        error: expect.stringContaining("MalformedPolicyDocumentException"),
      },
    ]);
    expect(note.text).toContain("PutKeyPolicy failed: MalformedPolicyDocumentException");
  });
});

describe("key-policy-violation handler: keys and findings it must not act on", () => {
  it("onCritical notify: publishes the critical finding and sends no mutating command", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation", { onCritical: "notify" });

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expectNoKmsChange();
    expect(kmsCommands()).toEqual([
      "DescribeKeyCommand",
      "ListResourceTagsCommand",
      "GetKeyPolicyCommand",
      "ListAliasesCommand",
    ]);
    expect(result).toMatchObject({ outcome: "notified", severity: "critical", actions: [] });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[CRITICAL\] Dangerous KMS key policy, for review: /);
    expect(note.text).toContain("public-principal");
  });

  it("the notification key (listed in ignoredKeys) is never disabled: outcome skipped", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation", { ignoredKeys: [KEY_ARN] });

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expectNoKmsChange();
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "skipped",
      actions: [{ type: "disable-key", status: "skipped" }],
    });
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("skipped");
    expect(note.text).toContain("ignoredKeys");
  });

  it("a key tagged exempt: notified with outcome skipped, not disabled", async () => {
    // Prepare
    const key = fakeKey(kms, {
      arn: KEY_ARN,
      policy: PUBLIC_POLICY,
      tags: { "kms-responder:exempt": "break-glass" },
    });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expectNoKmsChange();
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({ outcome: "skipped" });
  });

  it("notify mode: outcome dry-run, nothing disabled", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation", { mode: "notify" });

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expectNoKmsChange();
    expect(result).toMatchObject({ outcome: "dry-run", actions: [{ status: "dry-run" }] });
    expect(onlyNotification(sns).attributes.outcome).toBe("dry-run");
  });

  it("cross-account (critical: kms:* to an untrusted account) on a key that really has that policy: disabled", async () => {
    // Prepare
    const event = loadEvent("key-policy-violation/cross-account");
    const arn = "arn:aws:kms:us-east-1:111122223333:key/3f4a5b6c-7d8e-4f36-8ab1-c2d3e4f5a6b7";
    const key = fakeKey(kms, { arn, policy: String(event.detail.requestParameters?.policy) });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(event);

    // Assess
    expect(kms).toHaveReceivedCommandWith(GetKeyPolicyCommand, { KeyId: arn, PolicyName: "default" });
    expect(key.fake.mutations()).toEqual(["DisableKey"]);
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "critical",
      reasons: ["external-account"],
      actions: [{ type: "disable-key", status: "succeeded" }],
    });
    expect(onlyNotification(sns).text).toContain("arn:aws:iam::444455556666:root");
  });

  it.each([
    ["create-key-default-policy", "no-incident"],
    ["failed-call", "failed-call"],
  ])("%s: ignored (%s), no AWS call and nothing published", async (variant, skipped) => {
    // Prepare
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent(`key-policy-violation/${variant}`));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it("own-call: a policy set by the responder's own role is ignored without any AWS call", async () => {
    // Prepare
    const identity = loadEvent("key-disabled/own-call").detail.userIdentity;
    const handler = await coldStart("key-policy-violation", { responderRoleArns: [OWN_ROLE] });

    // Act
    const result = await handler(publicPolicyBy(identity));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "own-call" });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });
});

describe("key-policy-violation handler: the event is a claim, the current policy is the fact (issue 11)", () => {
  it("a forged PutKeyPolicy with a public policy for a key whose policy is safe: no DisableKey, policy-differs", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, policy: SAFE_POLICY });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess: read twice (the second read confirms the first), both times the key's own policy.
    expect(kms).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 2);
    expect(kms).toHaveReceivedNthCommandWith(GetKeyPolicyCommand, 2, {
      KeyId: KEY_ARN,
      PolicyName: "default",
    });
    expectNoKmsChange();
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "notified",
      severity: "critical",
      verdicts: ["policy-differs"],
      actions: [],
    });
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("notified");
    expect(note.doc.verdicts).toEqual(["policy-differs"]);
  });

  it.each([
    ["AccessDeniedException", "User is not authorized to perform: kms:GetKeyPolicy"],
    ["ThrottlingException", "Rate exceeded"],
  ])(
    "GetKeyPolicy %s: no DisableKey (never act blind), notification outcome failed, the invocation throws",
    async (name, message) => {
      // Prepare
      const key = fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
      key.fake.fail("GetKeyPolicy", new KmsError(name, message));
      const handler = await coldStart("key-policy-violation");

      // Act
      const outcome = handler(loadEvent("key-policy-violation/public-policy"));

      // Assess
      await expect(outcome).rejects.toMatchObject({
        name: "ActionError",
        message: expect.stringContaining(name),
      });
      expectNoKmsChange();
      expect(key.state).toBe("Enabled");
      const note = onlyNotification(sns);
      expect(note.attributes.outcome).toBe("failed");
      expect(note.doc.actions).toMatchObject([
        { type: "disable-key", status: "failed", error: expect.stringContaining(name) },
      ]);
    },
  );

  it("an AWS managed key (DescribeKey KeyManager AWS): no action, held aws-managed-key", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, keyManager: "AWS", policy: PUBLIC_POLICY });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expectNoKmsChange();
    expect(result).toMatchObject({
      outcome: "skipped",
      actions: [{ type: "disable-key", status: "skipped" }],
    });
    expect(onlyNotification(sns).text).toContain("AWS managed key");
  });

  it("a key in another account than the responder's topic: held other-account, no DisableKey", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, policy: PUBLIC_POLICY });
    const handler = await coldStart(
      "key-policy-violation",
      {},
      "arn:aws:sns:us-east-1:999988887777:kms-responder-notifications",
    );

    // Act
    const result = await handler(loadEvent("key-policy-violation/public-policy"));

    // Assess
    expectNoKmsChange();
    expect(result).toMatchObject({
      outcome: "skipped",
      actions: [{ type: "disable-key", status: "skipped" }],
    });
    expect(onlyNotification(sns).text).toContain("this responder acts in 999988887777 only");
  });
});

describe("key-policy-violation handler: ReplicateKey with a public policy", () => {
  const REPLICA_ARN = "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";
  const REPLICA_KEY_ID = "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";

  it("leaves a replica in another Region to that Region's responder, and says so", async () => {
    // Prepare: the ReplicateKey record arrives in the primary's Region (us-east-1), the replica
    // with the public policy lives in us-west-2, outside this responder's Region-scoped role.
    fakeKey(kms, { arn: REPLICA_ARN });
    const handler = await coldStart("key-policy-violation");

    // Act
    const result = await handler(loadEvent("key-policy-violation/replicate-key-public"));

    // Assess
    expect(kms).not.toHaveReceivedCommand(DisableKeyCommand);
    expect(kms).not.toHaveReceivedCommand(ListResourceTagsCommand);
    expect(result).toMatchObject({
      outcome: "skipped",
      actions: [{ type: "disable-key", target: REPLICA_ARN, status: "skipped" }],
    });
    const note = onlyNotification(sns);
    expect(note.doc.key).toMatchObject({ arn: REPLICA_ARN, region: "us-west-2" });
    expect(note.text).toContain("the key is in us-west-2; this responder acts in us-east-1 only");
    expect(note.subject.startsWith("[CRITICAL] Dangerous KMS key policy")).toBe(true);
  });

  it("in the replica's own Region, disables the replica by its key id and reads its tags", async () => {
    // Prepare
    const replica = loadEvent("key-policy-violation/replicate-key-public").detail.requestParameters?.policy;
    const key = fakeKey(kms, { arn: REPLICA_ARN, policy: String(replica) });
    const handler = await coldStart("key-policy-violation", {}, undefined, "us-west-2");

    // Act
    const result = await handler(loadEvent("key-policy-violation/replicate-key-public"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: REPLICA_ARN });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: REPLICA_KEY_ID });
    expect(key.state).toBe("Disabled");
    expect(result).toMatchObject({ outcome: "remediated", actions: [{ target: REPLICA_ARN }] });
    expect(onlyNotification(sns).text).toContain(
      `aws kms enable-key --key-id ${REPLICA_ARN} --region us-west-2`,
    );
  });
});
