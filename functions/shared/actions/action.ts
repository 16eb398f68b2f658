/**
 * An action is one module (`functions/shared/actions/<type>.ts`, as a Cloud Custodian action is one
 * class): its type, the IAM actions it calls, `run` with the read that verifies it, its phrases in
 * notifications, its undo and its runbook document. `run` and the AWS SDK it sends through live
 * beside it in `<type>.run.ts`, so what only reads the declaration (the command line's preview and
 * triage) does not load the SDK. The registry (`./index.ts`) lists the modules; notifications, the
 * runbook, its SSM documents and the stack read them from there.
 *
 * Executors never decide: the decider judged the current state already. An executor treats
 * "already done" as success (KMS answers an idempotent error, such as NotFoundException for a grant
 * already revoked or "is not pending deletion" for a deletion already cancelled), reads the end
 * state back, and returns a result instead of throwing: the pipeline notifies first, then fails
 * the invocation if any action failed.
 */
import type { KMSClient } from "@aws-sdk/client-kms";
import { parseKeyArn } from "../arn.js";
import type { Config } from "../config.js";
import type { Finding, KeyFacts, PlannedAction, RepairTarget } from "../decision.js";
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
  /** `enable-key-rotation`: the period set, and the period it replaced (for the undo). */
  rotationPeriodInDays?: number;
  replacedRotationPeriodInDays?: number;
  /** The key policy before a `remove-statements` change (for the undo). */
  previousPolicy?: string;
  /**
   * The revoked grant as CloudTrail's CreateGrant request writes it (`granteePrincipal`,
   * `operations`, `retiringPrincipal`, `constraints`, `name`): the undo re-creates exactly it.
   */
  grant?: Record<string, unknown>;
  /** The tag removed or put back (`untag-exempt`, `retag-protected`), for the undo. */
  tag?: { key: string; value: string };
  /** The responder's resource a repair acted on, for the undo. */
  resource?: RepairTarget;
}

/**
 * The calls a repair of the responder's own resources makes, in one Region. They live in an
 * on-demand module (../clients/repair.ts) loaded by the one function that repairs: the action
 * modules, which every bundle carries, import no EventBridge, CloudTrail or Lambda code.
 */
export interface RepairClients {
  /** DescribeRule's State. */
  ruleState(rule: { name: string; bus?: string }): Promise<string | undefined>;
  enableRule(rule: { name: string; bus?: string }): Promise<void>;
  /**
   * The state the stack declares for the rule: `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` for
   * a rule that takes read-only management events (the stack lists them in the function's
   * environment), else `ENABLED`.
   */
  declaredRuleState(rule: { name: string; bus?: string }): string;
  /**
   * Puts a rule back in a state EnableRule cannot set: PutRule with the rule's own pattern,
   * description and role as DescribeRule reads them, and the state given.
   */
  putRuleState(rule: { name: string; bus?: string }, state: string): Promise<void>;
  /** GetTrailStatus's IsLogging. */
  trailLogging(trail: string): Promise<boolean | undefined>;
  startLogging(trail: string): Promise<void>;
  /**
   * GetFunction: the reservation now (undefined: none) and the one the stack declared in the
   * function's `kms-responder:reserved-concurrency` tag (undefined: the stack reserves none).
   */
  concurrency(functionName: string): Promise<{ reserved?: number; declared?: number }>;
  putConcurrency(functionName: string, reserved: number): Promise<void>;
  deleteConcurrency(functionName: string): Promise<void>;
}
export type RepairClientsFor = (region: string | undefined) => Promise<RepairClients>;

/** The KMS client to call a key with: its Region, and its account (through the member role). */
export type KmsFor = (keyArn: string) => Promise<KMSClient>;

export interface ActionContext {
  /** The KMS client of the key's account and Region. */
  kms: KMSClient;
  config: Config;
  /** Results of the actions run before this one in the same plan. */
  earlier: readonly ActionResult[];
  /** The repair clients, where the function repairs the responder's own resources. */
  repair?: RepairClientsFor | undefined;
  /**
   * What the handler read about the key in its round of reads, moments before acting (the
   * decision rests on it): an executor's "already done?" check starts from it instead of reading
   * the same thing again. Absent for planners that read nothing (the runbook, the sweep).
   */
  known?: KnownFacts;
}

/** The facts read before acting, and the key they are about. */
export interface KnownFacts {
  keyArn: string;
  facts: KeyFacts;
}

/**
 * The facts read before acting about this action's key, while they still hold: no action of the
 * plan has reached that key yet. Undefined otherwise (the executor reads).
 */
export function knownFor(action: PlannedAction, ctx: ActionContext): KeyFacts | undefined {
  const known = ctx.known;
  if (!known || known.keyArn !== action.keyRef) return undefined;
  return ctx.earlier.some((r) => ranOn(r, action)) ? undefined : known.facts;
}

/** Whether an earlier result reached this action's key (it acted, or found the change already made). */
export function ranOn(result: ActionResult, action: PlannedAction): boolean {
  return (
    result.keyRef === action.keyRef && (result.status === "succeeded" || result.status === "already-done")
  );
}

export interface Executor {
  type: ActionType;
  /** Every IAM action `run` may call, the read-back included. */
  permissions: readonly string[];
  run(action: PlannedAction, ctx: ActionContext): Promise<ActionResult>;
}

/** Where an undo command runs: the finding, and ` --region <key's Region>` or "" when unknown. */
export interface UndoWhere {
  finding: Finding;
  region: string;
}

/** One undo step: when it applies, the command, and its place among the steps (lower first). */
export interface UndoStepDraft {
  order: number;
  when: string;
  command: string;
}

export interface ActionUndo {
  /** The CLI command that undoes a succeeded result, or undefined when there is nothing to undo. */
  command(result: ActionResult, where: UndoWhere): string | undefined;
  /**
   * The steps in the notification. Least disruptive first: a grant comes back before a key is
   * enabled, and a deletion is scheduled again only last.
   */
  steps(result: ActionResult, where: UndoWhere, command: string | undefined): UndoStepDraft[];
}

/** The action's SSM Automation document (`<stack>-<document>`) and runbook request. */
export interface ActionRunbook {
  /** The document name's suffix, e.g. `RevokeGrant`. */
  document: string;
  /** The document's description: when to use it and how to undo it. */
  description: string;
  /** The document parameter naming what is acted on besides the key (then required in the payload). */
  target?: "GrantId" | "GranteePrincipal";
  /** Whether it changes anything: a mutating request has a dry run and is refused on AWS managed keys. */
  mutating: boolean;
}

/**
 * One action type, whole. Actions that only expand into others (`revoke-grantee-grants` plans
 * `revoke-grant`s) or only read (`analyze-key-policy`) have no `run`.
 */
export interface ActionModule<T extends ActionType = ActionType> {
  type: T;
  /** Every IAM action `run` may call, the read-back included. */
  permissions: readonly string[];
  run?(action: PlannedAction, ctx: ActionContext): Promise<ActionResult>;
  /** The notification subject's phrase when this was the first action done ("grant revoked"). */
  done: string;
  /** What the action changed for the key's users, shown in the notification when it happened. */
  impact?: string;
  /** What a runbook dry run says it would do, from the key state read. */
  wouldDo?(state: string, config: Config): string;
  undo?: ActionUndo;
  runbook?: ActionRunbook;
}

/** An action module that performs something: what an incident's handler table lists. */
export type ExecutingAction<T extends ActionType = ActionType> = ActionModule<T> & Executor;

/** Whether a module performs something (has `run`). */
export function isExecuting(m: ActionModule): m is ExecutingAction {
  return m.run !== undefined;
}

/** One undo step at a fixed place, when there is a command. */
export function oneStep(order: number, when: string): ActionUndo["steps"] {
  return (_result, _where, command) => (command ? [{ order, when, command }] : []);
}

/** A value as one shell word: as is when it is plainly safe, else single-quoted. */
export function shellArg(value: string): string {
  return /^[A-Za-z0-9:/_.@=+,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Key id for the calls that cannot cross accounts (Disable/Enable/CancelKeyDeletion): AWS
 * accepts an ARN or an id, the local emulator only an id.
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
      const known = ctx.known;
      results.push(
        await executor.run(action, {
          config: ctx.config,
          kms,
          earlier: [...results],
          repair: ctx.repair,
          ...(known && { known }),
        }),
      );
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

/** What every mutating runbook document says about its dry run. */
export const DRY_RUN_PLAN = "DryRun=true reads the key and says what would happen, changing nothing.";

/** An action module that declares a runbook document (the runbook's action types are these). */
export type WithRunbook = { runbook: ActionRunbook };
