/**
 * key-deletion-scheduled: judges a ScheduleKeyDeletion. Unapproved deletions are cancelled and the
 * key restored; approved ones only notify (deletion date, days left, how to cancel).
 */
import type { Config } from "../shared/config.js";
import {
  callerIsOneOf,
  type Decision,
  holdActions,
  holdRepair,
  holdUnverified,
  ignore,
  isNotificationKey,
  type KeyFacts,
  precheck,
  principalMatches,
} from "../shared/decision.js";
import type { DeletionDetail, KmsEvent } from "../shared/event.js";
import { restorePlan } from "./restore.js";

export const INCIDENT = "key-deletion-scheduled";

export { parseRecordDate as parseDeletionDate } from "../shared/event.js";

/** Whole days from `from` until `date`, rounded up; never negative. */
export function daysLeft(date: Date, from: Date): number {
  return Math.max(0, Math.ceil((date.getTime() - from.getTime()) / 86_400_000));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * `30 days left`, or for a date already past (a recorded event triaged or previewed later)
 * `expired 3 days ago` (`expired today` within the day): never "0 days left" for a date gone by.
 */
export function deletionCountdown(date: Date, from: Date): string {
  const left = daysLeft(date, from);
  if (left > 0) return `${plural(left, "day")} left`;
  const ago = Math.floor((from.getTime() - date.getTime()) / 86_400_000);
  return ago === 0 ? "expired today" : `expired ${plural(ago, "day")} ago`;
}

/** Whether a ScheduleKeyDeletion was approved, with the reason codes (also judged when the key is finally deleted). */
export function approval(
  event: KmsEvent,
  config: Config,
  facts: KeyFacts,
): { approved: boolean; reasons: string[] } {
  // The notification key: only its administrators may delete it (every alarm goes silent without it).
  if (isNotificationKey(event.key, config)) {
    return callerIsOneOf(config.notificationKeyAdmins, event)
      ? { approved: true, reasons: ["approved-deletion"] }
      : { approved: false, reasons: ["notification-key-deletion"] };
  }
  if (!principalMatches(config.approvedDeletionPrincipals, event)) {
    return { approved: false, reasons: ["unapproved-deletion"] };
  }
  // Unreadable tags: the key may be protected, so the deletion is not approved on faith.
  if (facts.readErrors?.tags !== undefined) return { approved: false, reasons: ["tags-unreadable"] };
  if (facts.tags && config.protectedTagKey in facts.tags) {
    return { approved: false, reasons: ["protected-key"] };
  }
  if (config.requireMfa && event.actor.mfaAuthenticated !== true) {
    return { approved: false, reasons: ["mfa-missing"] };
  }
  return { approved: true, reasons: ["approved-deletion"] };
}

/** What the deletion request says about when the key goes. */
function scheduleDetails(request: DeletionDetail, now: Date): string[] {
  const details: string[] = [];
  if (request.keyState === "PendingReplicaDeletion") {
    details.push(
      "Multi-Region primary key: it waits for its replica keys to be deleted first, so there is no deletion date yet.",
    );
  }
  if (request.deletionDate) {
    details.push(
      `Deletion date: ${request.deletionDate.toISOString()} (${deletionCountdown(request.deletionDate, now)})`,
    );
  } else if (request.pendingWindowInDays !== undefined) {
    details.push(`Waiting period: ${request.pendingWindowInDays} days`);
  }
  return details;
}

/** How a person stops an approved deletion (nothing acts on it). */
function cancelHint(event: KmsEvent): string {
  const ref = event.key?.arn ?? event.keyHint ?? "KEY";
  const region = event.key?.region ?? event.region;
  const r = region ? ` --region ${region}` : "";
  return `To stop it: aws kms cancel-key-deletion --key-id ${ref}${r}; the key is then Disabled, so if it should be used again: aws kms enable-key --key-id ${ref}${r}`;
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}, now = new Date()): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const request = event.detail;
  if (request.kind !== "deletion") {
    return ignore("no-incident", `${event.eventName ?? "this event"} is not a ScheduleKeyDeletion`, INCIDENT);
  }
  const key = event.key;
  const { approved, reasons } = approval(event, config, facts);
  const details = scheduleDetails(request, now);
  if (approved) details.push(cancelHint(event));
  if (reasons.includes("protected-key")) details.push(`The key is tagged ${config.protectedTagKey}.`);
  if (reasons.includes("mfa-missing"))
    details.push("requireMfa is set and the session was not MFA-authenticated.");

  const plan =
    !approved && key ? restorePlan(key, config, facts) : { actions: [], details: [], verdicts: [] };
  const repair = key !== undefined && isNotificationKey(key, config);
  if (repair && !approved) {
    details.push(
      "This is the key that encrypts kms-responder's notifications: the responders repair it (the one key they do).",
    );
  }
  const held =
    repair && key
      ? holdRepair(INCIDENT, plan.actions, key, config, facts)
      : holdActions(INCIDENT, plan.actions, key, config, facts);
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: approved ? "medium" : "critical",
    reasons,
    title: approved ? "Approved KMS key deletion" : "Unapproved KMS key deletion",
    summary: approved
      ? "An approved principal scheduled the key for deletion"
      : "The key was scheduled for deletion by a principal that is not approved",
    details: [...details, ...plan.details],
    actions: holdUnverified(held, facts, ["key"]),
    event,
    key,
    ...(plan.verdicts.length && { verdicts: plan.verdicts }),
  };
}
