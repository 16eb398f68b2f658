/**
 * The budget of one account and Region: every call a sweep makes there takes a turn from it. KMS
 * counts request quotas per account, Region and operation, and the account's own workloads use
 * them too: the sweep spends at most a share (half by default) of each read operation's default
 * quota, so it cannot starve them. The SDK's adaptive retry mode slows it down further when KMS
 * throttles anyway (a quota lowered, or the workloads busy).
 */

/**
 * Default request quotas (requests per second, per account and Region) of the reads a sweep
 * makes, from the AWS KMS Developer Guide's "Request quotas" table (2026; docs/scan.md has the
 * table and what each figure was before). Each operation has a quota of its own: none of these
 * reads shares one with another operation (only the cryptographic operations share quotas). Each
 * is shared by every caller in the account and Region: its workloads, AWS services on its behalf,
 * the responders. All are adjustable: a larger account's may be higher.
 */
export const READ_QUOTAS = {
  ListKeys: 500,
  ListAliases: 500,
  ListGrants: 100,
  DescribeKey: 2000,
  ListResourceTags: 2000,
  GetKeyPolicy: 1000,
  GetKeyRotationStatus: 1000,
} as const;
export type ReadOperation = keyof typeof READ_QUOTAS;

/** The share of each quota a sweep spends by default. */
export const DEFAULT_SHARE = 0.5;

export interface Budget {
  /** Resolves when the next `operation` request may be sent. */
  take(operation: ReadOperation): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Spaces each operation's requests evenly at `share` of its quota (no burst beyond one request).
 * `clock` and `wait` are for tests.
 */
export function requestBudget(
  share: number = DEFAULT_SHARE,
  clock: () => number = Date.now,
  wait: (ms: number) => Promise<void> = sleep,
): Budget {
  if (!(share > 0 && share <= 1))
    throw new RangeError(`the share of a quota must be in (0, 1] (got ${share})`);
  const next = new Map<ReadOperation, number>();
  return {
    async take(operation) {
      const gap = 1000 / (READ_QUOTAS[operation] * share);
      const now = clock();
      const at = Math.max(now, next.get(operation) ?? 0);
      next.set(operation, at + gap);
      if (at > now) await wait(at - now);
    },
  };
}

/** No limit: for emulators and benchmarks that measure the sweep itself. */
export const UNLIMITED: Budget = { take: () => Promise.resolve() };

/**
 * The most keys per second one account and Region allows a sweep at `share` of the quotas: each
 * key costs one call of each per-key operation (a page of grants and of tags), so the operation
 * with the lowest quota bounds it (ListGrants).
 */
export function keysPerSecondBound(operations: readonly ReadOperation[], share = 1): number {
  return Math.min(...operations.map((o) => READ_QUOTAS[o])) * share;
}

/** What a sweep calls once per key (the listings are once per account and Region). */
export const PER_KEY_OPERATIONS: readonly ReadOperation[] = [
  "DescribeKey",
  "ListResourceTags",
  "ListGrants",
  "GetKeyPolicy",
  "GetKeyRotationStatus",
];
