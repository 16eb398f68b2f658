/**
 * A decision is data: `ignore` with a reason, or a `finding` with the incident, severity, reason
 * codes and the actions planned. Actions interpret decisions; they never decide. The same
 * decisions serve the Lambda handlers, the CLI's offline triage and the drill.
 */
import { type Config, incidentMode } from "./config.js";
import { actorPrincipal, type KmsApiCall, parseKeyArn } from "./model.js";
import { matchesAny, roleArnOfSession } from "./principals.js";
import {
  type ActionType,
  CRYPTOGRAPHIC_OPERATIONS,
  type IncidentName,
  type ResponderName,
  type Severity,
} from "./types.js";

/** Why a record led to no incident. Stable strings: they are the CLI's `skipped` values. */
export type SkipReason =
  | "unparseable"
  | "not-kms"
  | "failed-call"
  | "own-call"
  | "no-incident"
  | "incident-off"
  | "trusted-grant"
  | "no-key";

export interface PlannedAction {
  type: ActionType;
  /** The key acted on: its ARN when known, else the key id or alias from the record. */
  keyRef: string;
  grantId?: string;
  /** Only for `enable-key` after a cancelled deletion: enable only if the key was enabled before. */
  onlyIfEnabledBefore?: boolean;
  /** Set when the action is planned but will not be performed, and why. */
  hold?: { status: "dry-run" | "skipped"; why: string };
}

export interface Finding {
  kind: "finding";
  incident: ResponderName;
  severity: Severity;
  reasons: string[];
  /** Headline for the subject line, e.g. "Rogue KMS grant". */
  title: string;
  /** What happened, one sentence. */
  summary: string;
  /** Facts worth showing a responder, one per line. */
  details: string[];
  actions: PlannedAction[];
  call: KmsApiCall;
  /** Incident-specific facts for the JSON notification (e.g. the offending policy statements). */
  extra?: Record<string, unknown>;
}

export interface Ignore {
  kind: "ignore";
  skipped: SkipReason;
  why: string;
  incident?: IncidentName;
}

export type Decision = Finding | Ignore;

/** What the handlers learn about the key before deciding (nothing, offline). */
export interface KeyFacts {
  /** The key's tags; undefined when unknown (offline, or the lookup failed). */
  tags?: Readonly<Record<string, string>>;
  /** `AWS` for AWS managed keys, `CUSTOMER` otherwise. */
  keyManager?: string;
  /** DescribeKey's KeyState. */
  keyState?: string;
  /** Why the facts are incomplete (shown in the notification). */
  lookupError?: string;
  /** The Region the responder runs in; its role may act on keys of this Region only. */
  responderRegion?: string;
}

/** A record of another AWS service. */
export function notKms(eventSource: string | undefined): Ignore {
  return ignore("not-kms", `event source is ${eventSource ?? "missing"}, not kms.amazonaws.com`);
}

export function ignore(skipped: SkipReason, why: string, incident?: IncidentName): Ignore {
  return incident ? { kind: "ignore", skipped, why, incident } : { kind: "ignore", skipped, why };
}

/** Calls made by the responder's own roles are ignored (loop prevention, also in the rule pattern). */
export function isOwnCall(call: KmsApiCall, config: Config): boolean {
  const principal = actorPrincipal(call.actor);
  if (!principal) return false;
  return (
    matchesAny(config.responderRoleArns, principal) ||
    matchesAny(config.responderRoleArns, roleArnOfSession(principal))
  );
}

/** Whether a principal (user, role, or role session) matches one of the configured patterns. */
export function principalMatches(patterns: readonly string[], call: KmsApiCall): boolean {
  const candidates = [call.actor.roleArn, call.actor.arn, call.actor.arn && roleArnOfSession(call.actor.arn)];
  return candidates.some((c) => matchesAny(patterns, c));
}

/**
 * Applies mode and key exemptions to the actions an incident wants: in `notify` mode every
 * action is held as `dry-run`; on exempt keys, keys the config names in `ignoredKeys` and AWS
 * managed keys every action is held as `skipped`. The finding itself is always reported.
 */
export function holdActions(
  incident: IncidentName,
  actions: PlannedAction[],
  call: KmsApiCall,
  config: Config,
  facts: KeyFacts,
): PlannedAction[] {
  const why = holdReason(incident, call, config, facts);
  return why ? actions.map((a) => ({ ...a, hold: why })) : actions;
}

function holdReason(
  incident: IncidentName,
  call: KmsApiCall,
  config: Config,
  facts: KeyFacts,
): PlannedAction["hold"] | undefined {
  // AWS managed keys cannot be disabled, deleted or re-policied by anyone (kms-facts.md).
  if (facts.keyManager === "AWS" || call.keyAlias?.startsWith("alias/aws/")) {
    return { status: "skipped", why: "AWS managed key: no action is possible or needed" };
  }
  const keyRegion = parseKeyArn(call.keyArn)?.region;
  if (facts.responderRegion && keyRegion && keyRegion !== facts.responderRegion) {
    // A multi-Region replica created from here lives elsewhere; this responder's role is scoped
    // to its own Region's keys (least privilege), so the stack in the key's Region must act.
    return {
      status: "skipped",
      why: `the key is in ${keyRegion}; this responder acts in ${facts.responderRegion} only`,
    };
  }
  const ignored = config.ignoredKeys.some(
    (k) => k === call.keyArn || (call.keyId !== undefined && k === call.keyId),
  );
  if (ignored)
    return { status: "skipped", why: "key is listed in ignoredKeys (never changed by the responder)" };
  if (facts.tags && config.exemptTagKey in facts.tags) {
    return { status: "skipped", why: `key is tagged ${config.exemptTagKey} (notify only)` };
  }
  if (incidentMode(config, incident) === "notify") {
    return { status: "dry-run", why: "notify mode: decided but not changed" };
  }
  return undefined;
}

/** KMS's wording for a call on a key pending deletion: `<key ARN> is pending deletion.` (kms-facts.md). */
const PENDING_DELETION = /\bis pending deletion\.?\s*$/;

/**
 * A cryptographic call that failed because its key is pending deletion: proof that something
 * still uses the key. Administrative calls on such a key (DisableKey, PutKeyPolicy, a second
 * ScheduleKeyDeletion) fail the same way but prove nothing, so they do not count.
 */
export function isPendingDeletionError(call: KmsApiCall): boolean {
  return (
    call.errorCode !== undefined &&
    CRYPTOGRAPHIC_OPERATIONS.has(call.eventName ?? "") &&
    PENDING_DELETION.test(call.errorMessage ?? "")
  );
}

/**
 * The incident a record belongs to, by event name (and, for failed calls, the pending-deletion
 * error), or undefined when no incident covers it. CreateKey and ReplicateKey count only when
 * they carry a policy.
 */
export function incidentOf(call: KmsApiCall): IncidentName | undefined {
  if (call.eventSource !== "kms.amazonaws.com") return undefined;
  if (isPendingDeletionError(call)) return "pending-deletion-key-used";
  switch (call.eventName) {
    case "CreateGrant":
      return "rogue-grant";
    case "ScheduleKeyDeletion":
      return "key-deletion-scheduled";
    case "PutKeyPolicy":
      return "key-policy-violation";
    case "CreateKey":
    case "ReplicateKey":
      return call.request.policy !== undefined && call.request.policy !== null
        ? "key-policy-violation"
        : undefined;
    case "DisableKey":
      return "key-disabled";
    case "DeleteImportedKeyMaterial":
      return "key-material-deleted";
    case "DisableKeyRotation":
      return "key-rotation-disabled";
    default:
      return undefined;
  }
}

/**
 * The checks every incident shares, in order: the record is a KMS call of this incident, the
 * incident is not switched off, the call succeeded (except for the pending-deletion incident,
 * which is about failed calls), and it was not made by the responder itself.
 * Returns an `Ignore` or undefined when the incident's own rules should judge the call.
 */
export function precheck(call: KmsApiCall, config: Config, incident: IncidentName): Ignore | undefined {
  if (call.eventSource !== "kms.amazonaws.com") return notKms(call.eventSource);
  const actual = incidentOf(call);
  if (call.errorCode !== undefined && actual !== "pending-deletion-key-used") {
    return ignore("failed-call", `the call failed (${call.errorCode}): nothing changed`);
  }
  if (actual !== incident) {
    return ignore("no-incident", `${call.eventName ?? "this event"} is not a ${incident} event`);
  }
  if (incidentMode(config, incident) === "off") {
    return ignore("incident-off", `${incident} is switched off in the config`, incident);
  }
  if (isOwnCall(call, config)) {
    return ignore("own-call", "made by the responder's own role (loop prevention)", incident);
  }
  if (!call.keyArn && !call.keyId && !call.keyAlias) {
    return ignore("no-key", "the record does not say which key was used", incident);
  }
  return undefined;
}

/** The best reference to the key in a record: ARN, else key id, else alias. */
export function keyRefOf(call: KmsApiCall): string {
  return call.keyArn ?? call.keyId ?? call.keyAlias ?? "unknown-key";
}
