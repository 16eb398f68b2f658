/**
 * key-material-expiring, judged on a key's state: imported key material with
 * `KEY_MATERIAL_EXPIRES` and its `ValidTo` (DescribeKey). Same severity rule as for the import
 * event, counted from now: high within URGENT_DAYS, else medium. Nothing to undo.
 */
import type { Finding } from "../shared/decision.js";
import { type KeyState, namedKey, type StateJudgement } from "../shared/state.js";
import { INCIDENT, URGENT_DAYS } from "./decide.js";

export function judgeExpiry(state: KeyState, now: Date): Finding | undefined {
  const { origin, expirationModel, validTo, keyState } = state.metadata;
  if (origin !== "EXTERNAL" || expirationModel !== "KEY_MATERIAL_EXPIRES" || !validTo) return undefined;
  // A key pending deletion or waiting for material has no expiry that matters.
  if (keyState !== "Enabled" && keyState !== "Disabled") return undefined;
  const days = Math.floor((validTo.getTime() - now.getTime()) / 86_400_000);
  const when = validTo.toISOString();
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: days <= URGENT_DAYS ? "high" : "medium",
    reasons: ["key-material-expires"],
    title: "Imported KMS key material expires",
    summary: `The key's imported material expires on ${when} (${days < 0 ? "already past" : `${days} days from now`})`,
    details: [
      `Expires: ${when}`,
      "On that date KMS deletes the key material: every cryptographic call with the key fails until the same material is imported again.",
      "To keep the key working, re-import the same key material with a later ValidTo, or with --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE.",
    ],
    actions: [],
    event: undefined,
    key: namedKey(state),
  };
}

export const keyMaterialExpiringState: StateJudgement = {
  reads: [],
  judge: (state, _config, now) => judgeExpiry(state, now),
};
