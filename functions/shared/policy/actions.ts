/**
 * The KMS action catalogue the analyser reasons with. A statement's `Action`/`NotAction` patterns
 * are resolved once into a bit mask over this list, so "does it allow kms:CreateGrant", "does it
 * allow every action" and "which admin actions does this principal hold" are mask operations.
 */

import { type CompiledGlob, compileGlob, stringLikeMatch } from "./glob.js";

/**
 * Every IAM action of the `kms` service prefix (AWS Service Authorization Reference, "Actions
 * defined by AWS Key Management Service"). An action missing here (a future one) is simply not
 * counted as admin or usage; `kms:*` is still recognised because it matches all of these.
 */
const KMS_ACTIONS = [
  "CancelKeyDeletion",
  "ConnectCustomKeyStore",
  "CreateAlias",
  "CreateCustomKeyStore",
  "CreateGrant",
  "CreateKey",
  "Decrypt",
  "DeleteAlias",
  "DeleteCustomKeyStore",
  "DeleteImportedKeyMaterial",
  "DeriveSharedSecret",
  "DescribeCustomKeyStores",
  "DescribeKey",
  "DisableKey",
  "DisableKeyRotation",
  "DisconnectCustomKeyStore",
  "EnableKey",
  "EnableKeyRotation",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "GenerateMac",
  "GenerateRandom",
  "GetKeyLastUsage",
  "GetKeyPolicy",
  "GetKeyRotationStatus",
  "GetParametersForImport",
  "GetPublicKey",
  "ImportKeyMaterial",
  "ListAliases",
  "ListGrants",
  "ListKeyPolicies",
  "ListKeyRotations",
  "ListKeys",
  "ListResourceTags",
  "ListRetirableGrants",
  "PutKeyPolicy",
  "ReEncryptFrom",
  "ReEncryptTo",
  "ReplicateKey",
  "RetireGrant",
  "RevokeGrant",
  "RotateKeyOnDemand",
  "ScheduleKeyDeletion",
  "Sign",
  "SynchronizeMultiRegionKey",
  "TagResource",
  "UntagResource",
  "UpdateAlias",
  "UpdateCustomKeyStore",
  "UpdateKeyDescription",
  "UpdatePrimaryRegion",
  "Verify",
  "VerifyMac",
] as const;
type KmsAction = (typeof KMS_ACTIONS)[number];

/** A set of KMS actions, bit i standing for `KMS_ACTIONS[i]`. */
export type ActionMask = bigint;

const QUALIFIED = KMS_ACTIONS.map((name) => `kms:${name}`.toLowerCase());
const LONGEST_ACTION = Math.max(...QUALIFIED.map((name) => name.length));

function maskOf(names: readonly KmsAction[]): ActionMask {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(KMS_ACTIONS.indexOf(name));
  return mask;
}

export const NO_ACTIONS: ActionMask = 0n;
export const ALL_ACTIONS: ActionMask = (1n << BigInt(KMS_ACTIONS.length)) - 1n;
export const CREATE_GRANT: ActionMask = maskOf(["CreateGrant"]);
export const PUT_KEY_POLICY: ActionMask = maskOf(["PutKeyPolicy"]);

/**
 * Key administration: what the console's "Allow access for Key Administrators" statement grants
 * (kms:Create*, Describe*, Enable*, List*, Put*, Update*, Revoke*, Disable*, Get*, Delete*,
 * TagResource, UntagResource, ScheduleKeyDeletion, CancelKeyDeletion, RotateKeyOnDemand), minus:
 * - read-only actions (Describe*, Get*, List*), so a Describe-only user is not an admin;
 * - grant operations (CreateGrant, RevokeGrant): the console gives those to key *users* in
 *   "Allow attachment of persistent resources", and grant delegation has its own check;
 * - account-level actions that have no effect in a key policy (CreateKey, *CustomKeyStore*).
 */
export const ADMIN_ACTIONS: ActionMask = maskOf([
  "CreateAlias",
  "EnableKey",
  "EnableKeyRotation",
  "PutKeyPolicy",
  "UpdateAlias",
  "UpdateKeyDescription",
  "UpdatePrimaryRegion",
  "DisableKey",
  "DisableKeyRotation",
  "DeleteAlias",
  "DeleteImportedKeyMaterial",
  "TagResource",
  "UntagResource",
  "ScheduleKeyDeletion",
  "CancelKeyDeletion",
  "RotateKeyOnDemand",
]);

/** Cryptographic use of the key. */
export const USAGE_ACTIONS: ActionMask = maskOf([
  "Encrypt",
  "Decrypt",
  "ReEncryptFrom",
  "ReEncryptTo",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "Sign",
  "Verify",
  "GenerateMac",
  "VerifyMac",
  "DeriveSharedSecret",
]);

/**
 * Reads that leak little when shared with everyone: the public half of an asymmetric key (what
 * signing and encryption key pairs are for) and metadata about the key, its policy, grants,
 * aliases, tags and rotation. Nothing here uses the key or changes it; GetParametersForImport is
 * left out (it starts an import of key material).
 */
export const NON_SENSITIVE_READS: ActionMask = maskOf([
  "GetPublicKey",
  "DescribeKey",
  "DescribeCustomKeyStores",
  "GetKeyLastUsage",
  "GetKeyPolicy",
  "GetKeyRotationStatus",
  "ListAliases",
  "ListGrants",
  "ListKeyPolicies",
  "ListKeyRotations",
  "ListKeys",
  "ListResourceTags",
  "ListRetirableGrants",
]);

export const GET_PUBLIC_KEY: ActionMask = maskOf(["GetPublicKey"]);

/** Managing grants on the key (not using it). */
export const GRANT_OPERATIONS: ActionMask = maskOf([
  "CreateGrant",
  "ListGrants",
  "RevokeGrant",
  "RetireGrant",
]);

/**
 * What makes access by an untrusted account critical, as a grant to it would be: cryptographic
 * use, administration, and the grant operations that hand use on (CreateGrant) or take it from
 * the key's own users (RevokeGrant).
 */
export const EXTERNAL_CRITICAL_ACTIONS: ActionMask =
  USAGE_ACTIONS | ADMIN_ACTIONS | maskOf(["CreateGrant", "RevokeGrant"]);

/** `kms:Name` for every action in the mask, in catalogue order, at most `limit` of them. */
export function actionNames(mask: ActionMask, limit: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < KMS_ACTIONS.length && names.length < limit; i++) {
    if ((mask >> BigInt(i)) & 1n) names.push(`kms:${KMS_ACTIONS[i]}`);
  }
  return names;
}

/** The number of actions in a mask. */
export function actionCount(mask: ActionMask): number {
  let count = 0;
  for (let rest = mask; rest > 0n; rest >>= 1n) if (rest & 1n) count++;
  return count;
}

/**
 * Resolves action patterns (`kms:Get*`, `*`, `KMS:decrypt`) to masks. Patterns are compared
 * case-insensitively, as IAM does. One resolver serves one analysis: it caches each distinct
 * pattern, so a 5,000-statement policy repeating `kms:*` resolves it once.
 */
export class ActionResolver {
  readonly #cache = new Map<string, ActionMask>();

  /** The actions one pattern matches; NO_ACTIONS for non-KMS or impossible patterns. */
  resolve(pattern: string): ActionMask {
    const cached = this.#cache.get(pattern);
    if (cached !== undefined) return cached;
    const compiled = compileGlob(pattern, LONGEST_ACTION);
    const mask = compiled === undefined ? NO_ACTIONS : matchAll(compiled);
    this.#cache.set(pattern, mask);
    return mask;
  }

  /** The union of the actions the patterns match. */
  resolveAll(patterns: readonly string[]): ActionMask {
    let mask = NO_ACTIONS;
    for (const pattern of patterns) {
      mask |= this.resolve(pattern);
      if (mask === ALL_ACTIONS) break;
    }
    return mask;
  }
}

function matchAll(pattern: CompiledGlob): ActionMask {
  let mask = NO_ACTIONS;
  for (let i = 0; i < QUALIFIED.length; i++) {
    const name = QUALIFIED[i];
    if (name !== undefined && stringLikeMatch(pattern, name)) mask |= 1n << BigInt(i);
  }
  return mask;
}
