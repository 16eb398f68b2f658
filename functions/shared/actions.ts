/**
 * The action executors. Each performs one planned action, treats "already done" as success
 * (kms-facts.md "Key states and the errors that make actions idempotent"), reads the end state
 * back, and returns a result instead of throwing: the caller notifies first, then fails the
 * invocation if any action failed.
 */

import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  ListGrantsCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { kmsForKey } from "./clients.js";
import type { PlannedAction } from "./decision.js";
import { awsErrorName, describeError } from "./errors.js";
import { disabledSince, type PriorState, priorKeyState } from "./history.js";
import type { JsonObject, KmsApiCall } from "./model.js";
import { parseKeyArn } from "./model.js";
import type { ActionStatus, ActionType } from "./types.js";

export interface ActionResult {
  type: ActionType;
  /** The key ARN (or grant id for grant actions) acted on. */
  target: string;
  keyRef: string;
  grantId?: string;
  status: ActionStatus;
  /** What happened, in one sentence. */
  detail: string;
  /** The end state read back after the action: true confirmed, false not (yet) seen, undefined not checked. */
  verified?: boolean;
  keyStateBefore?: string;
  keyStateAfter?: string;
  error?: string;
  /** The key policy before a `remove-statements` change (for the undo). */
  previousPolicy?: string;
  /**
   * The revoked grant as CloudTrail's CreateGrant request writes it (`granteePrincipal`,
   * `operations`, `retiringPrincipal`, `constraints`, `name`), when the event does not carry it
   * (runbook revokes): the undo command re-creates exactly this grant.
   */
  grant?: JsonObject;
}

export interface ActionContext {
  kms: KMSClient;
  cloudTrail: CloudTrailClient;
  /** The triggering call (for history look-ups bounded by its time). */
  call?: KmsApiCall;
  /** Results of the actions run before this one in the same plan. */
  earlier?: readonly ActionResult[];
}

/**
 * Key id for the calls that cannot cross accounts (Disable/Enable/CancelKeyDeletion): AWS
 * accepts an ARN or an id, the local emulator only an id (kms-facts.md "Local emulator").
 */
function keyIdOf(keyRef: string): string {
  return parseKeyArn(keyRef)?.keyId ?? keyRef;
}

function targetOf(action: PlannedAction): string {
  return action.grantId ? `${action.keyRef} grant ${action.grantId}` : action.keyRef;
}

async function keyState(kms: KMSClient, keyRef: string): Promise<string | undefined> {
  const out = await kms.send(new DescribeKeyCommand({ KeyId: keyRef }));
  return out.KeyMetadata?.KeyState;
}

/** Reads the key state, returning undefined instead of throwing (verification is best effort). */
async function tryKeyState(kms: KMSClient, keyRef: string): Promise<string | undefined> {
  try {
    return await keyState(kms, keyRef);
  } catch {
    // Verification failure must not turn a successful action into a failed one: reported as unverified.
    return undefined;
  }
}

export function base(action: PlannedAction): Pick<ActionResult, "type" | "target" | "keyRef" | "grantId"> {
  return action.grantId
    ? { type: action.type, target: targetOf(action), keyRef: action.keyRef, grantId: action.grantId }
    : { type: action.type, target: targetOf(action), keyRef: action.keyRef };
}

export function failed(action: PlannedAction, error: unknown, what: string): ActionResult {
  return {
    ...base(action),
    status: "failed",
    detail: `${what} failed: ${describeError(error)}`,
    error: describeError(error),
  };
}

async function revokeGrant(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
  const grantId = action.grantId;
  if (!grantId) return { ...base(action), status: "failed", detail: "no grant id to revoke" };
  let status: ActionStatus = "succeeded";
  try {
    // The key ARN (not an id) so a grant on another account's key can be revoked too.
    await kms.send(new RevokeGrantCommand({ KeyId: action.keyRef, GrantId: grantId }));
  } catch (error) {
    if (awsErrorName(error) !== "NotFoundException") return failed(action, error, "RevokeGrant");
    status = "already-done";
  }
  // Grants are eventually consistent (up to ~5 minutes): a grant still listed right after a
  // successful revoke is reported as not yet verified, not as a failure.
  let verified: boolean | undefined;
  try {
    const out = await kms.send(new ListGrantsCommand({ KeyId: action.keyRef, GrantId: grantId }));
    verified = !(out.Grants ?? []).some((g) => g.GrantId === grantId);
  } catch (error) {
    if (awsErrorName(error) === "NotFoundException") verified = true;
  }
  const detail =
    status === "already-done"
      ? "the grant was already gone (NotFoundException)"
      : verified === false
        ? "revoked; ListGrants still lists it (grant changes take up to five minutes to propagate)"
        : "revoked";
  return verified === undefined
    ? { ...base(action), status, detail }
    : { ...base(action), status, detail, verified };
}

async function cancelDeletion(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
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
  const result: ActionResult = {
    ...base(action),
    status,
    detail,
    verified:
      after !== undefined ? after !== "PendingDeletion" && after !== "PendingReplicaDeletion" : undefined,
  };
  if (after) result.keyStateAfter = after;
  if (result.verified === undefined) delete result.verified;
  return result;
}

async function enableKey(action: PlannedAction, ctx: ActionContext): Promise<ActionResult> {
  const { kms } = ctx;
  let note = "";
  if (action.onlyIfEnabledBefore) {
    // The deletion was already cancelled (a duplicate delivery or a retry): respect a DisableKey
    // someone made since, rather than restoring the state from before the incident.
    const cancelledEarlier = ctx.earlier?.some(
      (r) => r.type === "cancel-key-deletion" && r.status === "already-done",
    );
    const since = cancelledEarlier
      ? await disabledSince(ctx.cloudTrail, action.keyRef, ctx.call?.eventTime)
      : undefined;
    if (since) return { ...base(action), status: "skipped", detail: `left Disabled: ${since}` };
    const prior: PriorState = await priorKeyState(ctx.cloudTrail, action.keyRef, ctx.call?.eventTime);
    if (prior.state === "disabled") {
      return { ...base(action), status: "skipped", detail: `left Disabled: ${prior.detail}` };
    }
    note = ` (${prior.detail})`;
  }
  const before = await tryKeyState(kms, action.keyRef);
  if (before === "Enabled") {
    return {
      ...base(action),
      status: "already-done",
      detail: `the key is already Enabled${note}`,
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
    { ...base(action), status: "succeeded", detail: `key enabled${note}` },
    before,
    after,
    "Enabled",
  );
}

async function disableKey(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
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
  if (before === "PendingDeletion" || before === "PendingReplicaDeletion") {
    // DisableKey answers KMSInvalidStateException here; a key pending deletion is unusable already.
    return {
      ...base(action),
      status: "already-done",
      detail: `the key is ${before}: it cannot be used`,
      keyStateBefore: before,
      keyStateAfter: before,
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
}

async function enableRotation(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
  try {
    // EnableKeyRotation on a key whose rotation is already on succeeds: idempotent as is.
    await kms.send(new EnableKeyRotationCommand({ KeyId: action.keyRef }));
  } catch (error) {
    return failed(action, error, "EnableKeyRotation");
  }
  try {
    const out = await kms.send(new GetKeyRotationStatusCommand({ KeyId: action.keyRef }));
    const on = out.KeyRotationEnabled === true;
    return {
      ...base(action),
      status: "succeeded",
      detail: on
        ? "automatic rotation re-enabled"
        : "EnableKeyRotation succeeded but rotation still reads as off",
      verified: on,
    };
  } catch {
    // Verification is best effort; the action itself succeeded.
    return { ...base(action), status: "succeeded", detail: "automatic rotation re-enabled (not verified)" };
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

export type Executor = (action: PlannedAction, ctx: ActionContext) => Promise<ActionResult>;

const executors: Partial<Record<ActionType, Executor>> = {
  "revoke-grant": revokeGrant,
  "cancel-key-deletion": cancelDeletion,
  "enable-key": enableKey,
  "disable-key": disableKey,
  "enable-key-rotation": enableRotation,
};

/** Registers an executor defined elsewhere (e.g. `remove-statements` by the key-policy responder). */
export function registerExecutor(type: ActionType, executor: Executor): void {
  executors[type] = executor;
}

/**
 * Runs planned actions in order. A held action (notify mode, exempt key) is reported with its
 * hold status and not performed. When an action fails, the actions after it are skipped: they
 * depend on it (EnableKey only makes sense after CancelKeyDeletion worked).
 */
export async function runActions(
  actions: readonly PlannedAction[],
  ctx: ActionContext,
): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  for (const action of actions) {
    if (action.hold) {
      results.push({ ...base(action), status: action.hold.status, detail: action.hold.why });
      continue;
    }
    if (results.some((r) => r.status === "failed")) {
      results.push({ ...base(action), status: "skipped", detail: "not attempted: an earlier action failed" });
      continue;
    }
    const executor = executors[action.type];
    if (!executor) {
      results.push({ ...base(action), status: "failed", detail: `no executor for ${action.type}` });
      continue;
    }
    try {
      results.push(
        await executor(action, {
          ...ctx,
          kms: await kmsForKey(ctx.kms, action.keyRef),
          earlier: [...results],
        }),
      );
    } catch (error) {
      // Executors return failures; anything thrown (a verification read) is still reported, never lost.
      results.push(failed(action, error, action.type));
    }
  }
  return results;
}
