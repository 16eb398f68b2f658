/**
 * key-material-expiring: ImportKeyMaterial with `expirationModel: KEY_MATERIAL_EXPIRES`. On the
 * expiry date KMS deletes the material and the key stops working (every Decrypt fails) until the
 * same material is imported again. Notify with the date: high within 30 days, else medium.
 */
import type { Config } from "../shared/config.js";
import { type Decision, ignore, type KeyFacts, precheck } from "../shared/decision.js";
import type { ImportDetail, KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-material-expiring";

/** Within this many days of the import (or of now, when later), the expiry is urgent. */
export const URGENT_DAYS = 30;

/**
 * Whether the imported material expires: `KEY_MATERIAL_EXPIRES`, or a `validTo` with no
 * `expirationModel` (the API's default model is KEY_MATERIAL_EXPIRES).
 */
export function expires(detail: ImportDetail): boolean {
  return (
    detail.expirationModel === "KEY_MATERIAL_EXPIRES" ||
    (detail.expirationModel === undefined && detail.validTo !== undefined)
  );
}

export function decide(event: KmsEvent, config: Config, _facts: KeyFacts = {}, now = new Date()): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const d = event.detail;
  if (d.kind !== "import" || !expires(d)) {
    return ignore("no-incident", "the imported key material does not expire", INCIDENT);
  }
  // Days left from when the responder looks (the event time offline, so triage of old logs judges
  // each import as it was then).
  const from = event.eventTime ? new Date(event.eventTime) : now;
  const start = Number.isNaN(from.getTime()) ? now : from;
  const days = d.validTo ? Math.floor((d.validTo.getTime() - start.getTime()) / 86_400_000) : undefined;
  const urgent = days === undefined || days <= URGENT_DAYS;
  const when = d.validTo ? d.validTo.toISOString() : "an unreadable date";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: urgent ? "high" : "medium",
    reasons: ["key-material-expires"],
    title: "Imported KMS key material expires",
    summary: `Key material was imported with an expiry: the key stops working on ${when}${days === undefined ? "" : ` (${days} days after the import)`}`,
    details: [
      `Expires: ${when}`,
      "On that date KMS deletes the key material: every cryptographic call with the key fails until the same material is imported again.",
      "To keep the key working, re-import the same key material with a later ValidTo, or with --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE.",
    ],
    actions: [],
    event,
    key: event.key,
  };
}
