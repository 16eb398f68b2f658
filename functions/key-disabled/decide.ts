/**
 * key-disabled: a DisableKey call. Notifies; re-enables the key only when `reenableDisabledKeys`
 * is set and the caller is not an approved principal.
 */
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  type KeyFacts,
  keyRefOf,
  type PlannedAction,
  precheck,
  principalMatches,
} from "../shared/decision.js";
import type { KmsApiCall } from "../shared/model.js";

export const INCIDENT = "key-disabled";

export function decide(call: KmsApiCall, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(call, config, INCIDENT);
  if (skip) return skip;

  const approved = principalMatches(config.approvedDisablePrincipals, call);
  const actions: PlannedAction[] =
    !approved && config.reenableDisabledKeys ? [{ type: "enable-key", keyRef: keyRefOf(call) }] : [];
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: approved ? "low" : "medium",
    reasons: [approved ? "approved-disable" : "unapproved-disable"],
    title: "KMS key disabled",
    summary: approved
      ? "An approved principal disabled the key"
      : "The key was disabled by a principal that is not approved: everything that uses it now fails",
    details:
      approved || config.reenableDisabledKeys ? [] : ["reenableDisabledKeys is off: the key stays disabled."],
    actions: holdActions(INCIDENT, actions, call, config, facts),
    call,
  };
}
