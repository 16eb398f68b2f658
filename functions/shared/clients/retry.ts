/**
 * The SDK's standard retry strategy retries ThrottlingException, DependencyTimeoutException and
 * KMSInternalException with backoff (kms-facts.md). Six attempts: sized by the burst simulation
 * (test/reliability/burst.test.ts).
 */
export const RETRY = { maxAttempts: 6, retryMode: "standard" } as const;
