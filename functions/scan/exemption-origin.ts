/**
 * Who set a key's exempt tag, from the key's CloudTrail history: the newest successful TagResource
 * (or CreateKey with tags) that set the tag, read with LookupEvents by the key ARN as resource name,
 * newest first, a few pages at most. The sweep asks only for exempt-tagged keys with a finding: the
 * exemption then counts only when an approved principal set it (judge.ts).
 *
 * CloudTrail's event history keeps 90 days of management events: a tag set before, or a history
 * that names the tag's removal before any setting of it (the setting is older than what was
 * read), answers undefined, and the exemption's origin stays unknown. A read that fails throws; the
 * caller treats that as unknown too. Loaded on demand (the sweep's cold start carries no CloudTrail).
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { type KmsEvent, normalise } from "../shared/event.js";
import type { MemberCredentials } from "../shared/history-reader.js";
import { isObject } from "../shared/json.js";

/** LookupEvents pages to read at most (50 events each): LookupEvents allows 2 calls a second. */
const MAX_PAGES = 4;

/** The tag keys a record's `requestParameters.tags` sets (TagResource and CreateKey write `tagKey`). */
function tagKeysSet(request: unknown): string[] {
  const tags = isObject(request) ? request.tags : undefined;
  if (!Array.isArray(tags)) return [];
  return tags.flatMap((t) => (isObject(t) && typeof t.tagKey === "string" ? [t.tagKey] : []));
}

function tagKeysRemoved(request: unknown): string[] {
  const keys = isObject(request) ? request.tagKeys : undefined;
  return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : [];
}

type Found = { event: KmsEvent } | { removed: true } | undefined;

/** What one history entry says about the tag: set (by whom), removed, or nothing. */
function entryOf(raw: string | undefined, tagKey: string): Found {
  let record: unknown;
  try {
    record = JSON.parse(raw ?? "");
  } catch {
    // An unreadable history entry tells nothing: skipped.
    return undefined;
  }
  if (!isObject(record) || record.errorCode !== undefined) return undefined;
  const name = record.eventName;
  if (name === "UntagResource" && tagKeysRemoved(record.requestParameters).includes(tagKey))
    return { removed: true };
  if (
    (name === "TagResource" || name === "CreateKey") &&
    tagKeysSet(record.requestParameters).includes(tagKey)
  ) {
    const event = normalise(record);
    return event ? { event } : undefined;
  }
  return undefined;
}

/** The call that set `tagKey` on the key, as its history tells it; undefined when it does not. */
export async function tagSetter(
  client: CloudTrailClient,
  keyArn: string,
  tagKey: string,
): Promise<KmsEvent | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await client.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: keyArn }],
        MaxResults: 50,
        NextToken: nextToken,
      }),
    );
    for (const entry of out.Events ?? []) {
      if (
        entry.EventName !== "TagResource" &&
        entry.EventName !== "CreateKey" &&
        entry.EventName !== "UntagResource"
      )
        continue;
      const found = entryOf(entry.CloudTrailEvent, tagKey);
      if (found && "removed" in found) return undefined;
      if (found) return found.event;
    }
    nextToken = out.NextToken;
    if (!nextToken) break;
  }
  return undefined;
}

/** The reader of one account and Region (a member account's through the member role's credentials). */
export function tagSetterReader(
  region: string,
  credentials?: MemberCredentials,
): (keyArn: string, tagKey: string) => Promise<KmsEvent | undefined> {
  const client = new CloudTrailClient({
    maxAttempts: 6,
    retryMode: "adaptive",
    region,
    ...(credentials && { credentials }),
  });
  return (keyArn, tagKey) => tagSetter(client, keyArn, tagKey);
}
