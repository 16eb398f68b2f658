/**
 * The names accounts go by in notifications. Config `accountNames` always wins; a central
 * responder (config `organization`) asks Organizations (`organizations:DescribeAccount`) for the
 * name of an account the config does not name, once per account per container. An account
 * Organizations does not answer for (not allowed, throttled, not in the organisation) has no name
 * for the next five minutes, then is asked again: a name is a convenience, never worth a failed
 * notification or a call per event, but a throttled call should not leave the account unnamed for
 * a warm container's whole life.
 */
import type { Config } from "./config.js";
import { describeError } from "./errors.js";
import { logger } from "./logger.js";

/** Printable ASCII, at most 50 characters, as config `accountNames` allows. */
const NAME_LIMIT = 50;

const ACCOUNT = /^\d{12}$/;

/** How long an account Organizations did not answer for stays unnamed before it is asked again. */
const FAILURE_KEPT_MS = 5 * 60_000;

/** Per account: the name (once asked), and when a failed ask may be repeated. */
const learnt = new Map<string, { name: Promise<string | undefined>; askAgainAt?: number }>();

/** An Organizations account name fit for a subject line: printable ASCII, shortened. */
function cleanName(name: string | undefined): string | undefined {
  const clean = (name ?? "")
    .replace(/[^\x20-\x7e]/g, "?")
    .trim()
    .slice(0, NAME_LIMIT);
  return clean || undefined;
}

function organizationName(account: string): Promise<string | undefined> {
  const known = learnt.get(account);
  if (known && (known.askAgainAt === undefined || Date.now() < known.askAgainAt)) return known.name;
  const entry: { name: Promise<string | undefined>; askAgainAt?: number } = {
    name: Promise.resolve(undefined),
  };
  entry.name = (async () => {
    try {
      const { describeAccountName } = await import("./clients/organizations.js");
      return cleanName(await describeAccountName(account));
    } catch (error) {
      logger.info("account name not learnt", { account, error: describeError(error) });
      entry.askAgainAt = Date.now() + FAILURE_KEPT_MS;
      return undefined;
    }
  })();
  learnt.set(account, entry);
  return entry.name;
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
