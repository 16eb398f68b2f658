/**
 * The executors and `runActions`: each executor acts idempotently ("already done" is success),
 * reads the end state back, and returns failures instead of throwing; `runActions` reports held
 * actions with their hold status, skips the actions after a failure, and fails an action whose
 * executor is missing from the table. Every executor's `permissions` list covers every command it
 * sends (the roles are derived from these lists).
 */
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  InvalidGrantIdException,
  type KeyState,
  KMSClient,
  KMSInvalidStateException,
  ListGrantsCommand,
  NotFoundException,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type ActionContext,
  type ActionResult,
  type Executor,
  type KmsFor,
  permissionsOf,
  runActions,
} from "../../functions/shared/actions/action.js";
import { cancelKeyDeletion } from "../../functions/shared/actions/cancel-key-deletion.js";
import { disableKey } from "../../functions/shared/actions/disable-key.js";
import { enableKey } from "../../functions/shared/actions/enable-key.js";
import { enableKeyRotation } from "../../functions/shared/actions/enable-key-rotation.js";
import { removeStatements } from "../../functions/shared/actions/remove-statements.js";
import { revokeGrant } from "../../functions/shared/actions/revoke-grant.js";
import { parseConfig } from "../../functions/shared/config.js";

/** Every default but the mode: enforce, as a deployment that acts sets it. */
const ENFORCE_CONFIG = parseConfig({ mode: "enforce" });

import type { PlannedAction } from "../../functions/shared/decision.js";

const kmsMock = mockClient(KMSClient);
const kms = new KMSClient({ region: "us-east-1" });

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "root" }] });
const PREVIOUS = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "root" }, { Sid: "public" }] });

const ALL: readonly Executor[] = [
  revokeGrant,
  cancelKeyDeletion,
  enableKey,
  disableKey,
  enableKeyRotation,
  removeStatements,
];

/** The client every key is reached with here, and the keys it was asked for. */
function context() {
  const asked: string[] = [];
  const kmsFor: KmsFor = async (arn) => {
    asked.push(arn);
    return kms;
  };
  return { ctx: { kmsFor, config: ENFORCE_CONFIG }, asked };
}

const state = (KeyState: KeyState) => ({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState } });
const invalidState = (message: string) => new KMSInvalidStateException({ message, $metadata: {} });

async function runOne(action: PlannedAction, table: readonly Executor[] = ALL): Promise<ActionResult> {
  const [result, ...rest] = await runActions([action], table, context().ctx);
  expect(rest).toEqual([]);
  if (!result) throw new Error("runActions returned no result");
  return result;
}

/** The IAM action of every command the mock received (`kms:RevokeGrant`, ...), without repeats. */
function sentActions(): string[] {
  const names = kmsMock.calls().map((c) => `kms:${c.args[0].constructor.name.replace(/Command$/, "")}`);
  return [...new Set(names)].sort();
}

beforeEach(() => {
  kmsMock.reset();
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
    expect(kmsMock).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    expect(result).toMatchObject({
      type: "revoke-grant",
      status: "succeeded",
      verified: true,
      grantId: GRANT_ID,
      target: `${KEY_ARN} grant ${GRANT_ID}`,
    });
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

  it("a NotFoundException from the read-back ListGrants also means gone: verified", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).resolves({});
    kmsMock.on(ListGrantsCommand).rejects(new NotFoundException({ message: "no grant", $metadata: {} }));

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(result).toMatchObject({ status: "succeeded", verified: true });
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
    expect(result.detail).toContain("propagate");
  });

  it("a failed ListGrants leaves the revoke succeeded and unverified", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).resolves({});
    kmsMock.on(ListGrantsCommand).rejects(new Error("throttled"));

    // Act
    const result = await runOne(revoke);

    // Assess
    expect(result.status).toBe("succeeded");
    expect(result).not.toHaveProperty("verified");
  });

  it("carries the planned grant into the result (the undo re-creates exactly it)", async () => {
    // Prepare
    kmsMock.on(RevokeGrantCommand).resolves({});
    kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
    const grant = { granteePrincipal: "arn:aws:iam::444455556666:role/exfil", operations: ["Decrypt"] };

    // Act
    const result = await runOne({ ...revoke, grant });

    // Assess
    expect(result.grant).toEqual(grant);
  });

  it("without a grant id nothing is sent and the action fails", async () => {
    // Act
    const result = await runOne({ type: "revoke-grant", keyRef: KEY_ARN });

    // Assess
    expect(result.status).toBe("failed");
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

  it("a failed DisableKey is reported with its error", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves(state("Enabled"));
    kmsMock.on(DisableKeyCommand).rejects(invalidState(`${KEY_ARN} is pending import.`));

    // Act
    const result = await runOne(disable);

    // Assess
    expect(result).toMatchObject({ status: "failed", error: expect.stringContaining("pending import") });
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

  it("a key still PendingDeletion after the cancel is succeeded, not verified", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).resolves({ KeyId: KEY_ARN });
    kmsMock.on(DescribeKeyCommand).resolves(state("PendingDeletion"));

    // Act
    const result = await runOne(cancel);

    // Assess
    expect(result).toMatchObject({ status: "succeeded", verified: false, keyStateAfter: "PendingDeletion" });
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
    expect(kmsMock).toHaveReceivedCommandTimes(DescribeKeyCommand, 0);
  });

  it("an unreadable end state leaves the cancel succeeded and unverified", async () => {
    // Prepare
    kmsMock.on(CancelKeyDeletionCommand).resolves({ KeyId: KEY_ARN });
    kmsMock.on(DescribeKeyCommand).rejects(new Error("throttled"));

    // Act
    const result = await runOne(cancel);

    // Assess
    expect(result.status).toBe("succeeded");
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

  it("rotation still off after EnableKeyRotation: succeeded, not verified", async () => {
    // Prepare
    kmsMock.on(EnableKeyRotationCommand).resolves({});
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });

    // Act
    const result = await runOne(rotate);

    // Assess
    expect(result).toMatchObject({ status: "succeeded", verified: false });
  });

  it("a planned period is passed as is (no read before) and verified against the status", async () => {
    // Prepare
    kmsMock.on(EnableKeyRotationCommand).resolves({});
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });

    // Act
    const result = await runOne({ ...rotate, rotationPeriodInDays: 90 });

    // Assess: the key reads 365, not the 90 asked for: succeeded, not verified
    expect(kmsMock).toHaveReceivedCommandWith(EnableKeyRotationCommand, {
      KeyId: KEY_ARN,
      RotationPeriodInDays: 90,
    });
    expect(kmsMock).toHaveReceivedCommandTimes(GetKeyRotationStatusCommand, 1);
    expect(result).toMatchObject({ status: "succeeded", verified: false, rotationPeriodInDays: 90 });
  });

  it("no planned period: the period the status reports is kept (never the API's default)", async () => {
    // Prepare
    kmsMock.on(EnableKeyRotationCommand).resolves({});
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 120 });

    // Act
    await runOne(rotate);

    // Assess
    expect(kmsMock).toHaveReceivedCommandWith(EnableKeyRotationCommand, {
      KeyId: KEY_ARN,
      RotationPeriodInDays: 120,
    });
  });

  it("a failed EnableKeyRotation is reported as failed", async () => {
    // Prepare
    kmsMock.on(EnableKeyRotationCommand).rejects(invalidState("key is disabled"));

    // Act
    const result = await runOne(rotate);

    // Assess
    expect(result.status).toBe("failed");
    // The read before (the period to keep), and no read-back after the failure.
    expect(kmsMock).toHaveReceivedCommandTimes(GetKeyRotationStatusCommand, 1);
  });
});

describe("remove-statements", () => {
  const repair: PlannedAction = {
    type: "remove-statements",
    keyRef: KEY_ARN,
    policy: POLICY,
    previousPolicy: PREVIOUS,
  };

  it("puts back the planned policy and verifies it by reading it back; the previous policy is kept", async () => {
    // Prepare: the read-back is formatted differently but is the same JSON
    kmsMock.on(PutKeyPolicyCommand).resolves({});
    kmsMock
      .on(GetKeyPolicyCommand)
      .resolvesOnce({ Policy: PREVIOUS })
      .resolves({ Policy: JSON.stringify(JSON.parse(POLICY), null, 2) });

    // Act
    const result = await runOne(repair);

    // Assess
    expect(kmsMock).toHaveReceivedCommandExactlyOnceWith(PutKeyPolicyCommand, {
      KeyId: KEY_ARN,
      PolicyName: "default",
      Policy: POLICY,
    });
    expect(result).toMatchObject({ status: "succeeded", verified: true, previousPolicy: PREVIOUS });
  });

  it("a read-back that differs (someone changed it again) is succeeded, not verified", async () => {
    // Prepare
    kmsMock.on(PutKeyPolicyCommand).resolves({});
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: PREVIOUS });

    // Act
    const result = await runOne(repair);

    // Assess
    expect(result).toMatchObject({ status: "succeeded", verified: false });
  });

  it("writes nothing when the policy changed between the read and the write, and fails", async () => {
    // Prepare: someone else put another policy since the decision read it.
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Statement: [{ Sid: "changed" }] }) });

    // Act
    const result = await runOne(repair);

    // Assess
    expect(kmsMock).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 0);
    expect(result).toMatchObject({ status: "failed", previousPolicy: PREVIOUS });
  });

  it("is already-done when the policy already is the repaired one (a retry)", async () => {
    // Prepare
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: POLICY });

    // Act
    const result = await runOne(repair);

    // Assess
    expect(kmsMock).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 0);
    expect(result).toMatchObject({ status: "already-done" });
  });

  it("a failed PutKeyPolicy is failed and still carries the previous policy", async () => {
    // Prepare
    kmsMock.on(PutKeyPolicyCommand).rejects(new Error("MalformedPolicyDocumentException: bad"));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: PREVIOUS });

    // Act
    const result = await runOne(repair);

    // Assess: read once before the write, not read back after the failure
    expect(result).toMatchObject({ status: "failed", previousPolicy: PREVIOUS });
    expect(kmsMock).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 1);
  });

  it("without a planned policy (the current one was not read) nothing is sent and it fails", async () => {
    // Act
    const result = await runOne({ type: "remove-statements", keyRef: KEY_ARN });

    // Assess
    expect(result.status).toBe("failed");
    expect(kmsMock.calls()).toHaveLength(0);
  });
});

describe("permissions: every command an executor sends is declared", () => {
  /** Runs one executor through the path that sends the most commands (act, then read back). */
  const busiest: ReadonlyArray<[Executor, PlannedAction, () => void]> = [
    [
      revokeGrant,
      { type: "revoke-grant", keyRef: KEY_ARN, grantId: GRANT_ID },
      () => {
        kmsMock.on(RevokeGrantCommand).resolves({});
        kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
      },
    ],
    [
      cancelKeyDeletion,
      { type: "cancel-key-deletion", keyRef: KEY_ARN },
      () => {
        kmsMock.on(CancelKeyDeletionCommand).resolves({});
        kmsMock.on(DescribeKeyCommand).resolves(state("Disabled"));
      },
    ],
    [
      enableKey,
      { type: "enable-key", keyRef: KEY_ARN },
      () => {
        kmsMock.on(DescribeKeyCommand).resolvesOnce(state("Disabled")).resolves(state("Enabled"));
        kmsMock.on(EnableKeyCommand).resolves({});
      },
    ],
    [
      disableKey,
      { type: "disable-key", keyRef: KEY_ARN },
      () => {
        kmsMock.on(DescribeKeyCommand).resolvesOnce(state("Enabled")).resolves(state("Disabled"));
        kmsMock.on(DisableKeyCommand).resolves({});
      },
    ],
    [
      enableKeyRotation,
      { type: "enable-key-rotation", keyRef: KEY_ARN },
      () => {
        kmsMock.on(EnableKeyRotationCommand).resolves({});
        kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
      },
    ],
    [
      removeStatements,
      { type: "remove-statements", keyRef: KEY_ARN, policy: POLICY, previousPolicy: PREVIOUS },
      () => {
        kmsMock.on(PutKeyPolicyCommand).resolves({});
        kmsMock.on(GetKeyPolicyCommand).resolvesOnce({ Policy: PREVIOUS }).resolves({ Policy: POLICY });
      },
    ],
  ];

  it("covers every executor", () => {
    // Assess: a new executor must be added to this table
    expect(busiest.map(([e]) => e.type).sort()).toEqual(ALL.map((e) => e.type).sort());
  });

  it.each(busiest.map(([executor, action, prepare]) => [executor.type, executor, action, prepare] as const))(
    "%s: its permissions are exactly the commands it sends",
    async (_type, executor, action, prepare) => {
      // Prepare
      prepare();

      // Act
      const result = await runOne(action, [executor]);

      // Assess
      expect(result.status).toBe("succeeded");
      expect(sentActions()).toEqual([...executor.permissions].sort());
    },
  );

  it("permissionsOf lists the permissions of the planned types only", () => {
    // Act
    const perms = permissionsOf(ALL, ["revoke-grant", "enable-key-rotation"]);

    // Assess
    expect(perms.sort()).toEqual(
      ["kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:RevokeGrant"].sort(),
    );
    expect(permissionsOf(ALL, [])).toEqual([]);
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
      ALL,
      context().ctx,
    );

    // Assess
    expect(results.map((r) => r.status)).toEqual(["failed", "skipped"]);
    expect(results[1]?.detail).toContain("earlier action failed");
    expect(kmsMock).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(kmsMock).toHaveReceivedCommandTimes(DescribeKeyCommand, 0);
  });

  it("held actions (dry-run, skipped, failed) are reported with their hold status and why, and send nothing", async () => {
    // Prepare
    const { ctx, asked } = context();

    // Act
    const results = await runActions(
      [
        {
          type: "revoke-grant",
          keyRef: KEY_ARN,
          grantId: GRANT_ID,
          hold: { status: "dry-run", code: "notify-mode", why: "notify mode" },
        },
        {
          type: "disable-key",
          keyRef: KEY_ARN,
          hold: { status: "skipped", code: "exempt-key", why: "exempt key" },
        },
        {
          type: "enable-key",
          keyRef: KEY_ARN,
          hold: { status: "failed", code: "unverified", why: "the key state could not be read" },
        },
      ],
      ALL,
      ctx,
    );

    // Assess
    expect(results).toEqual([
      {
        type: "revoke-grant",
        target: `${KEY_ARN} grant ${GRANT_ID}`,
        keyRef: KEY_ARN,
        grantId: GRANT_ID,
        status: "dry-run",
        detail: "notify mode",
      },
      { type: "disable-key", target: KEY_ARN, keyRef: KEY_ARN, status: "skipped", detail: "exempt key" },
      {
        type: "enable-key",
        target: KEY_ARN,
        keyRef: KEY_ARN,
        status: "failed",
        detail: "the key state could not be read",
        error: "the key state could not be read",
      },
    ]);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(asked).toEqual([]);
  });

  it("a held failure stops the actions after it, like a failed action", async () => {
    // Act
    const results = await runActions(
      [
        {
          type: "cancel-key-deletion",
          keyRef: KEY_ARN,
          hold: { status: "failed", code: "unverified", why: "history: throttled" },
        },
        { type: "enable-key", keyRef: KEY_ARN },
      ],
      ALL,
      context().ctx,
    );

    // Assess
    expect(results.map((r) => r.status)).toEqual(["failed", "skipped"]);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it("an action type without an executor in the table fails instead of being silently dropped", async () => {
    // Act
    const results = await runActions(
      [{ type: "disable-key", keyRef: KEY_ARN }],
      [revokeGrant],
      context().ctx,
    );

    // Assess
    expect(results).toMatchObject([{ status: "failed", detail: "no executor for disable-key" }]);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it("reaches each key through kmsFor with the action's key ARN", async () => {
    // Prepare: a replica in another Region shares its primary's mrk- id
    const replica = "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";
    const west = new KMSClient({ region: "us-west-2" });
    const clients = new Map<string, KMSClient>([
      [replica, west],
      [KEY_ARN, kms],
    ]);
    const asked: string[] = [];
    const kmsFor: KmsFor = async (arn) => {
      asked.push(arn);
      return clients.get(arn) ?? kms;
    };
    kmsMock.on(DescribeKeyCommand).resolves(state("Enabled"));
    kmsMock.on(DisableKeyCommand).resolves({});

    // Act
    await runActions(
      [
        { type: "disable-key", keyRef: replica },
        { type: "disable-key", keyRef: KEY_ARN },
      ],
      ALL,
      { kmsFor, config: ENFORCE_CONFIG },
    );

    // Assess
    expect(asked).toEqual([replica, KEY_ARN]);
    const calls = kmsMock.commandCalls(DisableKeyCommand);
    expect(calls.map((c) => c.args[0].input.KeyId)).toEqual(["mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0", KEY_ID]);
    expect(calls.map((c) => c.thisValue)).toEqual([west, kms]);
  });

  it("a key that cannot be reached (the member role cannot be assumed) fails that action, with the reason", async () => {
    // Prepare
    const kmsFor: KmsFor = async () => {
      throw new Error("could not assume arn:aws:iam::444455556666:role/kms-responder-member: AccessDenied");
    };

    // Act
    const results = await runActions(
      [
        { type: "disable-key", keyRef: KEY_ARN },
        { type: "enable-key-rotation", keyRef: KEY_ARN },
      ],
      ALL,
      { kmsFor, config: ENFORCE_CONFIG },
    );

    // Assess
    expect(results).toMatchObject([
      { status: "failed", error: expect.stringContaining("role/kms-responder-member") },
      { status: "skipped" },
    ]);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it("an executor that throws is reported failed, never lost", async () => {
    // Prepare
    const throwing: Executor = {
      type: "disable-key",
      permissions: [],
      run: async () => {
        throw new Error("boom");
      },
    };

    // Act
    const results = await runActions([{ type: "disable-key", keyRef: KEY_ARN }], [throwing], context().ctx);

    // Assess
    expect(results).toMatchObject([{ status: "failed", error: "Error: boom" }]);
  });

  it("gives each executor the key's client, the config and the results of the actions before it", async () => {
    // Prepare
    const seen: Array<ActionContext> = [];
    const recording: Executor = {
      type: "enable-key-rotation",
      permissions: [],
      run: async (action, ctx) => {
        seen.push(ctx);
        return {
          type: action.type,
          target: action.keyRef,
          keyRef: action.keyRef,
          status: "succeeded",
          detail: "ok",
        };
      },
    };

    // Act
    await runActions(
      [
        { type: "enable-key-rotation", keyRef: KEY_ARN },
        { type: "enable-key-rotation", keyRef: KEY_ARN },
      ],
      [recording],
      context().ctx,
    );

    // Assess
    expect(seen.map((c) => c.earlier.length)).toEqual([0, 1]);
    expect(seen[1]?.earlier[0]).toMatchObject({ status: "succeeded", detail: "ok" });
    expect(seen[0]?.config).toBe(ENFORCE_CONFIG);
    expect(seen[0]?.kms).toBe(kms);
  });
});
