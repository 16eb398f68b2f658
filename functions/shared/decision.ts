/**
 * A decision is data: `ignore` with a reason, or a `finding` with the incident, severity, reason
 * codes and the actions planned. Executors interpret decisions; they never decide. The same
 * decisions serve the Lambda handlers, the CLI's offline triage and the drill.
 *
 * Deciders are pure and run twice in a handler: first on the event alone (most events end there
 * without an AWS call), then with `KeyFacts`, what the responder read about the key's *current*
 * state. An event is a claim (it may be stale, or already undone); the facts are what actions are
 * judged by.
 */
import { type KeyRef, parseArn, roleArnOfSession } from "./arn.js";
import type { Config } from "./config.js";
import { actorPrincipal, type KmsEvent } from "./event.js";
import { matchesAny } from "./principals.js";
import { RESPONDER_SOURCE_IDENTITY } from "./source-identity.js";
import type { ActionType, Severity } from "./types.js";

/** Why a record led to no incident. Stable strings: they are the CLI's `skipped` values. */
export type SkipReason =
  | "unparseable"
  | "not-kms"
  | "failed-call"
  | "own-call"
  | "no-incident"
  | "incident-off"
  | "trusted-grant";

/** The responder's own resource a repair acts on. */
export interface RepairTarget {
  name: string;
  bus?: string;
  region?: string;
}

export interface PlannedAction {
  type: ActionType;
  /** The key acted on, as an ARN. */
  keyRef: string;
  grantId?: string;
  /** `remove-statements`: the policy to put back, and the policy it replaces (for the undo). */
  policy?: string;
  previousPolicy?: string;
  /** `revoke-grant` from the runbook: the grant as listed before, so the undo re-creates exactly it. */
  grant?: Record<string, unknown>;
  /**
   * `enable-key-rotation`: the rotation period to set. EnableKeyRotation without a period sets
   * 365 days whatever the key had, so re-enabling passes the period the key had.
   */
  rotationPeriodInDays?: number;
  /** `enable-key-rotation` restoring a period: the period it replaces (for the undo). */
  replacedRotationPeriodInDays?: number;
  /** `untag-exempt` / `retag-protected`: the tag removed or put back (its value for the undo). */
  tag?: { key: string; value: string };
  /**
   * A repair of the responder's own resource (`enable-rule`, `start-logging`,
   * `restore-function-concurrency`): its name, the event bus of a rule (absent: the default bus)
   * and the Region it is in. `keyRef` then names the same resource.
   */
  resource?: RepairTarget;
  /** Set when the action is planned but will not be performed, and why. */
  hold?: { status: "dry-run" | "skipped" | "failed"; why: string; code: HoldCode };
}

/**
 * Why an action is held: stable codes tests and subscribers can rely on (the `why` is prose).
 * `unverified` means a read of the current state failed: the responder does not act blind.
 * `approve-by-hand`: approve mode, for an action with no approval document (the responder's own
 * repairs); the notification carries the command an approver runs.
 */
export type HoldCode =
  | "notify-mode"
  | "aws-managed-key"
  | "ignored-key"
  | "exempt-key"
  | "other-region"
  | "other-account"
  | "unknown-key"
  | "unverified"
  | "dry-run"
  | "inconsistent-record"
  | "replayed"
  | "stale-event"
  | "approve-by-hand";

export interface Finding {
  kind: "finding";
  incident: string;
  severity: Severity;
  reasons: string[];
  /** Headline for the subject line, e.g. "Rogue KMS grant". */
  title: string;
  /** What happened, one sentence. */
  summary: string;
  /** Facts worth showing a responder, one per line. */
  details: string[];
  actions: PlannedAction[];
  /** The event the finding is about; undefined for a runbook request (a person asked, no event). */
  event: KmsEvent | undefined;
  /** The key the finding is about (for ReplicateKey the new replica); undefined when unknown. */
  key: KeyRef | undefined;
  /**
   * What the finding is about when it is not a key: a custom key store (its events name the store,
   * no key). Notifications, Security Hub and triage name it where they would name the key.
   */
  store?: StoreRef;
  /**
   * What the finding is about when it is one of the responder's own resources (its trail, a rule, a
   * function, the topic, a role): the tampering incident's events name no key. Notifications name it
   * where they would name the key.
   */
  resource?: {
    kind: string;
    name: string /** The name without the stack's prefix, for the subject. */;
    short?: string;
  };
  /**
   * Codes for how the current state compared with the event's claim (`grant-gone`,
   * `policy-differs`, `state-differs`, ...): tests and the JSON document assert these.
   */
  verdicts?: string[];
  /** The ASFF finding type for Security Hub (from the incident's declaration; the pipeline sets it). */
  findingType?: string;
  /**
   * The key is gone for good: Security Hub's open findings about it are closed after this one is
   * imported (from the incident's declaration; the pipeline sets it).
   */
  closesKeyFindings?: true;
  /**
   * What a person can run to undo what the event did, when no automatic action could (re-import
   * the deleted material): listed with the actions' undo steps, after them.
   */
  undo?: ManualUndo[];
  /** Incident-specific facts for the JSON notification (e.g. the offending policy statements). */
  extra?: Record<string, unknown>;
  /**
   * Details only the notification needs, still being read while the actions run (the pipeline
   * sets it from the reads declared `notice`): awaited after acting, added to `details`. Never
   * rejects.
   */
  detailsToCome?: Promise<string[]>;
}

/**
 * Verdicts that say "nothing to do" because a read did not show what the event claims (the grant
 * is not listed, the policy is not the event's, the key is not pending deletion or no longer in
 * the event's state). KMS reads are eventually consistent, so the pipeline reads once more before
 * settling on one of these.
 */
export const NEGATIVE_VERDICTS: readonly string[] = [
  "grant-gone",
  "policy-differs",
  "state-differs",
  "not-pending-deletion",
];

/** Whether a decision rests on a negative read that a second read should confirm. */
export function restsOnNegativeRead(decision: Decision): boolean {
  return decision.kind === "finding" && (decision.verdicts ?? []).some((v) => NEGATIVE_VERDICTS.includes(v));
}

export interface Ignore {
  kind: "ignore";
  skipped: SkipReason;
  why: string;
  incident?: string;
}

export type Decision = Finding | Ignore;

/** A grant as ListGrants reports it now. */
export interface GrantFact {
  grantee: string | undefined;
  retiringPrincipal: string | undefined;
  operations: string[];
  constrained: boolean;
  name: string | undefined;
}

/** A custom key store (CloudHSM or external), as its events name it. */
export interface StoreRef {
  id: string;
  name: string | undefined;
  account: string | undefined;
  region: string | undefined;
}

/** One key material as ListKeyRotations lists it. */
export interface KeyMaterialFact {
  id: string;
  /** `CURRENT`, `NON_CURRENT`, `PENDING_ROTATION`, `PENDING_MULTI_REGION_IMPORT_AND_ROTATION`. */
  state: string | undefined;
  /** `IMPORTED` or `PENDING_IMPORT` (deleted, or not imported yet). */
  importState: string | undefined;
}

/** A step that undoes what the event did, run by a person (nothing automatic could). */
export interface ManualUndo {
  when: string;
  command: string;
}

/** The key's state before an event, from its CloudTrail history. */
export interface PriorState {
  state: "enabled" | "disabled" | "unknown";
  detail: string;
}

/**
 * What the responder read about the key before deciding again (nothing, offline). A field left
 * undefined was not read; a read that failed is in `readErrors` under its name.
 */
export interface KeyFacts {
  /** The key's tags. */
  tags?: Readonly<Record<string, string>>;
  /** `AWS` for AWS managed keys, `CUSTOMER` otherwise (DescribeKey). */
  keyManager?: string;
  /** DescribeKey's KeyState. */
  keyState?: string;
  /** DescribeKey's Description (for the notification; "" when the key has none). */
  keyDescription?: string;
  /** The aliases that name the key (ListAliases, for the notification). */
  aliases?: readonly string[];
  /** DescribeKey's Origin: `AWS_KMS`, `EXTERNAL` (imported material), `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`. */
  keyOrigin?: string;
  /** DescribeKey's CurrentKeyMaterialId. */
  currentKeyMaterialId?: string;
  /** The key's materials (ListKeyRotations with IncludeKeyMaterial), oldest first. */
  keyMaterials?: readonly KeyMaterialFact[];
  /** The grant named by the event as it is now; `null` when it no longer exists. */
  grant?: GrantFact | null;
  /** The key's current policy text. */
  policy?: string;
  /** The responder's own organisation, learnt with DescribeOrganization (when the config names none). */
  organizationId?: string;
  /** Whether automatic rotation is on now (GetKeyRotationStatus). */
  rotationEnabled?: boolean;
  /** The rotation period in days when rotation is on (GetKeyRotationStatus `RotationPeriodInDays`). */
  rotationPeriodInDays?: number;
  /** The key's state before the event (CloudTrail history). */
  prior?: PriorState;
  /** A DisableKey made after the event, when the history shows one. */
  disabledSince?: string;
  /**
   * The key's earlier successful calls of the event names the incident remembers (`remembers`),
   * oldest first, up to the event: its CloudTrail history when deployed, the records read before
   * it in the same run offline (triage). Undefined when not read.
   */
  earlier?: readonly KmsEvent[];
  /**
   * When and for what the key was last used (GetKeyLastUsage), as one sentence; "unknown" when
   * the API or the permission is missing. Undefined when not read. Read for the notification
   * only: the pipeline adds it to the details after acting, and no decision waits for it.
   */
  lastUsage?: string;
  /** Reads that failed, by fact name (`tags`, `key`, `grant`, `policy`, `history`), with the error. */
  readErrors?: Readonly<Record<string, string>>;
  /** Where the responder runs; its role acts on keys of this account and Region. */
  responder?: { region: string | undefined; account: string | undefined };
}

export function ignore(skipped: SkipReason, why: string, incident?: string): Ignore {
  return incident ? { kind: "ignore", skipped, why, incident } : { kind: "ignore", skipped, why };
}

export type IncidentMode = "enforce" | "approve" | "notify" | "off";

/**
 * Effective mode of one incident: the global `notify` wins over a per-incident `enforce` or
 * `approve`. `approve` decides as `enforce` does, then asks approvers instead of acting (approval.ts).
 */
export function incidentMode(config: Config, incident: string): IncidentMode {
  const settings = (config.incidents as Readonly<Record<string, { mode: IncidentMode }>>)[incident];
  const mode = settings?.mode ?? "enforce";
  if (mode === "off") return "off";
  return config.mode === "notify" ? "notify" : mode;
}

/**
 * Calls made by the responder's own roles are ignored (loop prevention, also in the rule pattern):
 * exactly the stack's role ARNs, and in an organisation the member role *of the key's own account*
 * in a session the central responder opened (its SourceIdentity). A role of the member role's name
 * in another account, or member B's role acting on member A's key, is an ordinary caller: B's
 * administrators control B's role.
 */
export function isOwnCall(event: KmsEvent, config: Config): boolean {
  const principal = actorPrincipal(event.actor);
  if (!principal) return false;
  const role = roleArnOfSession(principal);
  // Exact ARNs only (the config refuses wildcards): a look-alike role must not hide.
  if (config.responderRoleArns.includes(principal) || config.responderRoleArns.includes(role)) return true;
  return isResponderMemberSession(event, role, config);
}

function isResponderMemberSession(event: KmsEvent, role: string, config: Config): boolean {
  const member = config.organization?.memberRoleName;
  const key = event.key;
  if (member === undefined || key === undefined) return false;
  const arn = parseArn(role);
  return (
    arn?.service === "iam" &&
    arn.resource === `role/${member}` &&
    arn.account === key.account &&
    event.actor.accountId === key.account &&
    event.actor.sourceIdentity === RESPONDER_SOURCE_IDENTITY
  );
}

/** KMS's states of a key scheduled for deletion (a multi-Region primary waits for its replicas). */
export function isPendingDeletion(state: string | undefined): boolean {
  return state === "PendingDeletion" || state === "PendingReplicaDeletion";
}

/** The caller's candidates: the role, the caller's ARN and the role behind a session. */
function callerPrincipals(event: KmsEvent): string[] {
  const { roleArn, arn } = event.actor;
  return [roleArn, arn, arn && roleArnOfSession(arn)].filter((p): p is string => p !== undefined && p !== "");
}

/** Whether the caller is exactly one of these ARNs (no patterns: lists that hold power). */
export function callerIsOneOf(arns: readonly string[], event: KmsEvent): boolean {
  return callerPrincipals(event).some((p) => arns.includes(p));
}

/** Whether a principal (user, role, or role session) matches one of the configured patterns. */
export function principalMatches(patterns: readonly string[], event: KmsEvent): boolean {
  return callerPrincipals(event).some((c) => matchesAny(patterns, c));
}

/**
 * Applies mode, key exemptions and the limits of what this responder may touch to the actions an
 * incident wants. The finding itself is always reported.
 */
export function holdActions(
  incident: string,
  actions: PlannedAction[],
  key: KeyRef | undefined,
  config: Config,
  facts: KeyFacts,
  options: { exemptionApplies?: boolean } = {},
): PlannedAction[] {
  // Undoing the exemption itself must not be held by that exemption (exemption-tampered).
  const seen = options.exemptionApplies === false ? withoutExemptTag(facts, config) : facts;
  const hold = holdReason(incident, key, config, seen);
  return hold ? actions.map((a) => ({ ...a, hold })) : actions;
}

function withoutExemptTag(facts: KeyFacts, config: Config): KeyFacts {
  if (!facts.tags || !(config.exemptTagKey in facts.tags)) return facts;
  const { [config.exemptTagKey]: _exempt, ...tags } = facts.tags;
  return { ...facts, tags };
}

/** Whether the key is the stack's own notification key. */
export function isNotificationKey(key: KeyRef | undefined, config: Config): boolean {
  return key !== undefined && config.notificationKeyArn === key.arn;
}

/**
 * The holds that apply to repairing the notification key: only what this responder cannot reach,
 * and notify mode. The key is in `ignoredKeys` (never changed otherwise), and that must not stop
 * the repair: a disabled notification key silences every notification and alarm.
 */
export function holdRepair(
  incident: string,
  actions: PlannedAction[],
  key: KeyRef,
  config: Config,
  facts: KeyFacts,
): PlannedAction[] {
  const hold = reachHold(key, facts, config) ?? modeHold(incident, config);
  return hold ? actions.map((a) => ({ ...a, hold })) : actions;
}

/**
 * What this responder cannot reach. A single-account stack acts on its own account's keys in its
 * own Region (its role is scoped so). A central responder (`organization` configured) acts in any
 * account through the member role and in the organisation's Regions.
 */
function reachHold(key: KeyRef, facts: KeyFacts, config: Config): PlannedAction["hold"] | undefined {
  const here = facts.responder;
  const org = config.organization;
  if (!org && here?.account && key.account !== here.account) {
    return {
      status: "skipped",
      code: "other-account",
      why: `the key belongs to account ${key.account}; this responder acts in ${here.account} only`,
    };
  }
  if (org && !org.regions.includes(key.region) && key.region !== here?.region) {
    return {
      status: "skipped",
      code: "other-region",
      why: `the key is in ${key.region}, outside the organisation's Regions (${org.regions.join(", ")})`,
    };
  }
  if (!org && here?.region && key.region !== here.region) {
    // A multi-Region replica created from here lives elsewhere; this responder's role is scoped
    // to its own Region's keys (least privilege), so the stack in the key's Region must act.
    return {
      status: "skipped",
      code: "other-region",
      why: `the key is in ${key.region}; this responder acts in ${here.region} only`,
    };
  }
  return undefined;
}

export function modeHold(incident: string, config: Config): PlannedAction["hold"] | undefined {
  return incidentMode(config, incident) === "notify"
    ? { status: "dry-run", code: "notify-mode", why: "notify mode: decided but not changed" }
    : undefined;
}

function holdReason(
  incident: string,
  key: KeyRef | undefined,
  config: Config,
  facts: KeyFacts,
): PlannedAction["hold"] | undefined {
  if (!key) {
    return {
      status: "skipped",
      code: "unknown-key",
      why: "the key could not be determined: nothing to act on",
    };
  }
  // AWS managed keys cannot be disabled, deleted or re-policied by anyone: only their service manages them.
  if (facts.keyManager === "AWS" || key.alias?.startsWith("alias/aws/")) {
    return {
      status: "skipped",
      code: "aws-managed-key",
      why: "AWS managed key: no action is possible or needed",
    };
  }
  const reach = reachHold(key, facts, config);
  if (reach) return reach;
  if (config.ignoredKeys.some((k) => k === key.arn || k === key.id)) {
    return {
      status: "skipped",
      code: "ignored-key",
      why: "key is listed in ignoredKeys (never changed by the responder)",
    };
  }
  if (facts.readErrors?.tags !== undefined) {
    // Whether the key is exempt is unknown: do not act blind (the retry reads the tags again).
    return {
      status: "failed",
      code: "unverified",
      why: `the key's tags could not be read (${facts.readErrors.tags}): whether it is exempt is unknown, not acting blind`,
    };
  }
  if (facts.tags && config.exemptTagKey in facts.tags) {
    return {
      status: "skipped",
      code: "exempt-key",
      why: `key is tagged ${config.exemptTagKey} (notify only)`,
    };
  }
  return modeHold(incident, config);
}

/**
 * Holds every action when a read the decision depends on failed: do not act blind. The action is
 * reported `failed` (so the invocation fails and Lambda retries), with the read's error.
 */
export function holdUnverified(
  actions: PlannedAction[],
  facts: KeyFacts,
  needed: readonly string[],
): PlannedAction[] {
  const errors = needed.flatMap((n) => (facts.readErrors?.[n] ? [`${n}: ${facts.readErrors[n]}`] : []));
  if (errors.length === 0) return actions;
  const hold = {
    status: "failed" as const,
    code: "unverified" as const,
    why: `the current state could not be read (${errors.join("; ")}): not acting blind`,
  };
  return actions.map((a) => (a.hold ? a : { ...a, hold }));
}

/**
 * The checks every incident shares, in order: the incident is not switched off, the call
 * succeeded (unless the incident is about failed calls) and it was not made by the responder
 * itself. Returns an `Ignore`, or undefined when the incident's own rules should judge the event.
 */
export function precheck(
  event: KmsEvent,
  config: Config,
  incident: string,
  options: { failedCalls?: boolean; eventSources?: readonly string[] } = {},
): Ignore | undefined {
  const sources = options.eventSources ?? [KMS_SOURCE];
  if (!sources.includes(event.eventSource ?? "")) return notKms(event.eventSource, sources);
  if (event.errorCode !== undefined && !options.failedCalls) {
    return ignore("failed-call", `the call failed (${event.errorCode}): nothing changed`);
  }
  if (incidentMode(config, incident) === "off") {
    return ignore("incident-off", `${incident} is switched off in the config`, incident);
  }
  if (isOwnCall(event, config)) {
    return ignore("own-call", "made by the responder's own role (loop prevention)", incident);
  }
  return undefined;
}

/** KMS's CloudTrail event source: what every incident handles unless it declares others. */
export const KMS_SOURCE = "kms.amazonaws.com";

/** A record of an AWS service no incident (or not this one) watches. */
export function notKms(eventSource: string | undefined, watched: readonly string[] = [KMS_SOURCE]): Ignore {
  return ignore("not-kms", `event source is ${eventSource ?? "missing"}, not ${watched.join(" or ")}`);
}
