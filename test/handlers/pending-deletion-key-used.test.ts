import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  EnableKeyCommand,
  GetKeyLastUsageCommand,
  KMSClient,
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

/** The key of events/pending-deletion-key-used/decrypt-pending-deletion.json. */
const KEY_ID = "8a9b0c1d-2e3f-4ae1-b5c6-d7e8f9a0b1c2";
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const CALLER = "arn:aws:sts::111122223333:assumed-role/orders-service-lambda/orders-service-processor";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("pending-deletion-key-used handler", () => {
  it("a Decrypt that failed on a key pending deletion: cancels the deletion and restores the key", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    const handler = await coldStart("pending-deletion-key-used");

    // Act
    const result = await handler(loadEvent("pending-deletion-key-used/decrypt-pending-deletion"));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(CancelKeyDeletionCommand, { KeyId: KEY_ID });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(key.fake.mutations()).toEqual(["CancelKeyDeletion", "EnableKey"]);
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({ outcome: "remediated", severity: "high" });
  });

  it("the notification says when the key was last used (GetKeyLastUsage), or unknown without the permission", async () => {
    // Prepare
    fakeKey(
      kms,
      {
        arn: KEY_ARN,
        state: "PendingDeletion",
        lastUsage: { operation: "Decrypt", time: new Date("2026-11-27T09:00:00Z") },
      },
      cloudTrail,
    );
    const handler = await coldStart("pending-deletion-key-used");

    // Act
    await handler(loadEvent("pending-deletion-key-used/decrypt-pending-deletion"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(GetKeyLastUsageCommand, { KeyId: KEY_ARN });
    expect(onlyNotification(sns).doc.details).toContain("Last used: 2026-11-27T09:00:00.000Z (Decrypt)");

    // Without the permission: unknown, and the deletion is still cancelled.
    kms.reset();
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: "msg-2" });
    fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    const again = await (await coldStart("pending-deletion-key-used"))(
      loadEvent("pending-deletion-key-used/decrypt-pending-deletion"),
    );
    expect(again.outcome).toBe("remediated");
    expect(onlyNotification(sns).doc.details.find((d) => d.startsWith("Last used: "))).toMatch(
      /^Last used: unknown \(AccessDeniedException/,
    );
  });

  it("cancels the deletion before GetKeyLastUsage answers; a read that fails says unknown", async () => {
    // Arrange: GetKeyLastUsage fails, but only when the test lets it.
    const key = fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    let fail: () => void = () => undefined;
    const late = new Promise<void>((resolve) => {
      fail = resolve;
    });
    kms.on(GetKeyLastUsageCommand).callsFake(async () => {
      await late;
      throw new KmsError("ThrottlingException", "Rate exceeded");
    });
    const handler = await coldStart("pending-deletion-key-used");

    // Act
    const running = handler(loadEvent("pending-deletion-key-used/decrypt-pending-deletion"));
    await vi.waitFor(() => expect(key.fake.mutations()).toEqual(["CancelKeyDeletion", "EnableKey"]));
    const publishedBeforeAnswer = sns.commandCalls(PublishCommand).length;
    fail();
    const result = await running;

    // Assert
    expect(publishedBeforeAnswer).toBe(0);
    expect(result.outcome).toBe("remediated");
    expect(onlyNotification(sns).doc.details.find((d) => d.startsWith("Last used: "))).toMatch(
      /^Last used: unknown \(ThrottlingException/,
    );
  });

  it("the notification names the key, the caller and the failed operation", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, state: "PendingDeletion" }, cloudTrail);
    const handler = await coldStart("pending-deletion-key-used");

    // Act
    await handler(loadEvent("pending-deletion-key-used/decrypt-pending-deletion"));

    // Assess
    const note = onlyNotification(sns);
    expect(note.text).toContain(KEY_ARN);
    expect(note.text).toContain(CALLER);
    expect(note.text).toContain("Decrypt");
    expect(note.attributes).toMatchObject({ incident: "pending-deletion-key-used", severity: "high" });
  });

  it("a replayed Decrypt failure for a key no longer pending deletion: not-pending-deletion, nothing sent", async () => {
    // Prepare: someone cancelled the deletion and re-enabled the key since the failed call.
    const key = fakeKey(kms, { arn: KEY_ARN, state: "Enabled" }, cloudTrail);
    const handler = await coldStart("pending-deletion-key-used");

    // Act
    const result = await handler(loadEvent("pending-deletion-key-used/decrypt-pending-deletion"));

    // Assess
    expect(key.fake.mutations()).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["not-pending-deletion"], actions: [] });
  });

  it("a call that failed because the key is disabled (not pending deletion) is no incident: nothing sent", async () => {
    // Prepare
    const handler = await coldStart("pending-deletion-key-used");

    // Act
    const result = await handler(loadEvent("pending-deletion-key-used/disabled-key-error"));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "no-incident" });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
    expect(cloudTrail.calls()).toHaveLength(0);
  });
});
