/**
 * key-deletion-scheduled, judged on a key's state: a key pending deletion (DescribeKey's KeyState
 * and DeletionDate). The state does not say who scheduled it, so approval is judged by what the
 * state can prove: the notification key and a key tagged protected may never be deleted; with no
 * `approvedDeletionPrincipals` no deletion is ever approved; otherwise whether this one was is
 * unknown (CloudTrail's ScheduleKeyDeletion record says). The undo is the same restore plan.
 */
import type { Config } from "../shared/config.js";
import {
  type Finding,
  holdActions,
  holdRepair,
  holdUnverified,
  isNotificationKey,
  isPendingDeletion,
} from "../shared/decision.js";
import { type KeyState, namedKey, type StateJudgement, stateFacts } from "../shared/state.js";
import type { Severity } from "../shared/types.js";
import { daysLeft, INCIDENT } from "./decide.js";
import { restorePlan } from "./restore.js";

function verdict(state: KeyState, config: Config): { reason: string; severity: Severity } {
  if (isNotificationKey(state.key, config))
    return { reason: "notification-key-deletion", severity: "critical" };
  if (config.protectedTagKey in state.tags) return { reason: "protected-key", severity: "critical" };
  if (config.approvedDeletionPrincipals.length === 0)
    return { reason: "unapproved-deletion", severity: "critical" };
  return { reason: "deletion-unattributed", severity: "high" };
}

export function judgeDeletion(state: KeyState, config: Config, now: Date): Finding | undefined {
  const { keyState, deletionDate } = state.metadata;
  if (!isPendingDeletion(keyState)) return undefined;
  const key = namedKey(state);
  const { reason, severity } = verdict(state, config);
  const facts = stateFacts(state);
  const plan = restorePlan(key, config, facts);
  const details = [
    deletionDate
      ? `Deletion date: ${deletionDate.toISOString()} (${daysLeft(deletionDate, now)} days left)`
      : "Multi-Region primary key waiting for its replicas to be deleted: no deletion date yet.",
  ];
  if (reason === "deletion-unattributed") {
    details.push(
      "Who scheduled the deletion is not part of the key's state: check the ScheduleKeyDeletion record in CloudTrail against approvedDeletionPrincipals.",
    );
  }
  if (reason === "protected-key") details.push(`The key is tagged ${config.protectedTagKey}.`);
  const region = ` --region ${key.region}`;
  details.push(
    `To stop it: aws kms cancel-key-deletion --key-id ${key.arn}${region}; the key is then Disabled: aws kms enable-key --key-id ${key.arn}${region}`,
  );
  const held = isNotificationKey(key, config)
    ? holdRepair(INCIDENT, plan.actions, key, config, facts)
    : holdActions(INCIDENT, plan.actions, key, config, facts);
  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons: [reason],
    title: "KMS key pending deletion",
    summary: deletionDate
      ? `The key is pending deletion: it is deleted on ${deletionDate.toISOString()}`
      : "The key is pending deletion",
    details: [...details, ...plan.details],
    actions: holdUnverified(held, facts, ["tags"]),
    event: undefined,
    key,
  };
}

export const keyDeletionScheduledState: StateJudgement = {
  reads: [],
  judge: judgeDeletion,
};
