/**
 * A budget of requests per second for one account and Region, shared by every call a sweep makes
 * there. KMS counts its request quotas per account and Region and the account's own workloads use
 * them too: a sweep that spends a bounded share of the lowest read quota it calls (ListGrants,
 * ListKeys and ListAliases: 100 requests/s by default) cannot starve them. The SDK's adaptive retry
 * mode slows down further when KMS throttles anyway.
 */

export interface Budget {
  /** Resolves when the next request may be sent. */
  take(): Promise<void>;
}

/** Half of the lowest default read quota the sweep calls. */
export const DEFAULT_REQUESTS_PER_SECOND = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Spaces requests evenly at `perSecond` (no burst beyond one request). `clock` and `wait` are
 * for tests.
 */
export function requestBudget(
  perSecond: number,
  clock: () => number = Date.now,
  wait: (ms: number) => Promise<void> = sleep,
): Budget {
  if (!(perSecond > 0)) throw new RangeError(`requests per second must be above 0 (got ${perSecond})`);
  const gap = 1000 / perSecond;
  let next = 0;
  return {
    async take() {
      const now = clock();
      const at = Math.max(now, next);
      next = at + gap;
      if (at > now) await wait(at - now);
    },
  };
}

/** No limit: for emulators and benchmarks that measure the sweep itself. */
export const UNLIMITED: Budget = { take: () => Promise.resolve() };
