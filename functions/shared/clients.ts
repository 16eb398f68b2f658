/**
 * One SDK client per service at module scope, shared by every invocation of a warm function.
 * aws-sdk-client-mock intercepts them in tests. The SDK's standard retry strategy retries
 * ThrottlingException, DependencyTimeoutException and KMSInternalException with backoff
 * (kms-facts.md); `AWS_ENDPOINT_URL` points them at a local emulator.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import { parseKeyArn } from "./model.js";

const retry = { maxAttempts: 6, retryMode: "standard" } as const;

export const kms = new KMSClient(retry);
export const sns = new SNSClient(retry);
// LookupEvents allows 2 requests/s: the same retry budget as KMS keeps a burst of deletions from
// falling back to "history unreadable" (test/reliability/burst.test.ts).
export const cloudTrail = new CloudTrailClient(retry);

export interface Clients {
  kms: KMSClient;
  sns: SNSClient;
  cloudTrail: CloudTrailClient;
}

export const clients: Clients = { kms, sns, cloudTrail };

const regional = new Map<string, KMSClient>();

/**
 * The KMS client for a key: KMS is regional, and a key ARN of another Region (a multi-Region
 * replica shares its primary's `mrk-` id) must be called in that Region, or the call would reach
 * the wrong key or none. The given client serves keys of its own Region and references without
 * a Region (ids, aliases); other Regions get a cached client of their own.
 */
export async function kmsForKey(client: KMSClient, keyRef: string): Promise<KMSClient> {
  const region = parseKeyArn(keyRef)?.region;
  if (!region) return client;
  let own: string | undefined;
  try {
    own = await client.config.region();
  } catch {
    // A client without a configured Region (tests, odd environments): use the key's Region.
    own = undefined;
  }
  if (region === own) return client;
  let other = regional.get(region);
  if (!other) {
    other = new KMSClient({ ...retry, region });
    regional.set(region, other);
  }
  return other;
}
