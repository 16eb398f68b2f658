/**
 * The key's recent DisableKey/EnableKey history, read from CloudTrail: its state before the
 * triggering event (the restore after a cancelled deletion re-enables a key only if it was enabled
 * before), and a DisableKey made after the event (a retry or late duplicate must respect a person's
 * decision made since). One pass over the key's history, newest first, answers both.
 *
 * CloudTrail event history keeps 90 days of management events. When nothing is found there the
 * key is taken to have been Enabled (the state a new key starts in); when the history cannot be
 * read at all the answer is `unknown` and the decider re-enables and says so: a key left disabled
 * by mistake breaks its users, while one wrongly re-enabled is only what it was before the attack.
 */
import {
  CloudTrailClient,
  type Event as CloudTrailEvent,
  LookupEventsCommand,
} from "@aws-sdk/client-cloudtrail";
import { parseKeyArn } from "./arn.js";
import { cloudTrail } from "./clients/cloudtrail.js";
import { RETRY } from "./clients/retry.js";
import type { PriorState } from "./decision.js";
import { describeError } from "./errors.js";
import type { HistoryReader, KeyHistory, MemberCredentials } from "./history-reader.js";
import { isObject, str } from "./json.js";

/** LookupEvents pages to read at most (50 events each): bounds the time spent on a busy key. */
const MAX_PAGES = 5;

function validDate(text: string | undefined): Date | undefined {
  const date = text ? new Date(text) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

function failedCall(raw: string | undefined): boolean {
  if (!raw) return false;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) && str(parsed.errorCode) !== undefined;
  } catch {
    // An unreadable history entry is treated like a successful call: its event name still counts.
    return false;
  }
}

const ENABLED_NO_HISTORY: PriorState = {
  state: "enabled",
  detail: "no DisableKey or EnableKey in the key's recent CloudTrail history: it was enabled",
};

/**
 * Reads the key's history newest first. The newest DisableKey/EnableKey at or before `before` is
 * the prior state; a DisableKey after it (newer than any EnableKey after it) is `disabledSince`.
 */
export async function readKeyHistory(
  client: CloudTrailClient,
  keyArn: string,
  before: string | undefined,
): Promise<KeyHistory> {
  const scan: HistoryScan = {
    cutoff: validDate(before) ?? new Date(),
    since: undefined,
    newestAfterSeen: false,
  };
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await client.send(
        new LookupEventsCommand({
          // Only one lookup attribute is allowed; the key ARN is the event's resource name.
          LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: keyArn }],
          MaxResults: 50,
          NextToken: nextToken,
        }),
      );
      for (const event of out.Events ?? []) {
        const prior = visitHistoryEvent(event, scan);
        if (prior) return withSince(prior, scan.since);
      }
      nextToken = out.NextToken;
      if (!nextToken) return withSince(ENABLED_NO_HISTORY, scan.since);
    }
  } catch (error) {
    // A DisableKey already seen after the event still counts: a person's decision made since.
    const prior: PriorState = {
      state: "unknown",
      detail: `CloudTrail history could not be read (${describeError(error)}); re-enabled by default`,
    };
    return withSince(prior, scan.since);
  }
  const prior: PriorState = {
    state: "unknown",
    detail: `no DisableKey or EnableKey in the newest ${MAX_PAGES * 50} history events; re-enabled by default`,
  };
  return withSince(prior, scan.since);
}

/** Where a newest-first walk of the key's history stands. */
interface HistoryScan {
  cutoff: Date;
  /** A DisableKey after the event that no newer EnableKey undid. */
  since: string | undefined;
  newestAfterSeen: boolean;
}

/** The prior state one history event proves, or undefined to read on (and `scan` updated). */
function visitHistoryEvent(event: CloudTrailEvent, scan: HistoryScan): PriorState | undefined {
  if (event.EventName !== "DisableKey" && event.EventName !== "EnableKey") return undefined;
  if (failedCall(event.CloudTrailEvent)) return undefined;
  const when = event.EventTime;
  const at = when?.toISOString() ?? "an unknown time";
  if (when && when.getTime() > scan.cutoff.getTime()) {
    // Only the newest change after the event tells the key's present intent.
    if (!scan.newestAfterSeen && event.EventName === "DisableKey") {
      scan.since = `the key was disabled after the event (DisableKey at ${at})`;
    }
    scan.newestAfterSeen = true;
    return undefined;
  }
  return event.EventName === "DisableKey"
    ? { state: "disabled", detail: `the key was disabled before the event (DisableKey at ${at})` }
    : { state: "enabled", detail: `the key was enabled before the event (EnableKey at ${at})` };
}

function withSince(prior: PriorState, since: string | undefined): KeyHistory {
  return since ? { prior, disabledSince: since } : { prior };
}

/**
 * The history reader of the incidents that restore a key after a cancelled deletion. The given
 * client serves keys of its own Region; a key elsewhere (another Region, or another account through
 * the member role's credentials) is read with a client of its own account and Region.
 */
export function cloudTrailReader(client: CloudTrailClient = cloudTrail): HistoryReader {
  const others = new Map<string, CloudTrailClient>();
  return {
    async read(keyArn, before, credentials?: MemberCredentials) {
      const key = parseKeyArn(keyArn);
      let own: string | undefined;
      try {
        own = await client.config.region();
      } catch {
        // No Region configured (tests): the given client serves every key.
        own = undefined;
      }
      if (!key || (!credentials && (own === undefined || key.region === own))) {
        return readKeyHistory(client, keyArn, before);
      }
      const cacheKey = `${credentials?.accessKeyId ?? "own"}/${key.region}`;
      let other = others.get(cacheKey);
      if (!other) {
        other = new CloudTrailClient({ ...RETRY, region: key.region, ...(credentials && { credentials }) });
        others.set(cacheKey, other);
      }
      return readKeyHistory(other, keyArn, before);
    },
  };
}
