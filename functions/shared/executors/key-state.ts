/**
 * The key-state executors: `cancel-key-deletion`, `enable-key`, `disable-key`. Whether to act was
 * decided from the key's current state and history; these only act, idempotently, and read the
 * state back.
 */
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { isPendingDeletion } from "../decision.js";
import { awsErrorName, describeError } from "../errors.js";
import { type ActionResult, type ActionStatus, base, type Executor, failed, keyIdOf } from "./executor.js";

/** Reads the key state, returning undefined instead of throwing (verification is best effort). */
async function tryKeyState(kms: KMSClient, keyRef: string): Promise<string | undefined> {
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: keyRef }))).KeyMetadata?.KeyState;
  } catch {
    // Verification failure must not turn a successful action into a failed one: reported as unverified.
    return undefined;
  }
}

function withStates(
  result: ActionResult,
  before: string | undefined,
  after: string | undefined,
  expected: string,
): ActionResult {
  const out: ActionResult = { ...result };
  if (before) out.keyStateBefore = before;
  if (after) {
    out.keyStateAfter = after;
    out.verified = after === expected;
  }
  return out;
}

export const cancelKeyDeletion: Executor = {
  type: "cancel-key-deletion",
  permissions: ["kms:CancelKeyDeletion", "kms:DescribeKey"],
  async run(action, { kms }) {
    let status: ActionStatus = "succeeded";
    let detail = "deletion cancelled; the key is now Disabled";
    try {
      await kms.send(new CancelKeyDeletionCommand({ KeyId: keyIdOf(action.keyRef) }));
    } catch (error) {
      // "is not pending deletion": someone (or an earlier delivery) already cancelled it.
      if (
        awsErrorName(error) !== "KMSInvalidStateException" ||
        !/not pending deletion/i.test(describeError(error))
      ) {
        return failed(action, error, "CancelKeyDeletion");
      }
      status = "already-done";
      detail = "the key was not pending deletion (already cancelled)";
    }
    const after = await tryKeyState(kms, action.keyRef);
    const result: ActionResult = { ...base(action), status, detail };
    if (after === undefined) return result;
    return { ...result, keyStateAfter: after, verified: !isPendingDeletion(after) };
  },
};

export const enableKey: Executor = {
  type: "enable-key",
  permissions: ["kms:EnableKey", "kms:DescribeKey"],
  async run(action, { kms }) {
    const before = await tryKeyState(kms, action.keyRef);
    if (before === "Enabled") {
      return {
        ...base(action),
        status: "already-done",
        detail: "the key is already Enabled",
        keyStateBefore: before,
        keyStateAfter: before,
        verified: true,
      };
    }
    try {
      await kms.send(new EnableKeyCommand({ KeyId: keyIdOf(action.keyRef) }));
    } catch (error) {
      return failed(action, error, "EnableKey");
    }
    const after = await tryKeyState(kms, action.keyRef);
    return withStates(
      { ...base(action), status: "succeeded", detail: "key enabled" },
      before,
      after,
      "Enabled",
    );
  },
};

export const disableKey: Executor = {
  type: "disable-key",
  permissions: ["kms:DisableKey", "kms:DescribeKey"],
  async run(action, { kms }) {
    const before = await tryKeyState(kms, action.keyRef);
    if (before === "Disabled") {
      return {
        ...base(action),
        status: "already-done",
        detail: "the key is already Disabled",
        keyStateBefore: before,
        keyStateAfter: before,
        verified: true,
      };
    }
    if (isPendingDeletion(before)) {
      // DisableKey answers KMSInvalidStateException here; a key pending deletion is unusable already.
      return {
        ...base(action),
        status: "already-done",
        detail: `the key is ${before}: it cannot be used`,
        keyStateBefore: before ?? "",
        keyStateAfter: before ?? "",
        verified: true,
      };
    }
    try {
      await kms.send(new DisableKeyCommand({ KeyId: keyIdOf(action.keyRef) }));
    } catch (error) {
      return failed(action, error, "DisableKey");
    }
    const after = await tryKeyState(kms, action.keyRef);
    return withStates(
      { ...base(action), status: "succeeded", detail: "key disabled" },
      before,
      after,
      "Disabled",
    );
  },
};
