import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  InvalidGrantIdException,
  type KeyState,
  KMSClient,
  KMSInvalidStateException,
  ListGrantsCommand,
  NotFoundException,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { type ActionContext, runActions } from "../../functions/shared/actions.js";
import type { PlannedAction } from "../../functions/shared/decision.js";

const kmsMock = mockClient(KMSClient);
const cloudTrailMock = mockClient(CloudTrailClient);

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";

const ctx: ActionContext = { kms: new KMSClient({}), cloudTrail: new CloudTrailClient({}) };

const state = (KeyState: KeyState) => ({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState } });
const invalidState = (message: string) => new KMSInvalidStateException({ message, $metadata: {} });

async function runOne(action: PlannedAction) {
  const [result, ...rest] = await runActions([action], ctx);
  expect(rest).toEqual([]);
  return result;
}

beforeEach(() => {
  kmsMock.reset();
  cloudTrailMock.reset();
});

describe("revoke-grant", () => {
  const revoke: PlannedAction = { type: "revoke-grant", keyRef: KEY_ARN, grantId: GRANT_ID };

  it("revokes by key ARN and grant id, verified when ListGrants no longer lists it", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).resolves({});
    kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(kmsMock).toHaveReceivedCommandWith(RevokeGrantCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    expect(result).toMatchObject({ status: "succeeded", verified: true, grantId: GRANT_ID });
  });

  it("NotFoundException means already revoked: already-done", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).rejects(new NotFoundException({ message: "not found", $metadata: {} }));
    kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(result).toMatchObject({ status: "already-done", verified: true });
  });

  it("InvalidGrantIdException is a failure, and ListGrants is not called", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).rejects(new InvalidGrantIdException({ message: "bad id", $metadata: {} }));

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(result).toMatchObject({
      status: "failed",
      error: expect.stringContaining("InvalidGrantIdException"),
    });
    expect(kmsMock).toHaveReceivedCommandTimes(ListGrantsCommand, 0);
  });

  it("a grant still listed right after the revoke is succeeded, not verified (eventual consistency)", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).resolves({});
    kmsMock.on(ListGrantsCommand).resolves({ Grants: [{ GrantId: GRANT_ID }] });

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(result).toMatchObject({ status: "succeeded", verified: false });
  });

  it("a failed ListGrants leaves the revoke succeeded and unverified", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).resolves({});
    kmsMock.on(ListGrantsCommand).rejects(new Error("throttled"));

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(result?.status).toBe("succeeded");
    expect(result).not.toHaveProperty("verified");
  });

  it("without a grant id nothing is sent and the action fails", async () => {
    // Act
    const result = await runOne({ type: "revoke-grant", keyRef: KEY_ARN });

    // Assess
    expect(result?.status).toBe("failed");
    expect(kmsMock.calls()).toHaveLength(0);
  });
});

describe("disable-key", () => {
  const disable: PlannedAction = { type: "disable-key", keyRef: KEY_ARN };

  it("a key already Disabled is already-done, and DisableKey is not sent", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves(state("Disabled"));

    // Act
    const result = await runOne(disable);

    // Assess
    expect(kmsMock).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
    expect(result).toMatchObject({ status: "already-done", verified: true, keyStateAfter: "Disabled" });
  });

  it.each<KeyState>(["PendingDeletion", "PendingReplicaDeletion"])(
    "a key in %s is already unusable: already-done, no DisableKey",
    async (keyState) => {
      // Prepare
      kmsMock.on(DescribeKeyCommand).resolves(state(keyState));

      // Act
      const result = await runOne(disable);

      // Assess
      expect(kmsMock).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
      expect(result).toMatchObject({ status: "already-done", keyStateBefore: keyState });
    },
  );

  it("an Enabled key is disabled by key ID and verified by DescribeKey", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolvesOnce(state("Enabled")).resolves(state("Disabled"));
    kmsMock.on(DisableKeyCommand).resolves({});

    // Act
    const result = await runOne(disable);

    // Assess
    expect(kmsMock).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(result).toMatchObject({
      status: "succeeded",
      keyStateBefore: "Enabled",
      keyStateAfter: "Disabled",
      verified: true,
    });
  });
});

describe("enable-key", () => {
  const enable: PlannedAction = { type: "enable-key", keyRef: KEY_ARN };

  it("a Disabled key is enabled by key ID and verified by DescribeKey", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolvesOnce(state("Disabled")).resolves(state("Enabled"));
    kmsMock.on(EnableKeyCommand).resolves({});

    // Act
    const result = await runOne(enable);

    // Assess
    expect(kmsMock).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(result).toMatchObject({ status: "succeeded", verified: true, keyStateAfter: "Enabled" });
  });

  it("DescribeKey still reading Disabled after EnableKey: succeeded, not verified", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves(state("Disabled"));
    kmsMock.on(EnableKeyCommand).resolves({});

    // Act
    const result = await runOne(enable);

    // Assess
    expect(result).toMatchObject({ status: "succeeded", verified: false });
  });

  it("an Enabled key is already-done without EnableKey", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves(state("Enabled"));

    // Act
    const result = await runOne(enable);

    // Assess
    expect(kmsMock).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(result).toMatchObject({ status: "already-done", verified: true });
  });

  it("onlyIfEnabledBefore: skipped with 'left Disabled' when history shows a DisableKey", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [{ EventName: "DisableKey", EventTime: new Date("2026-11-01T00:00:00Z") }],
    });

    // Act
    const result = await runOne({ ...enable, onlyIfEnabledBefore: true });

    // Assess
    expect(result).toMatchObject({ status: "skipped", detail: expect.stringContaining("left Disabled") });
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it("a KMSInvalidStateException from EnableKey is a failure with the error", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves(state("PendingDeletion"));
    kmsMock.on(EnableKeyCommand).rejects(invalidState(`${KEY_ARN} is pending deletion.`));

    // Act
    const result = await runOne(enable);

    // Assess
    expect(result).toMatchObject({ status: "failed", error: expect.stringContaining("is pending deletion") });
  });
});

describe("cancel-key-deletion", () => {
  const cancel: PlannedAction = { type: "cancel-key-deletion", keyRef: KEY_ARN };

  it("cancels by key ID and verifies that the key left PendingDeletion", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).resolves({ KeyId: KEY_ARN });
    kmsMock.on(DescribeKeyCommand).resolves(state("Disabled"));

    // Act
    const result = await runOne(cancel);

    // Assess
    expect(kmsMock).toHaveReceivedCommandWith(CancelKeyDeletionCommand, { KeyId: KEY_ID });
    expect(result).toMatchObject({ status: "succeeded", verified: true, keyStateAfter: "Disabled" });
  });

  it("'is not pending deletion' means already cancelled: already-done", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).rejects(invalidState(`${KEY_ARN} is not pending deletion.`));
    kmsMock.on(DescribeKeyCommand).resolves(state("Enabled"));

    // Act
    const result = await runOne(cancel);

    // Assess
    expect(result).toMatchObject({ status: "already-done", keyStateAfter: "Enabled", verified: true });
  });

  it("any other KMSInvalidStateException is a failure", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).rejects(invalidState(`${KEY_ARN} is pending import.`));

    // Act
    const result = await runOne(cancel);

    // Assess
    expect(result).toMatchObject({ status: "failed", error: expect.stringContaining("pending import") });
  });

  it("an unreadable end state leaves the cancel succeeded and unverified", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).resolves({ KeyId: KEY_ARN });
    kmsMock.on(DescribeKeyCommand).rejects(new Error("throttled"));

    // Act
    const result = await runOne(cancel);

    // Assess
    expect(result?.status).toBe("succeeded");
    expect(result).not.toHaveProperty("verified");
  });
});

describe("enable-key-rotation", () => {
  const rotate: PlannedAction = { type: "enable-key-rotation", keyRef: KEY_ARN };

  it("enables rotation and verifies it with GetKeyRotationStatus", async () => {
    // Prepare
    kmsMock.on(EnableKeyRotationCommand).resolves({});
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });

    // Act
    const result = await runOne(rotate);

    // Assess
    expect(kmsMock).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: KEY_ARN });
    expect(result).toMatchObject({ status: "succeeded", verified: true });
  });

  it("a failed EnableKeyRotation is reported as failed", async () => {
    // Prepare
    kmsMock.on(EnableKeyRotationCommand).rejects(invalidState("key is disabled"));

    // Act
    const result = await runOne(rotate);

    // Assess
    expect(result?.status).toBe("failed");
    expect(kmsMock).toHaveReceivedCommandTimes(GetKeyRotationStatusCommand, 0);
  });
});

describe("runActions", () => {
  it("skips every action after a failed one (EnableKey only makes sense after the cancel worked)", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).rejects(new Error("AccessDeniedException"));

    // Act
    const results = await runActions(
      [
        { type: "cancel-key-deletion", keyRef: KEY_ARN },
        { type: "enable-key", keyRef: KEY_ARN },
      ],
      ctx,
    );

    // Assess
    expect(results.map((r) => r.status)).toEqual(["failed", "skipped"]);
    expect(results[1]?.detail).toContain("earlier action failed");
    expect(kmsMock).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(kmsMock).toHaveReceivedCommandTimes(DescribeKeyCommand, 0);
  });

  it("held actions (dry-run, skipped) are reported with their reason and send nothing", async () => {
    // Act
    const results = await runActions(
      [
        {
          type: "revoke-grant",
          keyRef: KEY_ARN,
          grantId: GRANT_ID,
          hold: { status: "dry-run", why: "notify mode" },
        },
        { type: "disable-key", keyRef: KEY_ARN, hold: { status: "skipped", why: "exempt key" } },
      ],
      ctx,
    );

    // Assess
    expect(results).toMatchObject([
      { type: "revoke-grant", status: "dry-run", detail: "notify mode", grantId: GRANT_ID },
      { type: "disable-key", status: "skipped", detail: "exempt key" },
    ]);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(cloudTrailMock.calls()).toHaveLength(0);
  });

  it("an action type without an executor fails instead of being silently dropped", async () => {
    // Act
    const results = await runActions([{ type: "revoke-grantee-grants", keyRef: KEY_ARN }], ctx);

    // Assess
    expect(results).toMatchObject([{ status: "failed", detail: expect.stringContaining("no executor") }]);
  });
});

describe("the Region a key lives in", () => {
  it("calls a key of another Region through a client of that Region, and its own Region's keys through the given client", async () => {
    // Prepare: KMS is regional; a multi-Region replica shares its primary's mrk- id.
    const home = new KMSClient({ region: "us-east-1" });
    const replica = "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "k", KeyState: "Enabled" } });
    kmsMock.on(DisableKeyCommand).resolves({});

    // Act
    await runActions(
      [
        { type: "disable-key", keyRef: replica },
        { type: "disable-key", keyRef: KEY_ARN },
      ],
      { kms: home, cloudTrail: new CloudTrailClient({}) },
    );

    // Assess
    const calls = kmsMock.commandCalls(DisableKeyCommand);
    expect(calls.map((c) => c.args[0].input.KeyId)).toEqual(["mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0", KEY_ID]);
    const regions = await Promise.all(calls.map((c) => (c.thisValue as KMSClient).config.region()));
    expect(regions).toEqual(["us-west-2", "us-east-1"]);
    expect(calls[1]?.thisValue).toBe(home);
  });
});
