/**
 * The key's state before its deletion was scheduled, read from CloudTrail history: the most
 * recent successful DisableKey or EnableKey on the key before the triggering event.
 *
 * CloudTrail event history keeps 90 days of management events. When nothing is found there the
 * key is taken to have been Enabled (the state a new key starts in); when the history cannot be
 * read at all the answer is `unknown` and the caller re-enables and says so (product.md).
 */
import { type CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { describeError } from "./errors.js";
import { isObject, str } from "./model.js";

export interface PriorState {
  state: "enabled" | "disabled" | "unknown";
  detail: string;
}

/** LookupEvents pages to read at most (50 events each): bounds the time spent on a busy key. */
const MAX_PAGES = 5;

type Change = { name: "DisableKey" | "EnableKey"; when: string } | "none" | "too-many" | { error: string };

/**
 * The newest successful DisableKey or EnableKey on the key within a time window, reading at most
 * MAX_PAGES pages of its history (newest first).
 */
async function latestChange(
  cloudTrail: CloudTrailClient,
  keyArn: string,
  window: { StartTime?: Date; EndTime?: Date },
): Promise<Change> {
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await cloudTrail.send(
        new LookupEventsCommand({
          // Only one lookup attribute is allowed; the key ARN is the event's resource name.
          LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: keyArn }],
          ...window,
          MaxResults: 50,
          NextToken: nextToken,
        }),
      );
      for (const event of out.Events ?? []) {
        if (event.EventName !== "DisableKey" && event.EventName !== "EnableKey") continue;
        if (failedCall(event.CloudTrailEvent)) continue;
        return { name: event.EventName, when: event.EventTime?.toISOString() ?? "an unknown time" };
      }
      nextToken = out.NextToken;
      if (!nextToken) return "none";
    }
  } catch (error) {
    return { error: describeError(error) };
  }
  return "too-many";
}

function validDate(text: string | undefined): Date | undefined {
  const date = text ? new Date(text) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

export async function priorKeyState(
  cloudTrail: CloudTrailClient,
  keyArn: string,
  before: string | undefined,
): Promise<PriorState> {
  const change = await latestChange(cloudTrail, keyArn, { EndTime: validDate(before) ?? new Date() });
  if (change === "none") {
    return {
      state: "enabled",
      detail: "no DisableKey or EnableKey in the key's recent CloudTrail history: it was enabled",
    };
  }
  if (change === "too-many") {
    return {
      state: "unknown",
      detail: `no DisableKey or EnableKey in the newest ${MAX_PAGES * 50} history events; re-enabled by default`,
    };
  }
  if ("error" in change) {
    return {
      state: "unknown",
      detail: `CloudTrail history could not be read (${change.error}); re-enabled by default`,
    };
  }
  return change.name === "DisableKey"
    ? {
        state: "disabled",
        detail: `the key was disabled before the deletion was scheduled (DisableKey at ${change.when})`,
      }
    : {
        state: "enabled",
        detail: `the key was enabled before the deletion was scheduled (EnableKey at ${change.when})`,
      };
}

/**
 * Whether someone disabled the key after the deletion was scheduled: a later duplicate delivery
 * or retry must not re-enable a key an administrator disabled on purpose in the meantime
 * (CancelKeyDeletion leaves no DisableKey record, so a DisableKey here is a person's decision).
 * Undefined when there is none, or the history cannot tell.
 */
export async function disabledSince(
  cloudTrail: CloudTrailClient,
  keyArn: string,
  since: string | undefined,
): Promise<string | undefined> {
  const start = validDate(since);
  if (!start) return undefined;
  const change = await latestChange(cloudTrail, keyArn, { StartTime: start, EndTime: new Date() });
  if (typeof change === "object" && "name" in change && change.name === "DisableKey") {
    return `the key was disabled after the deletion was scheduled (DisableKey at ${change.when})`;
  }
  return undefined;
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
