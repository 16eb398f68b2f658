/**
 * Account names for the CLI's output: config `accountNames`, plus the organisation's names from
 * organizations:ListAccounts (one paged listing for the whole run) when the command is about an
 * organisation. Organizations answers only in the management account or a delegated
 * administrator's: anywhere else, or without credentials, the output keeps the ids (and the
 * configured names), said once on stderr; the command goes on.
 */
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import type { Config } from "../functions/shared/config.js";
import { describeError } from "../functions/shared/errors.js";
import type { CliIo } from "./io.js";

/** The listing's pages, at most: 20 accounts a page, so 10,000 accounts (an organisation's default limit is far lower). */
const MAX_PAGES = 500;

/** A name as config `accountNames` allows: printable ASCII, at most 50 characters. */
function cleanName(name: string): string {
  return name
    .replace(/[^\x20-\x7e]/g, "?")
    .trim()
    .slice(0, 50);
}

/** Every account of the organisation by id, with its name. Throws what Organizations throws. */
export async function listAccountNames(client: OrganizationsClient): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await client.send(new ListAccountsCommand({ NextToken: token }));
    for (const a of out.Accounts ?? []) {
      const name = a.Id && a.Name ? cleanName(a.Name) : "";
      if (a.Id && name) names[a.Id] = name;
    }
    token = out.NextToken;
  } while (token && ++pages < MAX_PAGES);
  return names;
}

/**
 * `config` with the organisation's names added under its own `accountNames` (the config wins).
 * Never throws: a listing that fails leaves the config as it is, with one line on stderr.
 * `region`: where to send the call (Organizations is global; any Region of the partition does).
 */
export async function withOrganizationNames(config: Config, io: CliIo, region?: string): Promise<Config> {
  const client = new OrganizationsClient({
    maxAttempts: 3,
    region: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
  });
  try {
    const listed = await listAccountNames(client);
    return { ...config, accountNames: { ...listed, ...config.accountNames } };
  } catch (error) {
    io.err(`account names: Organizations could not list the accounts (${describeError(error)}): ids only`);
    return config;
  } finally {
    client.destroy();
  }
}
