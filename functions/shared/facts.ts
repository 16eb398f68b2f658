/**
 * What a handler learns about the key before deciding: its tags (exempt / protected) and, when
 * the record named the key only by alias, its ARN. One ListResourceTags call on the common path
 * (a DescribeKey only for aliases), so remediation starts after at most one read.
 */
import { DescribeKeyCommand, type KMSClient, ListResourceTagsCommand } from "@aws-sdk/client-kms";
import { kmsForKey } from "./clients.js";
import type { KeyFacts } from "./decision.js";
import { describeError } from "./errors.js";
import type { KmsApiCall } from "./model.js";
import { parseKeyArn } from "./model.js";

/**
 * Resolves an alias-only record to the key's ARN (DescribeKey accepts aliases). Returns the call
 * unchanged when the ARN is known, or when the lookup fails (the failure goes in `lookupError`).
 */
export async function resolveKey(
  kms: KMSClient,
  call: KmsApiCall,
): Promise<{ call: KmsApiCall; error?: string }> {
  if (call.keyArn) return { call };
  const ref = call.keyId ?? call.keyAlias;
  if (!ref) return { call };
  try {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: ref }));
    const arn = out.KeyMetadata?.Arn;
    if (!arn) return { call, error: `DescribeKey ${ref} returned no ARN` };
    return { call: { ...call, keyArn: arn, keyId: parseKeyArn(arn)?.keyId ?? call.keyId } };
  } catch (error) {
    return { call, error: `could not resolve ${ref}: ${describeError(error)}` };
  }
}

/**
 * Reads the key's tags. A failed read does not stop the response: the key is then treated as
 * neither exempt nor protected (missing an attack is worse than acting on an exempt key), and the
 * notification says the tags could not be read.
 */
export async function keyFacts(kms: KMSClient, keyRef: string): Promise<KeyFacts> {
  try {
    const client = await kmsForKey(kms, keyRef);
    const tags: Record<string, string> = {};
    let marker: string | undefined;
    do {
      const out = await client.send(new ListResourceTagsCommand({ KeyId: keyRef, Marker: marker }));
      for (const t of out.Tags ?? []) if (t.TagKey) tags[t.TagKey] = t.TagValue ?? "";
      marker = out.Truncated ? out.NextMarker : undefined;
    } while (marker);
    return { tags };
  } catch (error) {
    return { lookupError: `key tags could not be read (${describeError(error)}): treated as not exempt` };
  }
}
