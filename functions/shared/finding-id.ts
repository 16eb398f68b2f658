/**
 * A finding's stable id in Security Hub, apart from the ASFF mapping (securityhub.ts): the sweep
 * needs the ids at every run to tell which findings are gone, while the mapping loads only when a
 * function imports into Security Hub.
 */
import { createHash } from "node:crypto";
import { type Finding, type HoldCode, NEGATIVE_VERDICTS } from "./decision.js";
import type { KmsEvent } from "./event.js";
import type { ManualRequest } from "./notify.js";

/** The prefix of every finding id, generator id and product field key. */
export const PRODUCT = "kms-responder";

/** ASFF's limit on a finding's `Id`. */
export const ID_LIMIT = 512;

/** The text cut to `max` characters, marked `...` when cut. */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`;
}

/**
 * Verdicts and holds that say the decision was not backed by the current state: the read showed
 * nothing to fix (or not what the event claims), or the delivery itself is doubtful, or a read
 * failed. Such an import goes to its own id (`.../unconfirmed`), never to the finding a backed
 * decision about the same record made.
 */
const UNBACKED_VERDICTS: readonly string[] = [...NEGATIVE_VERDICTS, "grant-differs"];
const UNBACKED_HOLDS: readonly HoldCode[] = ["unverified", "replayed", "stale-event", "inconsistent-record"];

/** Whether the finding's decision was not backed by the current state (see UNBACKED_VERDICTS). */
export function unbacked(finding: Finding): boolean {
  return (
    (finding.verdicts ?? []).some((v) => UNBACKED_VERDICTS.includes(v)) ||
    finding.actions.some((a) => a.hold !== undefined && UNBACKED_HOLDS.includes(a.hold.code))
  );
}

/** A short digest of the whole normalised record: only the very same record gives the same id. */
function recordDigest(event: KmsEvent): string {
  return createHash("sha256").update(JSON.stringify(event)).digest("hex").slice(0, 16);
}

/**
 * The finding's stable id. For an event: the event's id and a digest of the whole record, so a
 * duplicate delivery or a retry updates the finding, and an event sent straight to a function that
 * reuses a real event's id but says anything else lands on another id (it cannot overwrite the
 * real finding). A decision not backed by the current state (`unbacked`) adds `/unconfirmed`: it
 * never updates the finding of a backed decision about the same record.
 * A runbook request (no event) is identified by what was asked (its first reason,
 * `manual-<action>`), on which key, and when.
 */
export function findingId(finding: Finding, request?: ManualRequest): string {
  const event = finding.event;
  if (event?.eventId) {
    const id = `${PRODUCT}/${finding.incident}/${cut(event.eventId, 128)}/${recordDigest(event)}`;
    return unbacked(finding) ? `${id}/unconfirmed` : id;
  }
  const what = finding.reasons[0] ?? finding.actions[0]?.type ?? "finding";
  const key = finding.key?.arn ?? finding.actions[0]?.keyRef ?? event?.keyHint ?? "unknown-key";
  const when = request?.at ?? event?.eventTime ?? "undated";
  return cut(`${PRODUCT}/${finding.incident}/${what}/${key}/${when}`, ID_LIMIT);
}
