/**
 * The organisation the responder's account belongs to, learnt once per cold start with
 * `organizations:DescribeOrganization` when the config does not name it (`organization.id`): a
 * key policy statement pinned to the key's own organisation is trusted like the key's account.
 * The Organizations client is loaded only for this one call. An account outside any organisation,
 * or one that may not call it, answers undefined: the analyser then reports such a pin as high
 * with a hint naming the setting that would change the verdict.
 */
import { describeError } from "./errors.js";
import { logger } from "./logger.js";

let learnt: Promise<string | undefined> | undefined;

/** The organisation id (`o-...`), once per cold start; undefined when it cannot be known. */
export function ownOrganization(): Promise<string | undefined> {
  learnt ??= (async () => {
    try {
      const { describeOwnOrganization } = await import("./clients/organizations.js");
      return await describeOwnOrganization();
    } catch (error) {
      // Not in an organisation (AWSOrganizationsNotInUseException) or not allowed: unknown, not fatal.
      logger.info("organisation not learnt", { error: describeError(error) });
      return undefined;
    }
  })();
  return learnt;
}
