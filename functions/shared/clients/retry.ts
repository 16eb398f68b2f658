/**
 * The SDK's standard retry strategy retries ThrottlingException, DependencyTimeoutException and
 * KMSInternalException with backoff: KMS answers these under load and a retry succeeds. Six attempts: sized by the burst simulation
 * (bench/burst-sizing.sim.ts).
 */
export const RETRY = { maxAttempts: 6, retryMode: "standard" } as const;
