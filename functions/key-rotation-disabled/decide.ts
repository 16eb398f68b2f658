/** key-rotation-disabled: DisableKeyRotation. Re-enables automatic rotation if it is still off. */
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  holdUnverified,
  type KeyFacts,
  type PlannedAction,
  precheck,
} from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-rotation-disabled";

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const key = event.key;
  const on = facts.rotationEnabled === true;
  const actions: PlannedAction[] = key && !on ? [{ type: "enable-key-rotation", keyRef: key.arn }] : [];
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["rotation-disabled"],
    title: "KMS key rotation disabled",
    summary: "Automatic rotation of the key was switched off",
    details: on ? ["Automatic rotation is on again now: nothing to do."] : [],
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["rotation"]),
    event,
    key,
    ...(on && { verdicts: ["state-differs"] }),
  };
}
