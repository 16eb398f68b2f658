/**
 * The vocabulary shared by every responder, the CLI and the tests. Names here are part of the
 * product's contract: they appear in notifications, the CLI's JSON and the config file.
 */

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Lower rank is more severe: `critical` is 0. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** The most severe of a list, or `info` for an empty one. */
export function worstSeverity(severities: readonly Severity[]): Severity {
  let worst: Severity = "info";
  for (const s of severities) if (severityRank(s) < severityRank(worst)) worst = s;
  return worst;
}

/**
 * The action types, by declaration merging: each action module adds its own type from its file
 * (`functions/shared/actions/<type>.ts`),
 *
 *     declare module "../types.js" {
 *       interface ActionTypes { "revoke-grant": true }
 *     }
 *
 * and the action registry (`actions/modules.ts`) must list a module for each of these types.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the action modules (declaration merging).
export interface ActionTypes {}
export type ActionType = keyof ActionTypes;

export const ACTION_STATUSES = [
  "succeeded",
  "already-done",
  "failed",
  "skipped",
  "dry-run",
  "pending-approval",
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/**
 * KMS operations that use key material. Grant operations are named the same way, so one list
 * serves grants (rogue-grant) and API calls (pending-deletion-key-used).
 */
export const CRYPTOGRAPHIC_OPERATIONS: ReadonlySet<string> = new Set([
  "Decrypt",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "ReEncrypt",
  "ReEncryptFrom",
  "ReEncryptTo",
  "Sign",
  "Verify",
  "GenerateMac",
  "VerifyMac",
  "DeriveSharedSecret",
]);
