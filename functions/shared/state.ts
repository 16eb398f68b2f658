/**
 * A key's current state, as a sweep reads it, and how an incident judges it. Events say what
 * changed; the state says what is: a sweep (the `scan` command, the scheduled scan) reads every
 * customer managed key and asks each incident that declares a `state` judgement what it makes of
 * it, with the incident's own reason codes and helpers. Nothing here knows an incident's rules.
 */
import type { KeyRef } from "./arn.js";
import type { Config } from "./config.js";
import type { Finding, KeyFacts } from "./decision.js";

/** What a judgement needs besides the key itself (DescribeKey, tags and aliases are always read). */
export type StateRead = "grants" | "policy" | "rotation";

/** The IAM actions each state read needs, beside the ones every sweep makes. */
export const STATE_READ_PERMISSIONS: Readonly<Record<StateRead, readonly string[]>> = {
  grants: ["kms:ListGrants"],
  policy: ["kms:GetKeyPolicy"],
  rotation: ["kms:GetKeyRotationStatus"],
};

/** What every sweep reads: the keys, their metadata, tags and aliases. */
export const SWEEP_PERMISSIONS = [
  "kms:ListKeys",
  "kms:ListAliases",
  "kms:DescribeKey",
  "kms:ListResourceTags",
] as const;

/** A grant as ListGrants lists it now, with its id (what a revoke names). */
export interface ListedGrant {
  grantId: string | undefined;
  grantee: string | undefined;
  retiringPrincipal: string | undefined;
  operations: string[];
  constrained: boolean;
  name: string | undefined;
}

/** DescribeKey's metadata, the fields the judgements read. */
export interface KeyMetadataState {
  keyState: string | undefined;
  /** `AWS` or `CUSTOMER`. */
  keyManager: string | undefined;
  keySpec: string | undefined;
  /** `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`. */
  origin: string | undefined;
  deletionDate: Date | undefined;
  /** Imported material only: when it expires (with `KEY_MATERIAL_EXPIRES`). */
  validTo: Date | undefined;
  expirationModel: string | undefined;
  multiRegion: boolean;
}

export interface KeyState {
  key: KeyRef;
  metadata: KeyMetadataState;
  /** Every alias that names the key (ListAliases). */
  aliases: readonly string[];
  tags: Readonly<Record<string, string>>;
  /** Every grant, every page; undefined when not read. */
  grants?: readonly ListedGrant[];
  /** The key policy (`default`); undefined when not read. */
  policy?: string;
  /** GetKeyRotationStatus; undefined when not read (or the key cannot rotate). */
  rotation?: { enabled: boolean; periodDays: number | undefined };
  /** Reads that failed, by read name (`grants`, `policy`, `rotation`, `tags`), with the error. */
  readErrors?: Readonly<Record<string, string>>;
  /** The organisation the key's account belongs to, when known. */
  organizationId?: string;
}

/**
 * How an incident judges a key's state: the reads it needs and a pure judgement returning at most
 * one finding per key (the finding's `event` is undefined: no event, the state is the evidence).
 */
export interface StateJudgement {
  reads: readonly StateRead[];
  judge(state: KeyState, config: Config, now: Date): Finding | undefined;
}

/**
 * The facts the shared holds read (exempt and ignored keys, AWS managed keys, mode), from the state.
 * A sweep acts, when enforcement is opted in, in the key's own account and Region.
 */
export function stateFacts(state: KeyState): KeyFacts {
  const errors = state.readErrors ?? {};
  return {
    tags: state.tags,
    ...(state.metadata.keyManager !== undefined && { keyManager: state.metadata.keyManager }),
    ...(state.metadata.keyState !== undefined && { keyState: state.metadata.keyState }),
    ...(state.policy !== undefined && { policy: state.policy }),
    ...(state.rotation !== undefined && { rotationEnabled: state.rotation.enabled }),
    ...(state.organizationId !== undefined && { organizationId: state.organizationId }),
    ...(Object.keys(errors).length > 0 && { readErrors: errors }),
    responder: { region: state.key.region, account: state.key.account },
  };
}

/** The key as a finding names it: with its first alias, when it has one. */
export function namedKey(state: KeyState): KeyRef {
  const alias = state.aliases[0];
  return alias ? { ...state.key, alias } : state.key;
}
