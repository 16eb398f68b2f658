/**
 * A key's earlier calls of some event names, read from its CloudTrail history (LookupEvents by the
 * key ARN as resource name) and normalised like any event: what a decision about one call needs to
 * know about the calls before it (the import whose material an on-demand rotation made current,
 * the period rotation had before it was switched off, the ScheduleKeyDeletion a DeleteKey ends).
 * Offline, triage hands the deciders the records it read before instead (same field, same shape).
 *
 * CloudTrail event history keeps 90 days of management events; older calls are not seen. Failed
 * calls are left out. A read that fails throws: the fact reader records it in `readErrors`.
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { parseKeyArn } from "./arn.js";
import { cloudTrail } from "./clients/cloudtrail.js";
import { RETRY } from "./clients/retry.js";
import { type DetailParser, type KmsEvent, normalise } from "./event.js";
import type { MemberCredentials } from "./history-reader.js";

/** LookupEvents pages to read at most (50 events each): bounds the time spent on a busy key. */
const MAX_PAGES = 4;

export interface EarlierRequest {
  names: readonly string[];
  /** The event's time: calls after it are not "earlier". */
  before: string | undefined;
  parsers: readonly DetailParser[];
  credentials?: MemberCredentials;
}

const others = new Map<string, CloudTrailClient>();

/** The client for the key's account and Region (the module's own client serves its own Region). */
async function clientFor(
  keyArn: string,
  credentials: MemberCredentials | undefined,
): Promise<CloudTrailClient> {
  const key = parseKeyArn(keyArn);
  let own: string | undefined;
  try {
    own = await cloudTrail.config.region();
  } catch {
    // No Region configured (tests): the module's client serves every key.
    own = undefined;
  }
  if (!key || (!credentials && (own === undefined || key.region === own))) return cloudTrail;
  const cacheKey = `${credentials?.accessKeyId ?? "own"}/${key.region}`;
  let other = others.get(cacheKey);
  if (!other) {
    other = new CloudTrailClient({ ...RETRY, region: key.region, ...(credentials && { credentials }) });
    others.set(cacheKey, other);
  }
  return other;
}

function parsed(raw: string | undefined, parsers: readonly DetailParser[]): KmsEvent | undefined {
  if (!raw) return undefined;
  try {
    return normalise(JSON.parse(raw), parsers);
  } catch {
    // An unreadable history entry tells nothing: skipped.
    return undefined;
  }
}

/** The key's successful calls of `names` before `before`, oldest first. */
export async function earlierCalls(keyArn: string, request: EarlierRequest): Promise<KmsEvent[]> {
  const client = await clientFor(keyArn, request.credentials);
  const cutoff = request.before ? Date.parse(request.before) : Number.NaN;
  const found: KmsEvent[] = [];
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
      if (!entry.EventName || !request.names.includes(entry.EventName)) continue;
      // Strictly before: the triggering call itself is in the history too.
      if (!Number.isNaN(cutoff) && entry.EventTime && entry.EventTime.getTime() >= cutoff) continue;
      const event = parsed(entry.CloudTrailEvent, request.parsers);
      if (event && event.errorCode === undefined) found.push(event);
    }
    nextToken = out.NextToken;
    if (!nextToken) break;
  }
  // LookupEvents answers newest first.
  return found.reverse();
}
