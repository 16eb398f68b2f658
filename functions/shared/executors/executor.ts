/**
 * Executors perform one planned action each. They declare the IAM actions they call (as Cloud
 * Custodian's actions declare `permissions`), so a function's role is derived from the executors
 * its incident can plan under the deployed config. They never decide: the decider judged the
 * current state already; an executor treats "already done" as success (kms-facts.md "Key states
 * and the errors that make actions idempotent"), reads the end state back, and returns a result
 * instead of throwing: the pipeline notifies first, then fails the invocation if any action failed.
 */
import type { KMSClient } from "@aws-sdk/client-kms";
import { parseKeyArn } from "../arn.js";
import type { Config } from "../config.js";
import type { PlannedAction } from "../decision.js";
import { describeError } from "../errors.js";
import type { ActionStatus, ActionType } from "../types.js";

export interface ActionResult {
  type: ActionType;
  /** The key ARN (with the grant id for grant actions) acted on. */
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
   * `operations`, `retiringPrincipal`, `constraints`, `name`): the undo re-creates exactly it.
   */
  grant?: Record<string, unknown>;
}

/** The KMS client to call a key with: its Region, and its account (through the member role). */
export type KmsFor = (keyArn: string) => Promise<KMSClient>;

export interface ActionContext {
  /** The KMS client of the key's account and Region. */
  kms: KMSClient;
  config: Config;
  /** Results of the actions run before this one in the same plan. */
  earlier: readonly ActionResult[];
}

export interface Executor {
  type: ActionType;
  /** Every IAM action `run` may call, the read-back included. */
  permissions: readonly string[];
  run(action: PlannedAction, ctx: ActionContext): Promise<ActionResult>;
}

/**
 * Key id for the calls that cannot cross accounts (Disable/Enable/CancelKeyDeletion): AWS
 * accepts an ARN or an id, the local emulator only an id (kms-facts.md "Local emulator").
 */
export function keyIdOf(keyRef: string): string {
  return parseKeyArn(keyRef)?.id ?? keyRef;
}

export function base(action: PlannedAction): Pick<ActionResult, "type" | "target" | "keyRef" | "grantId"> {
  const target = action.grantId ? `${action.keyRef} grant ${action.grantId}` : action.keyRef;
  return action.grantId
    ? { type: action.type, target, keyRef: action.keyRef, grantId: action.grantId }
    : { type: action.type, target, keyRef: action.keyRef };
}

export function failed(action: PlannedAction, error: unknown, what: string): ActionResult {
  return {
    ...base(action),
    status: "failed",
    detail: `${what} failed: ${describeError(error)}`,
    error: describeError(error),
  };
}

/**
 * Runs planned actions in order with a static executor table. A held action (notify mode, exempt
 * key, unverified state) is reported with its hold status and not performed. When an action
 * fails, the actions after it are skipped: they depend on it (EnableKey only makes sense after
 * CancelKeyDeletion worked).
 */
export async function runActions(
  actions: readonly PlannedAction[],
  table: readonly Executor[],
  ctx: Omit<ActionContext, "earlier" | "kms"> & { kmsFor: KmsFor },
): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  for (const action of actions) {
    if (action.hold) {
      const held: ActionResult = { ...base(action), status: action.hold.status, detail: action.hold.why };
      results.push(action.hold.status === "failed" ? { ...held, error: action.hold.why } : held);
      continue;
    }
    if (results.some((r) => r.status === "failed")) {
      results.push({ ...base(action), status: "skipped", detail: "not attempted: an earlier action failed" });
      continue;
    }
    const executor = table.find((e) => e.type === action.type);
    if (!executor) {
      results.push({ ...base(action), status: "failed", detail: `no executor for ${action.type}` });
      continue;
    }
    try {
      const kms = await ctx.kmsFor(action.keyRef);
      results.push(await executor.run(action, { config: ctx.config, kms, earlier: [...results] }));
    } catch (error) {
      // Executors return failures; anything thrown (a verification read) is still reported, never lost.
      results.push(failed(action, error, action.type));
    }
  }
  return results;
}

/** Every IAM action the given executors may call, for the action types a config can plan. */
export function permissionsOf(table: readonly Executor[], types: readonly ActionType[]): string[] {
  return table.filter((e) => types.includes(e.type)).flatMap((e) => [...e.permissions]);
}

export type { ActionStatus };
