/**
 * key-disabled: a DisableKey call. Notifies; re-enables the key only when `reenableDisabledKeys`
 * is set, the caller is not an approved principal, and the key is still Disabled now.
 */
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  holdUnverified,
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
  const approved = principalMatches(config.approvedDisablePrincipals, event);
  const verdicts: string[] = [];
  const details: string[] = approved || config.reenableDisabledKeys ? [] : ["reenableDisabledKeys is off: the key stays disabled."];
  let actions: PlannedAction[] = [];
  if (!approved && config.reenableDisabledKeys && key) {
    if (facts.keyState === undefined || facts.keyState === "Disabled") actions = [{ type: "enable-key", keyRef: key.arn }];
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
