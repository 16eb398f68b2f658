/** exemption-tampered: TagResource (exempt tag) / UntagResource (protected tag) -> undo it (critical). */
import { retagProtected, untagExempt } from "../shared/actions/tag-undo.js";
import type { DetailInput, EventDetail } from "../shared/event.js";
import type { Incident } from "../shared/incident.js";
import { isObject, str } from "../shared/json.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

const EVENT_NAMES = ["TagResource", "UntagResource"] as const;

/** `tags: [{tagKey, tagValue}]` (TagResource) and `tagKeys: [...]` (UntagResource), read defensively. */
export function parseTagging({ request }: DetailInput): EventDetail {
  const set: Record<string, string> = {};
  if (Array.isArray(request.tags)) {
    for (const t of request.tags) {
      const key = isObject(t) ? str(t.tagKey) : undefined;
      // A tag value may be empty: keep it as "".
      if (key && isObject(t)) set[key] = typeof t.tagValue === "string" ? t.tagValue : "";
    }
  }
  const removed = Array.isArray(request.tagKeys)
    ? request.tagKeys.filter((k): k is string => typeof k === "string" && k !== "")
    : [];
  return { kind: "tagging", set, removed };
}

export const exemptionTampered = {
  name: INCIDENT,
  securityHubType: "TTPs/Defense Evasion/KMS Responder Exemption Tampered",
  summary:
    "TagResource setting the exempt tag or UntagResource removing the protected tag by an unapproved caller: undo it (critical)",
  eventNames: EVENT_NAMES,
  matches: () => true,
  pattern: (own) => successfulCall(EVENT_NAMES, own),
  decide,
  executors: [untagExempt, retagProtected],
  plans: () => ["untag-exempt", "retag-protected"],
  reads: () => ["key", "tags"],
  details: [{ eventNames: EVENT_NAMES, parse: parseTagging }],
} as const satisfies Incident<typeof INCIDENT>;
