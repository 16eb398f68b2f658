/**
 * key-rotation-disabled, judged on a key's state: automatic rotation is off
 * (GetKeyRotationStatus) on an enabled key that can rotate. Only symmetric keys with key material
 * KMS generated rotate automatically (not imported material, not custom key stores); a disabled
 * key encrypts nothing new, so its rotation waits until it is enabled again.
 */
import type { Config } from "../shared/config.js";
import { type Finding, holdActions, holdUnverified, type PlannedAction } from "../shared/decision.js";
import {
  type KeyMetadataState,
  type KeyState,
  namedKey,
  type StateJudgement,
  stateFacts,
} from "../shared/state.js";
import { INCIDENT } from "./decide.js";

/** Whether KMS can rotate the key automatically (and so GetKeyRotationStatus says something). */
export function canRotate(metadata: KeyMetadataState): boolean {
  return (
    metadata.keyManager === "CUSTOMER" &&
    metadata.keySpec === "SYMMETRIC_DEFAULT" &&
    metadata.origin === "AWS_KMS" &&
    metadata.keyState === "Enabled"
  );
}

export function judgeRotation(state: KeyState, config: Config): Finding | undefined {
  if (!canRotate(state.metadata) || state.rotation === undefined || state.rotation.enabled) return undefined;
  const key = namedKey(state);
  const facts = stateFacts(state);
  const actions: PlannedAction[] = [{ type: "enable-key-rotation", keyRef: key.arn }];
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["rotation-disabled"],
    title: "KMS key rotation disabled",
    summary: "Automatic rotation of the key is off",
    details: [],
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["tags"]),
    event: undefined,
    key,
  };
}

export const keyRotationDisabledState: StateJudgement = {
  reads: ["rotation"],
  judge: (state, config) => judgeRotation(state, config),
};
