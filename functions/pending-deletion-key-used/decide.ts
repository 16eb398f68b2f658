/**
 * pending-deletion-key-used: a KMS call failed because its key is pending deletion. Someone still
 * needs the key, so the deletion is cancelled and the key restored per `afterCancel`: unless the
 * key is another account's (our workload uses a partner's key: tell them), or the caller is of an
 * account nobody trusts (still having access is not a reason to keep the key: notify, high).
 */
import { restorePlan } from "../key-deletion-scheduled/restore.js";
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  holdRepair,
  holdUnverified,
  ignore,
  isNotificationKey,
  type KeyFacts,
  precheck,
} from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";
import { CRYPTOGRAPHIC_OPERATIONS } from "../shared/types.js";

export const INCIDENT = "pending-deletion-key-used";

/** The calls whose failure proves the key is needed: cryptographic use, and reading a public key. */
export const KEY_USE_OPERATIONS: readonly string[] = [...CRYPTOGRAPHIC_OPERATIONS, "GetPublicKey"].sort();

/**
 * KMS answers a call on a key pending deletion with `KMSInvalidStateException` or
 * `DisabledException` (`<key ARN> is pending deletion.`); a multi-Region primary waiting for its
 * replicas says "pending replica deletion" in words AWS does not document exactly, so the common
 * ending is matched.
 */
export const PENDING_DELETION_ERRORS = ["DisabledException", "KMSInvalidStateException"] as const;
const PENDING_DELETION = /\bpending (?:replica )?deletion\.?\s*$/i;
const NOT_PENDING = /\bnot pending/i;

export function isPendingDeletionError(event: KmsEvent): boolean {
  return (
    event.errorCode !== undefined &&
    (PENDING_DELETION_ERRORS as readonly string[]).includes(event.errorCode) &&
    KEY_USE_OPERATIONS.includes(event.eventName ?? "") &&
    PENDING_DELETION.test(event.errorMessage ?? "") &&
    !NOT_PENDING.test(event.errorMessage ?? "")
  );
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT, { failedCalls: true });
  if (skip) return skip;
  if (!isPendingDeletionError(event)) {
    return ignore("no-incident", "the call did not fail on a key pending deletion", INCIDENT);
  }
  const key = event.key;
  const actor = event.actor;
  const caller = actor.invokedBy
    ? `${actor.invokedBy} on behalf of ${actor.arn ?? "an unknown principal"}`
    : (actor.arn ?? "an unknown principal");
  const details = [
    `Failed operation: ${event.eventName ?? "unknown"} (${event.errorCode ?? "error"}: ${event.errorMessage ?? ""})`,
  ];
  const callerAccount = actor.accountId;
  const foreignKey = key !== undefined && event.accountId !== undefined && key.account !== event.accountId;
  const untrustedCaller =
    key !== undefined &&
    callerAccount !== undefined &&
    callerAccount !== key.account &&
    !config.trustedAccounts.includes(callerAccount);

  let plan = {
    actions: [] as ReturnType<typeof restorePlan>["actions"],
    details: [] as string[],
    verdicts: [] as string[],
  };
  let reasons = ["pending-deletion-key-used"];
  if (foreignKey) {
    reasons = ["foreign-key-pending-deletion"];
    details.push(
      `The key belongs to account ${key.account}: our workload still uses another account's key that is pending deletion. Tell its owner; nothing is changed on it.`,
    );
  } else if (untrustedCaller) {
    reasons = ["untrusted-account-uses-key"];
    details.push(
      `The caller is in account ${callerAccount}, which is not trusted: that it still has access is not a reason to keep the key. The deletion is not cancelled; review the key's policy and grants.`,
    );
  } else if (key) {
    plan = restorePlan(key, config, facts);
  }
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "high",
    reasons,
    title: "KMS key pending deletion still in use",
    summary: `${event.eventName ?? "A call"} by ${caller} failed because the key is pending deletion`,
    details: [...details, ...plan.details],
    // The notification key is repaired even though it is in ignoredKeys (every alarm needs it).
    actions: holdUnverified(
      key && isNotificationKey(key, config)
        ? holdRepair(INCIDENT, plan.actions, key, config, facts)
        : holdActions(INCIDENT, plan.actions, key, config, facts),
      facts,
      ["key"],
    ),
    event,
    key,
    ...(plan.verdicts.length && { verdicts: plan.verdicts }),
  };
}
