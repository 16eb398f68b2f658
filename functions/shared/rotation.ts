/**
 * The rotation period a key had, from what was read: GetKeyRotationStatus while rotation is on,
 * else the newest earlier EnableKeyRotation in the key's history (one without a period set the
 * API's default, 365 days). Shared by the incidents that turn rotation back on.
 */
import type { KeyFacts } from "./decision.js";

/** EnableKeyRotation without `RotationPeriodInDays` sets this period. */
export const DEFAULT_ROTATION_DAYS = 365;

/** The period set by the newest earlier EnableKeyRotation, or undefined when none was seen. */
export function periodFromHistory(facts: KeyFacts, skip?: string): number | undefined {
  // From the newest: a key's history can hold thousands of calls.
  const last = (facts.earlier ?? []).findLast(
    (e) => e.eventName === "EnableKeyRotation" && (skip === undefined || e.eventId !== skip),
  );
  if (!last) return undefined;
  return last.detail.kind === "rotation"
    ? (last.detail.rotationPeriodInDays ?? DEFAULT_ROTATION_DAYS)
    : undefined;
}
