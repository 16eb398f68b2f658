/**
 * The KMS client, one per Region at module scope (one module per AWS client, so a function's
 * bundle holds only the clients it uses). aws-sdk-client-mock intercepts them in tests;
 * `AWS_ENDPOINT_URL` points them at a local emulator.
 */
import { parseKeyArn } from "../arn.js";
import { KMSClient } from "./kms-sdk.js";
import { RETRY } from "./retry.js";

export const kms = new KMSClient(RETRY);

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
    other = new KMSClient({ ...RETRY, region });
    regional.set(region, other);
  }
  return other;
}
