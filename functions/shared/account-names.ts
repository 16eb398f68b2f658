/**
 * The names accounts go by in notifications. Config `accountNames` always wins; a central
 * responder (config `organization`) asks Organizations (`organizations:DescribeAccount`) for the
 * name of an account the config does not name, once per account per container. An account
 * Organizations does not answer for (not allowed, throttled, not in the organisation) has no name
 * until the container is replaced: a name is a convenience, never worth a failed notification or a
 * call per event.
 */
import type { Config } from "./config.js";
import { describeError } from "./errors.js";
import { logger } from "./logger.js";

/** Printable ASCII, at most 50 characters, as config `accountNames` allows. */
const NAME_LIMIT = 50;

const ACCOUNT = /^\d{12}$/;

const learnt = new Map<string, Promise<string | undefined>>();

/** An Organizations account name fit for a subject line: printable ASCII, shortened. */
function cleanName(name: string | undefined): string | undefined {
  const clean = (name ?? "")
    .replace(/[^\x20-\x7e]/g, "?")
    .trim()
    .slice(0, NAME_LIMIT);
  return clean || undefined;
}

function organizationName(account: string): Promise<string | undefined> {
  let name = learnt.get(account);
  if (!name) {
    name = (async () => {
      try {
        const { describeAccountName } = await import("./clients/organizations.js");
        return cleanName(await describeAccountName(account));
      } catch (error) {
        logger.info("account name not learnt", { account, error: describeError(error) });
        return undefined;
      }
    })();
    learnt.set(account, name);
  }
  return name;
}

/**
 * Config `accountNames`, plus the organisation's name of `account` when the config is an
 * organisation's and does not name it. Never throws.
 */
export async function accountNamesFor(
  config: Config,
  account: string | undefined,
): Promise<Readonly<Record<string, string>>> {
  const named = config.accountNames;
  if (!config.organization || !account || !ACCOUNT.test(account) || named[account] !== undefined)
    return named;
  const name = await organizationName(account);
  return name ? { ...named, [account]: name } : named;
}
