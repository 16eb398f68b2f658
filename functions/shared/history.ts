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

export async function priorKeyState(
  cloudTrail: CloudTrailClient,
  keyArn: string,
  before: string | undefined,
): Promise<PriorState> {
  const endTime = before ? new Date(before) : new Date();
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await cloudTrail.send(
        new LookupEventsCommand({
          // Only one lookup attribute is allowed; the key ARN is the event's resource name.
          LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: keyArn }],
          EndTime: Number.isNaN(endTime.getTime()) ? new Date() : endTime,
          MaxResults: 50,
          NextToken: nextToken,
        }),
      );
      // Events come newest first.
      for (const event of out.Events ?? []) {
        if (event.EventName !== "DisableKey" && event.EventName !== "EnableKey") continue;
        if (failedCall(event.CloudTrailEvent)) continue;
        const when = event.EventTime?.toISOString() ?? "an unknown time";
        return event.EventName === "DisableKey"
          ? {
              state: "disabled",
              detail: `the key was disabled before the deletion was scheduled (DisableKey at ${when})`,
            }
          : {
              state: "enabled",
              detail: `the key was enabled before the deletion was scheduled (EnableKey at ${when})`,
            };
      }
      nextToken = out.NextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    return {
      state: "unknown",
      detail: `CloudTrail history could not be read (${describeError(error)}); re-enabled by default`,
    };
  }
  if (nextToken) {
    return {
      state: "unknown",
      detail: `no DisableKey or EnableKey in the newest ${MAX_PAGES * 50} history events; re-enabled by default`,
    };
  }
  return {
    state: "enabled",
    detail: "no DisableKey or EnableKey in the key's recent CloudTrail history: it was enabled",
  };
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
