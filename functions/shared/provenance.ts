/**
 * Where an event came from and when, judged before acting: an EventBridge archive replay, an event
 * older than the config allows, or a record whose accounts disagree in a way no real CloudTrail
 * record does is held (reported, not acted on). Replays and age are properties of the delivery,
 * not of the call, so the offline triage and preview (which read archives by design) do not apply
 * them; a record whose accounts disagree is doubtful wherever it is read, so they hold it too.
 */
import type { Config } from "./config.js";
import type { Finding, PlannedAction } from "./decision.js";
import type { KmsEvent } from "./event.js";
import { isObject } from "./json.js";

type Hold = NonNullable<PlannedAction["hold"]>;

/**
 * Administrative calls KMS accepts only from the key's own account: a record of one whose caller
 * is in another account than the key was not written by CloudTrail.
 */
const SAME_ACCOUNT_ONLY: ReadonlySet<string> = new Set([
  "ScheduleKeyDeletion",
  "CancelKeyDeletion",
  "PutKeyPolicy",
  "DisableKey",
  "EnableKey",
  "DisableKeyRotation",
  "EnableKeyRotation",
  "ImportKeyMaterial",
  "DeleteImportedKeyMaterial",
  "UpdateAlias",
  "DeleteAlias",
]);

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** The EventBridge envelope around a record (undefined for a raw CloudTrail record). */
function envelopeOf(raw: unknown): Record<string, unknown> | undefined {
  return isObject(raw) && isObject(raw.detail) && ("detail-type" in raw || "source" in raw) ? raw : undefined;
}

function recordOf(raw: unknown): Record<string, unknown> | undefined {
  const envelope = envelopeOf(raw);
  if (envelope) return isObject(envelope.detail) ? envelope.detail : undefined;
  return isObject(raw) ? raw : undefined;
}

/** Why the accounts of a record disagree, or undefined when they could be real. */
export function accountMismatch(raw: unknown, event: KmsEvent): string | undefined {
  const recipient = text(recordOf(raw)?.recipientAccountId);
  const sender = text(envelopeOf(raw)?.account);
  const keyAccount = event.key?.account;
  const caller = event.actor.accountId;
  if (sender !== undefined && recipient !== undefined && sender !== recipient) {
    return `the event was sent by account ${sender} but the record says it was delivered to ${recipient}`;
  }
  if (recipient !== undefined && keyAccount !== undefined && caller !== undefined) {
    // CloudTrail delivers a call to the caller's account and to the key owner's: no other.
    if (recipient !== keyAccount && recipient !== caller) {
      return `the record was delivered to ${recipient}, neither the key's account (${keyAccount}) nor the caller's (${caller})`;
    }
  }
  if (keyAccount !== undefined && caller !== undefined && keyAccount !== caller) {
    if (
      event.eventName !== undefined &&
      SAME_ACCOUNT_ONLY.has(event.eventName) &&
      event.actor.type !== "AWSService"
    ) {
      return `${event.eventName} by account ${caller} on a key of account ${keyAccount}: KMS allows it only in the key's account`;
    }
  }
  return undefined;
}

/** The hold of a record whose accounts disagree, or undefined when they could be real. */
export function inconsistentRecordHold(raw: unknown, event: KmsEvent): Hold | undefined {
  const mismatch = accountMismatch(raw, event);
  return mismatch === undefined
    ? undefined
    : { status: "skipped", code: "inconsistent-record", why: `${mismatch}: not acting on it` };
}

/** The finding with every action held, and the reason said, when the record itself is doubtful. */
export function heldFinding(finding: Finding, hold: Hold | undefined): Finding {
  if (!hold) return finding;
  return {
    ...finding,
    details: [...finding.details, `Not acted on: ${hold.why}`],
    verdicts: [...(finding.verdicts ?? []), hold.code],
    actions: finding.actions.map((a) => ({ ...a, hold })),
  };
}

/** How old the event is, in minutes, by its envelope's time (else the record's); undefined when unknown. */
function ageMinutes(raw: unknown, event: KmsEvent, now: number): number | undefined {
  const time = text(envelopeOf(raw)?.time) ?? event.eventTime;
  const at = time === undefined ? Number.NaN : Date.parse(time);
  return Number.isNaN(at) ? undefined : (now - at) / 60_000;
}

/**
 * The hold that applies to every action of a delivered event, or undefined. A replay (EventBridge
 * sets `replay-name` on events replayed from an archive) and an event older than
 * `maxEventAgeMinutes` are held unless the config allows them: the state they describe may have
 * been fixed since. Inconsistent records are always held.
 */
export function deliveryHold(
  raw: unknown,
  event: KmsEvent,
  config: Config,
  now = Date.now(),
): Hold | undefined {
  const inconsistent = inconsistentRecordHold(raw, event);
  if (inconsistent) return inconsistent;
  const replay = text(envelopeOf(raw)?.["replay-name"]);
  if (replay !== undefined && !config.actOnReplays) {
    return {
      status: "skipped",
      code: "replayed",
      why: `replayed from an EventBridge archive (${replay}): not acting on it (actOnReplays is off)`,
    };
  }
  const age = ageMinutes(raw, event, now);
  const limit = config.maxEventAgeMinutes;
  if (limit > 0 && age !== undefined && age > limit) {
    return {
      status: "skipped",
      code: "stale-event",
      why: `the event is ${Math.floor(age)} minutes old, older than maxEventAgeMinutes (${limit}): not acting on it`,
    };
  }
  return undefined;
}
