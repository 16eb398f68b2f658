/**
 * `incidents.responder-tampered.*`: valibot entries, carried by the declaration (`options`). What
 * is the stack's own (`resourcePrefix`, `deploymentRoleArns`) is top-level config the stack fills in.
 */
import * as v from "valibot";

export const OPTIONS = {
  /** The trails the responder depends on, by name or ARN; none listed: every trail counts. */
  trails: v.optional(v.array(v.pipe(v.string(), v.minLength(1, "must not be empty")))),
  /**
   * Put back what can be put back safely (mode enforce): a disabled responder rule is enabled, a
   * stopped trail (one listed in `trails`) is started, a responder function's reserved concurrency
   * is removed. Off by default: the finding then only says how.
   */
  repair: v.optional(v.boolean("must be true or false"), false),
};
