/**
 * key-rotation-weakened's config options, under `incidents.key-rotation-weakened` (its own options,
 * not a global block: the config keeps each incident's settings with its mode).
 */
import * as v from "valibot";

export const OPTIONS = {
  /** The longest rotation period (days) an unapproved caller may set; KMS allows 90 to 2560. */
  maxPeriodDays: v.optional(
    v.pipe(v.number(), v.integer("must be a whole number of days"), v.minValue(90), v.maxValue(2560)),
    365,
  ),
  /** Principal patterns (as approvedDeletionPrincipals) that may set any period. */
  approvedPrincipals: v.optional(v.array(v.pipe(v.string(), v.minLength(1, "must not be empty"))), () => []),
};
