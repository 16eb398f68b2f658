/**
 * key-rotation-disabled: DisableKeyRotation. Re-enables automatic rotation if it is still off,
 * with the rotation period the key had (EnableKeyRotation without one resets it to 365 days).
 */
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
import { periodFromHistory } from "../shared/rotation.js";

export const INCIDENT = "key-rotation-disabled";

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const key = event.key;
  const on = facts.rotationEnabled === true;
  const period = facts.rotationPeriodInDays ?? periodFromHistory(facts);
  const actions: PlannedAction[] =
    key && !on
      ? [
          {
            type: "enable-key-rotation",
            keyRef: key.arn,
            ...(period !== undefined && { rotationPeriodInDays: period }),
          },
        ]
      : [];
  const details = on
    ? ["Automatic rotation is on again now: nothing to do."]
    : period !== undefined
      ? [`Rotation period before it was switched off: ${period} days (kept when re-enabling).`]
      : [];
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["rotation-disabled"],
    title: "KMS key rotation disabled",
    summary: "Automatic rotation of the key was switched off",
    details,
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["rotation"]),
    event,
    key,
    ...(on && { verdicts: ["state-differs"] }),
  };
}
