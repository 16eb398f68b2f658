import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  ListResourceTagsCommand,
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

/** The key of events/key-deletion-scheduled/unapproved.json. */
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const EVENT_TIME = "2026-11-28T18:31:12Z";
const KEY_ADMIN = "arn:aws:iam::111122223333:role/KeyAdmin";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe("key-deletion-scheduled handler: unapproved deletion", () => {
  it("the notification says when and for what the key was last used (GetKeyLastUsage)", async () => {
    fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "PendingDeletion",
        lastUsage: { operation: "GenerateDataKey", time: new Date("2026-11-28T17:00:00Z") },
      },
      cloudTrail,
    );
    const handler = await coldStart("key-deletion-scheduled");

    await handler(loadEvent("key-deletion-scheduled/unapproved"));

    expect(kms).toHaveReceivedCommandWith(GetKeyLastUsageCommand, { KeyId: KEY_ARN });
    expect(onlyNotification(sns).doc.details).toContain(
      "Last used: 2026-11-28T17:00:00.000Z (GenerateDataKey)",
    );
  });

  it("cancels and re-enables without waiting for GetKeyLastUsage, which only the notification waits for", async () => {
    // Arrange: GetKeyLastUsage answers only when the test lets it.
    const key = fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    let answer: () => void = () => undefined;
    const late = new Promise<void>((resolve) => {
      answer = resolve;
    });
    kms.on(GetKeyLastUsageCommand).callsFake(async () => {
      await late;
      return { KeyLastUsage: { Operation: "Decrypt", Timestamp: new Date("2026-11-28T17:30:00Z") } };
    });
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const running = handler(loadEvent("key-deletion-scheduled/unapproved"));
    await vi.waitFor(() => expect(key.fake.mutations()).toEqual(["CancelKeyDeletion", "EnableKey"]));
    const publishedBeforeAnswer = sns.commandCalls(PublishCommand).length;
    answer();
    const result = await running;

    // Assert: both actions went out while GetKeyLastUsage was unanswered; the notification waited.
    expect(kms).toHaveReceivedCommandWith(GetKeyLastUsageCommand, { KeyId: KEY_ARN });
    expect(publishedBeforeAnswer).toBe(0);
    expect(result.outcome).toBe("remediated");
    expect(onlyNotification(sns).doc.details).toContain("Last used: 2026-11-28T17:30:00.000Z (Decrypt)");
  });

  it("a negative read is read again, but the key's last use is asked once: the notification keeps the first answer", async () => {
    // Arrange: the key is no longer pending deletion (someone cancelled it): a negative read.
    fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "Enabled",
        lastUsage: { operation: "Sign", time: new Date("2026-11-28T16:00:00Z") },
      },
      cloudTrail,
    );
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assert: the state was read twice, the last use once, and the notification says it.
    expect(kms.commandCalls(DescribeKeyCommand).length).toBeGreaterThanOrEqual(2);
    expect(kms).toHaveReceivedCommandTimes(GetKeyLastUsageCommand, 1);
    expect(onlyNotification(sns).doc.details).toContain("Last used: 2026-11-28T16:00:00.000Z (Sign)");
  });

  it("reads state, tags, last use, aliases and history in parallel, cancels by key ID and re-enables when the key was enabled before", async () => {
    // Prepare
    const key = fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "PendingDeletion",
        history: [
          { name: "ScheduleKeyDeletion", time: new Date(EVENT_TIME) },
          { name: "Encrypt", time: new Date("2026-11-20T10:00:00Z") },
          { name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") },
          { name: "DisableKey", time: new Date("2026-11-01T10:00:00Z") },
        ],
      },
      cloudTrail,
    );
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: KEY_ARN });
    expect(cloudTrail).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: KEY_ARN }],
    });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(CancelKeyDeletionCommand, { KeyId: KEY_ID });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(key.fake.mutations()).toEqual(["CancelKeyDeletion", "EnableKey"]);
    // One parallel round of reads (the notification's aliases with them), then each action and the
    // read verifying it: EnableKey starts from the state CancelKeyDeletion's verification read.
    expect(key.fake.operations()).toEqual([
      "DescribeKey",
      "ListResourceTags",
      "ListAliases",
      // Started with the round, for the notification only: nothing waits for it but the notification.
      "GetKeyLastUsage",
      "LookupEvents",
      "CancelKeyDeletion",
      "DescribeKey",
      "EnableKey",
      "DescribeKey",
    ]);
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "critical",
      reasons: ["unapproved-deletion"],
      actions: [
        { type: "cancel-key-deletion", status: "succeeded", verified: true, keyStateAfter: "Disabled" },
        { type: "enable-key", status: "succeeded", verified: true, keyStateAfter: "Enabled" },
      ],
    });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[CRITICAL\] /);
    expect(note.text).toContain("aws kms schedule-key-deletion");
  });

  it("a late duplicate delivery: the key is no longer pending deletion and an administrator disabled it since: nothing sent", async () => {
    // Prepare: the first delivery cancelled and re-enabled the key; then an administrator
    // disabled it on purpose; now EventBridge delivers the same event again.
    const key = fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "Disabled",
        history: [
          { name: "DisableKey", time: new Date("2026-11-28T19:05:00Z") },
          { name: "EnableKey", time: new Date("2026-11-28T18:31:15Z") },
          { name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") },
        ],
      },
      cloudTrail,
    );
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(key.fake.mutations()).toEqual([]);
    expect(key.state).toBe("Disabled");
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["not-pending-deletion"], actions: [] });
    expect(onlyNotification(sns).text).toContain(
      "Left Disabled: the key was disabled after the event (DisableKey at 2026-11-28T19:05:00.000Z)",
    );
  });

  it("a retry after a partial success (cancelled, enable failed): no second cancel, the key is re-enabled", async () => {
    // Prepare: the deletion is cancelled (key Disabled), nobody disabled it since.
    const key = fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "Disabled",
        history: [{ name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") }],
      },
      cloudTrail,
    );
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(kms).not.toHaveReceivedCommand(CancelKeyDeletionCommand);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      verdicts: ["not-pending-deletion"],
      actions: [{ type: "enable-key", status: "succeeded" }],
    });
  });

  it("leaves the key Disabled when it was disabled before the deletion was scheduled", async () => {
    // Prepare
    const key = fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "PendingDeletion",
        history: [
          { name: "DisableKey", time: new Date("2026-11-27T10:00:00Z") },
          { name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") },
        ],
      },
      cloudTrail,
    );
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(key.fake.mutations()).toEqual(["CancelKeyDeletion"]);
    expect(key.state).toBe("Disabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "cancel-key-deletion", status: "succeeded" }],
    });
    expect(onlyNotification(sns).text).toContain("Left Disabled: the key was disabled before the event");
  });

  it("re-enables by default, and says so, when CloudTrail history cannot be read", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" });
    cloudTrail.on(LookupEventsCommand).rejects(new Error("AccessDenied: cloudtrail:LookupEvents"));
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(result.outcome).toBe("remediated");
    expect(onlyNotification(sns).text).toContain("CloudTrail history could not be read");
  });

  it("a key Enabled now (cancelled and re-enabled by someone): not-pending-deletion, nothing sent, notified", async () => {
    // Prepare: an earlier delivery (or a person) already cancelled and re-enabled the key.
    const key = fakeKey(kms, { arn: KEY_ARN, state: "Enabled" }, cloudTrail);
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: KEY_ARN });
    expect(key.fake.mutations()).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["not-pending-deletion"], actions: [] });
  });

  it("CancelKeyDeletion 'is not pending deletion' (cancelled between the read and the call): already done, no EnableKey", async () => {
    // Prepare: pending when read; someone cancels and re-enables it before the responder's call.
    const key = fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    key.fake.fail(
      "CancelKeyDeletion",
      () => {
        key.state = "Enabled";
        return new KmsError("KMSInvalidStateException", `${KEY_ARN} is not pending deletion.`);
      },
      1,
    );
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess: "already cancelled" is tried once more (confirmAfterSeconds later) before it stands.
    expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 2);
    expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(result).toMatchObject({
      outcome: "already-remediated",
      actions: [
        { type: "cancel-key-deletion", status: "already-done" },
        { type: "enable-key", status: "already-done" },
      ],
    });
  });

  it("DescribeKey throttled: no CancelKeyDeletion (the state is unverified), notified failed, the invocation throws", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    key.fake.fail("DescribeKey", new KmsError("ThrottlingException", "Rate exceeded"));
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const outcome = handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: "ActionError" });
    expect(key.fake.mutations()).toEqual([]);
    expect(key.state).toBe("PendingDeletion");
    expect(onlyNotification(sns).attributes.outcome).toBe("failed");
  });

  it("multi-Region primary (PendingReplicaDeletion, no deletion date): cancelled, and the text mentions replicas", async () => {
    // Prepare
    const keyId = "mrk-8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a";
    fakeKey(kms, { arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`, state: "PendingReplicaDeletion" });
    cloudTrail.on(LookupEventsCommand).resolves({ Events: [] });
    const handler = await coldStart("key-deletion-scheduled");

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/multi-region-primary"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(CancelKeyDeletionCommand, { KeyId: keyId });
    expect(result.outcome).toBe("remediated");
    expect(onlyNotification(sns).text).toMatch(/replica/i);
  });

  it("afterCancel keep-disabled: cancels and never enables (no history lookup)", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" });
    const handler = await coldStart("key-deletion-scheduled", { afterCancel: "keep-disabled" });

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 1);
    expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(cloudTrail).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
    expect(result.actions).toHaveLength(1);
  });

  it("afterCancel enable: cancels and enables without reading history", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" });
    const handler = await coldStart("key-deletion-scheduled", { afterCancel: "enable" });

    // Act
    await handler(loadEvent("key-deletion-scheduled/unapproved"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(cloudTrail).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
  });
});

describe("key-deletion-scheduled handler: approved deletion", () => {
  it("approved principal: no cancel, a medium notification with the deletion date and days left", async () => {
    // Prepare: the fixture writes the date as "Dec 28, 2026 14:05:09 PM" (24-hour clock and a meridiem).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-28T14:05:09Z"));
    fakeKey(kms, { arn: "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" });
    const handler = await coldStart("key-deletion-scheduled", { approvedDeletionPrincipals: [KEY_ADMIN] });

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/approved"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 0);
    expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(result).toMatchObject({ outcome: "notified", severity: "medium", reasons: ["approved-deletion"] });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[MEDIUM\] /);
    expect(note.attributes).toMatchObject({ severity: "medium", outcome: "notified" });
    expect(note.text).toContain("Deletion date: 2026-12-28T14:05:09.000Z (30 days left)");
  });

  it("approved principal: the text says how to cancel the deletion", async () => {
    // Prepare
    fakeKey(kms, { arn: "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" });
    const handler = await coldStart("key-deletion-scheduled", { approvedDeletionPrincipals: [KEY_ADMIN] });

    // Act
    await handler(loadEvent("key-deletion-scheduled/approved"));

    // Assess
    expect(onlyNotification(sns).text).toContain("aws kms cancel-key-deletion");
  });

  it("approved principal without requireMfa: a session without MFA is still approved", async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-28T09:12:44Z"));
    fakeKey(kms, { arn: "arn:aws:kms:us-east-1:111122223333:key/4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f" });
    const handler = await coldStart("key-deletion-scheduled", { approvedDeletionPrincipals: [KEY_ADMIN] });

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/approved-without-mfa"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 0);
    expect(result.severity).toBe("medium");
    expect(onlyNotification(sns).text).toContain("Deletion date: 2026-12-28T09:12:44.000Z (30 days left)");
  });

  it("approved principal but the key is tagged protected: cancelled", async () => {
    // Prepare
    const keyId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    fakeKey(kms, {
      arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
      state: "PendingDeletion",
      tags: { "kms-responder:protected": "true" },
    });
    cloudTrail.on(LookupEventsCommand).resolves({ Events: [] });
    const handler = await coldStart("key-deletion-scheduled", { approvedDeletionPrincipals: [KEY_ADMIN] });

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/approved"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: expect.stringContaining(keyId) });
    expect(kms).toHaveReceivedCommandWith(CancelKeyDeletionCommand, { KeyId: keyId });
    expect(result).toMatchObject({ severity: "critical", reasons: ["protected-key"], outcome: "remediated" });
  });

  it("approved principal without MFA while requireMfa is set: cancelled", async () => {
    // Prepare
    const keyId = "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f";
    fakeKey(kms, { arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`, state: "PendingDeletion" });
    cloudTrail.on(LookupEventsCommand).resolves({ Events: [] });
    const handler = await coldStart("key-deletion-scheduled", {
      approvedDeletionPrincipals: [KEY_ADMIN],
      requireMfa: true,
    });

    // Act
    const result = await handler(loadEvent("key-deletion-scheduled/approved-without-mfa"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(CancelKeyDeletionCommand, { KeyId: keyId });
    expect(result).toMatchObject({ reasons: ["mfa-missing"], outcome: "remediated" });
  });
});
