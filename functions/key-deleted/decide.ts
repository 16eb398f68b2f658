/**
 * key-deleted: the DeleteKey service event that ends a pending deletion, the point of no return
 * (everything encrypted under the key is now unreadable). Critical when the deletion was not
 * approved (the cancel failed, or no responder was deployed then), info otherwise. Approved means
 * the key's ScheduleKeyDeletion, found in its history (CloudTrail deployed, the run's earlier
 * records in triage), was made by an approved principal (as key-deletion-scheduled judges it).
 */
import { approval } from "../key-deletion-scheduled/decide.js";
import type { Config } from "../shared/config.js";
import { type Decision, type KeyFacts, precheck } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-deleted";

function scheduled(facts: KeyFacts): KmsEvent | undefined {
  return (facts.earlier ?? []).findLast((e) => e.eventName === "ScheduleKeyDeletion");
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const schedule = scheduled(facts);
  // The schedule's caller is judged without tags: the key is gone, its tags cannot be read.
  const approved = schedule !== undefined && approval(schedule, config, {}).approved;
  const who = schedule ? (schedule.actor.roleArn ?? schedule.actor.arn ?? "an unknown principal") : undefined;
  const details = schedule
    ? [
        `Scheduled by ${who} at ${schedule.eventTime ?? "an unknown time"} (event ${schedule.eventId ?? "?"}).`,
      ]
    : facts.earlier === undefined
      ? [
          facts.readErrors?.earlier
            ? `The key's history could not be read (${facts.readErrors.earlier}): whether the deletion was approved is unknown.`
            : "Whether the deletion was approved is judged from the key's history.",
        ]
      : ["No ScheduleKeyDeletion of the key was seen (older than the history kept, or never approved)."];
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: approved ? "info" : "critical",
    reasons: [approved ? "approved-deletion-completed" : "unapproved-deletion-completed"],
    title: approved ? "KMS key deleted as approved" : "KMS key deleted without approval",
    summary: approved
      ? "KMS deleted the key at the end of an approved deletion's waiting period"
      : "KMS deleted the key at the end of its waiting period, and the deletion was not approved: data encrypted under it is unrecoverable",
    details: [...details, "Nothing can undo a key deletion."],
    actions: [],
    event,
    key: event.key,
  };
}
