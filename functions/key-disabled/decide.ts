/**
 * key-disabled: a DisableKey call. Notifies; re-enables the key only when `reenableDisabledKeys`
 * is set, the caller is not an approved principal, and the key is still Disabled now.
 */
import type { KeyRef } from "../shared/arn.js";
import type { Config } from "../shared/config.js";
import {
  callerIsOneOf,
  type Decision,
  holdActions,
  holdRepair,
  holdUnverified,
  isNotificationKey,
  type KeyFacts,
  type PlannedAction,
  precheck,
  principalMatches,
} from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-disabled";

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const key = event.key;
  if (key && isNotificationKey(key, config)) return repairNotificationKey(event, key, config, facts);
  const approved = principalMatches(config.approvedDisablePrincipals, event);
  const verdicts: string[] = [];
  const details: string[] =
    approved || config.reenableDisabledKeys ? [] : ["reenableDisabledKeys is off: the key stays disabled."];
  let actions: PlannedAction[] = [];
  if (!approved && config.reenableDisabledKeys && key) {
    if (facts.keyState === undefined || facts.keyState === "Disabled")
      actions = [{ type: "enable-key", keyRef: key.arn }];
    else {
      verdicts.push("state-differs");
      details.push(`The key is ${facts.keyState} now, not Disabled: nothing to re-enable.`);
    }
  }
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: approved ? "low" : "medium",
    reasons: [approved ? "approved-disable" : "unapproved-disable"],
    title: "KMS key disabled",
    summary: approved
      ? "An approved principal disabled the key"
      : "The key was disabled by a principal that is not approved: everything that uses it now fails",
    details,
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["key"]),
    event,
    key,
    ...(verdicts.length && { verdicts }),
  };
}

/**
 * The stack's notification key was disabled: every notification and alarm is silent until it is
 * enabled again. Re-enable it whoever did it (unless they administer it) and say so loudly.
 */
function repairNotificationKey(event: KmsEvent, key: KeyRef, config: Config, facts: KeyFacts): Decision {
  const byAdmin = callerIsOneOf(config.notificationKeyAdmins, event);
  const enabledNow = facts.keyState === "Enabled";
  const actions: PlannedAction[] = byAdmin || enabledNow ? [] : [{ type: "enable-key", keyRef: key.arn }];
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "critical",
    reasons: ["notification-key-disabled"],
    title: "Notification key disabled",
    summary:
      "The key that encrypts kms-responder's notification topic was disabled: notifications and alarms cannot be delivered while it is",
    details: byAdmin
      ? ["Disabled by a notificationKeyAdmins principal: left as it is."]
      : enabledNow
        ? ["The key is Enabled again now: nothing to do."]
        : ["The responder re-enables it: it is the one key the responders repair."],
    actions: holdUnverified(holdRepair(INCIDENT, actions, key, config, facts), facts, ["key"]),
    event,
    key,
    ...(enabledNow && !byAdmin && { verdicts: ["state-differs"] }),
  };
}
