/**
 * `triage --org-names`: the accounts named as the organisation names them
 * (organizations:ListAccounts, every page), config `accountNames` first; a listing that fails is
 * said once on stderr and triage goes on with the ids. Without the flag triage calls nothing, even
 * under an organisation's config.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../cli/main.js";

const organizations = mockClient(OrganizationsClient);
const scratch = mkdtempSync(join(tmpdir(), "kms-responder-triage-names-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const FIXTURE = "events/rogue-grant/external-grantee.json";
const ACCOUNT = "111122223333";

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), isTty: false };
  const code = await main(args, io);
  return { code, rows: out.map((l) => JSON.parse(l) as { accountName: string | null }), err };
}

function configFile(name: string, config: unknown): string {
  const file = join(scratch, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

beforeEach(() => {
  organizations.reset();
  organizations
    .on(ListAccountsCommand)
    .resolvesOnce({ Accounts: [{ Id: "444455556666", Name: "sandbox" }], NextToken: "next" })
    .resolvesOnce({ Accounts: [{ Id: ACCOUNT, Name: "payments-prod" }] });
});

describe("triage: the organisation's account names", () => {
  it("--org-names: the row's account by its organisation name, every page listed", async () => {
    const { code, rows } = await cli("triage", "--json", "--org-names", FIXTURE);
    expect(code).toBe(0);
    expect(rows[0]?.accountName).toBe("payments-prod");
    expect(organizations.commandCalls(ListAccountsCommand).map((c) => c.args[0].input)).toEqual([
      { NextToken: undefined },
      { NextToken: "next" },
    ]);
  });

  it("an organisation's config alone calls nothing (its accountNames still name); with --org-names they win over the listing", async () => {
    const config = configFile("org.json", {
      organization: { id: "o-a1b2c3d4e5", regions: ["us-east-1"], organizationalUnitIds: ["r-abcd"] },
      accountNames: { [ACCOUNT]: "payments" },
    });
    const offline = await cli("triage", "--json", "--config", config, FIXTURE);
    expect(offline.rows[0]?.accountName).toBe("payments");
    expect(organizations.calls()).toHaveLength(0);

    const named = await cli("triage", "--json", "--org-names", "--config", config, FIXTURE);
    expect(named.rows[0]?.accountName).toBe("payments");
    expect(organizations.commandCalls(ListAccountsCommand).length).toBeGreaterThan(0);
  });

  it("a listing Organizations refuses: one line on stderr, the ids alone, triage's own exit code", async () => {
    organizations.reset();
    organizations
      .on(ListAccountsCommand)
      .rejects(Object.assign(new Error("not the management account"), { name: "AccessDeniedException" }));
    const { code, rows, err } = await cli("triage", "--json", "--org-names", FIXTURE);
    expect(code).toBe(0);
    expect(rows[0]?.accountName).toBeNull();
    expect(err.filter((l) => l.startsWith("account names:"))).toEqual([
      "account names: Organizations could not list the accounts (AccessDeniedException: not the management account): ids only",
    ]);
  });

  it("without --org-names or an organisation's config, triage calls nothing", async () => {
    const { rows } = await cli("triage", "--json", FIXTURE);
    expect(rows[0]?.accountName).toBeNull();
    expect(organizations.calls()).toHaveLength(0);
  });
});
