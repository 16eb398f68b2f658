/**
 * pending-deletion-key-used: a KMS call failed because its key is pending deletion. Someone
 * still needs the key, so the deletion is cancelled and the key restored per `afterCancel`.
 */
import { cancelActions } from "../key-deletion-scheduled/decide.js";
import type { Config } from "../shared/config.js";
import { type Decision, holdActions, type KeyFacts, precheck } from "../shared/decision.js";
import type { KmsApiCall } from "../shared/model.js";

export const INCIDENT = "pending-deletion-key-used";

export function decide(call: KmsApiCall, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(call, config, INCIDENT);
  if (skip) return skip;
  const caller = call.actor.invokedBy
    ? `${call.actor.invokedBy} on behalf of ${call.actor.arn ?? "an unknown principal"}`
    : (call.actor.arn ?? "an unknown principal");
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "high",
    reasons: ["pending-deletion-key-used"],
    title: "KMS key pending deletion still in use",
    summary: `${call.eventName ?? "A call"} by ${caller} failed because the key is pending deletion`,
    details: [
      `Failed operation: ${call.eventName ?? "unknown"} (${call.errorCode ?? "error"}: ${call.errorMessage ?? ""})`,
    ],
    actions: holdActions(INCIDENT, cancelActions(call, config), call, config, facts),
    call,
  };
}
