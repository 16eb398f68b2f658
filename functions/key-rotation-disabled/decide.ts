/**
 * key-rotation-disabled: DisableKeyRotation. Re-enables automatic rotation.
 */
import type { Config } from "../shared/config.js";
import { type Decision, holdActions, type KeyFacts, keyRefOf, precheck } from "../shared/decision.js";
import type { KmsApiCall } from "../shared/model.js";

export const INCIDENT = "key-rotation-disabled";

export function decide(call: KmsApiCall, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(call, config, INCIDENT);
  if (skip) return skip;
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["rotation-disabled"],
    title: "KMS key rotation disabled",
    summary: "Automatic rotation of the key was switched off",
    details: [],
    actions: holdActions(
      INCIDENT,
      [{ type: "enable-key-rotation", keyRef: keyRefOf(call) }],
      call,
      config,
      facts,
    ),
    call,
  };
}
