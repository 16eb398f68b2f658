/**
 * `kms-responder scan` through main(), with the KMS and STS clients mocked: one JSON line per
 * finding with account and Region, member accounts through the role, --fail-on, the report, and
 * exit 2 saying why when nothing could be read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import type { ScanRow } from "../../cli/scan.js";

const kmsMock = mockClient(KMSClient);
const stsMock = mockClient(STSClient);
const organizationsMock = mockClient(OrganizationsClient);
const OWN = "111122223333";
const MEMBER = "444455556666";
const KEY_ID = "00000000-0000-4000-8000-000000000001";
const scratch = mkdtempSync(join(tmpdir(), "kms-responder-scan-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTty: false } };
}

/** Every account and Region holds one key with rotation off; its ARN follows the caller's Region. */
function oneKeyWithRotationOff() {
  kmsMock.on(ListKeysCommand).resolves({ Keys: [{ KeyId: KEY_ID }] });
  kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
  // The key's account follows the credentials the client holds (the member role's, or the caller's).
  const where = async (getClient: () => unknown) => {
    const client = getClient() as KMSClient;
    const credentials = await client.config.credentials();
    return {
      region: await client.config.region(),
      account: credentials.accessKeyId === "member" ? MEMBER : OWN,
    };
  };
  kmsMock.on(DescribeKeyCommand).callsFake(async (_input, getClient) => {
    const { region, account } = await where(getClient);
    return {
      KeyMetadata: {
        KeyId: KEY_ID,
        Arn: `arn:aws:kms:${region}:${account}:key/${KEY_ID}`,
        KeyState: "Enabled",
        KeyManager: "CUSTOMER",
        KeySpec: "SYMMETRIC_DEFAULT",
        Origin: "AWS_KMS",
      },
    };
  });
  kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
  kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
  kmsMock.on(GetKeyPolicyCommand).callsFake(async (_input, getClient) => {
    const { account } = await where(getClient);
    const root = {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: "kms:*",
      Resource: "*",
    };
    return { Policy: JSON.stringify({ Version: "2012-10-17", Statement: [root] }) };
  });
  kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
}

beforeEach(() => {
  kmsMock.reset();
  stsMock.reset();
  organizationsMock.reset();
  organizationsMock
    .on(ListAccountsCommand)
    .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
  process.env.AWS_ACCESS_KEY_ID = "own";
  process.env.AWS_SECRET_ACCESS_KEY = "own";
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: OWN });
});

describe("scan --json", () => {
  it("one line per finding with account and Region, in every Region asked; stdout holds only JSON", async () => {
    oneKeyWithRotationOff();
    const run = io();
    const code = await main(["scan", "--regions", "us-east-1,eu-west-1", "--json"], run.io);
    expect(code).toBe(0);
    const rows = run.out.map((l) => JSON.parse(l) as ScanRow);
    expect(rows.map((r) => [r.incident, r.severity, r.account, r.region, r.key])).toEqual([
      ["key-rotation-disabled", "medium", OWN, "eu-west-1", `arn:aws:kms:eu-west-1:${OWN}:key/${KEY_ID}`],
      ["key-rotation-disabled", "medium", OWN, "us-east-1", `arn:aws:kms:us-east-1:${OWN}:key/${KEY_ID}`],
    ]);
    // The default mode is notify: the action is planned and shown as held.
    expect(rows[0]?.actions).toEqual([
      {
        type: "enable-key-rotation",
        target: `arn:aws:kms:eu-west-1:${OWN}:key/${KEY_ID}`,
        hold: "notify-mode",
        why: "notify mode: decided but not changed",
      },
    ]);
    expect(run.err.at(-1)).toMatch(/^scan: 2 customer managed keys in 2 account-Region pairs: 2 findings/);
    // Read-only: no command that changes anything was sent.
    const sent = kmsMock.calls().map((c) => c.args[0].constructor.name);
    expect(sent.every((name) => /^(List|Describe|Get)/.test(name))).toBe(true);
  });

  it("--accounts: each account through the role, in the caller's partition; one unreachable is reported, not fatal", async () => {
    oneKeyWithRotationOff();
    stsMock
      .on(AssumeRoleCommand, { RoleArn: `arn:aws:iam::${MEMBER}:role/auditor` })
      .resolves({
        Credentials: {
          AccessKeyId: "member",
          SecretAccessKey: "s",
          SessionToken: "t",
          Expiration: new Date(),
        },
      })
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::777788889999:role/auditor" })
      .rejects(Object.assign(new Error("not authorized"), { name: "AccessDenied" }));
    const run = io();
    const code = await main(
      [
        "scan",
        "--regions",
        "eu-west-1",
        "--accounts",
        `${MEMBER},777788889999`,
        "--role-name",
        "auditor",
        "--json",
      ],
      run.io,
    );
    expect(code).toBe(0);
    expect(run.out.map((l) => (JSON.parse(l) as ScanRow).account)).toEqual([MEMBER]);
    expect(run.err).toContain(
      "scan: 777788889999 eu-west-1: nothing read (could not assume role auditor: AccessDenied: not authorized)",
    );
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleSessionName: "kms-responder-scan" });
  });

  it("--accounts: the accounts by their organisation names (ListAccounts, every page), config accountNames first", async () => {
    // Prepare
    oneKeyWithRotationOff();
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: "member", SecretAccessKey: "s", SessionToken: "t", Expiration: new Date() },
    });
    organizationsMock
      .on(ListAccountsCommand)
      .resolvesOnce({ Accounts: [{ Id: OWN, Name: "security" }], NextToken: "page-2" })
      .resolvesOnce({ Accounts: [{ Id: MEMBER, Name: "payments-prod" }] });
    const configFile = join(scratch, "names.json");
    writeFileSync(configFile, JSON.stringify({ accountNames: { [OWN]: "security-tooling" } }));
    const run = io();

    // Act
    const code = await main(
      ["scan", "--regions", "eu-west-1", "--accounts", `${OWN},${MEMBER}`, "--config", configFile, "--json"],
      run.io,
    );

    // Assess
    expect(code).toBe(0);
    const rows = run.out.map((l) => JSON.parse(l) as ScanRow);
    expect(rows.map((r) => [r.account, r.accountName])).toEqual([
      [OWN, "security-tooling"],
      [MEMBER, "payments-prod"],
    ]);
    expect(organizationsMock).toHaveReceivedCommandTimes(ListAccountsCommand, 2);
    expect(organizationsMock.commandCalls(ListAccountsCommand)[1]?.args[0].input).toEqual({
      NextToken: "page-2",
    });
  });

  it("--accounts where Organizations refuses the listing: ids only, said once on stderr, the scan goes on", async () => {
    oneKeyWithRotationOff();
    const run = io();
    expect(await main(["scan", "--regions", "eu-west-1", "--accounts", OWN, "--json"], run.io)).toBe(0);
    expect(run.out.map((l) => (JSON.parse(l) as ScanRow).accountName)).toEqual([null]);
    expect(run.err.filter((l) => l.startsWith("account names:"))).toEqual([
      "account names: Organizations could not list the accounts (AccessDeniedException: denied): ids only",
    ]);
  });

  it("a single account without an organisation config never asks Organizations", async () => {
    oneKeyWithRotationOff();
    expect(await main(["scan", "--regions", "eu-west-1", "--json"], io().io)).toBe(0);
    expect(organizationsMock.calls()).toHaveLength(0);
  });

  it("--fail-on medium exits 1; --fail-on high exits 0", async () => {
    oneKeyWithRotationOff();
    expect(await main(["scan", "--regions", "eu-west-1", "--fail-on", "medium"], io().io)).toBe(1);
    expect(await main(["scan", "--regions", "eu-west-1", "--fail-on", "high"], io().io)).toBe(0);
  });

  it("--region scans that one Region when --regions is not given", async () => {
    oneKeyWithRotationOff();
    const run = io();
    expect(await main(["scan", "--region", "ap-south-1", "--json"], run.io)).toBe(0);
    const rows = run.out.map((l) => JSON.parse(l) as ScanRow);
    expect(rows.map((r) => r.region)).toEqual(["ap-south-1"]);
  });

  it("--report writes the findings as the triage report's page, titled as a scan", async () => {
    oneKeyWithRotationOff();
    const file = join(scratch, "scan.html");
    const configFile = join(scratch, "report-names.json");
    writeFileSync(configFile, JSON.stringify({ accountNames: { [OWN]: "security-tooling" } }));
    expect(
      await main(["scan", "--regions", "eu-west-1", "--config", configFile, "--report", file], io().io),
    ).toBe(0);
    const html = readFileSync(file, "utf8");
    expect(html).toContain("<h1>kms-responder scan report</h1>");
    expect(html).toContain("key-rotation-disabled");
    expect(html).toContain(`${OWN} eu-west-1`);
    // The account by its name, and the Region, in their own columns.
    expect(html).toContain(`<span class="mono">${OWN}</span> <span class="muted">security-tooling</span>`);
    expect(html).toContain('<td class="mono">eu-west-1</td>');
  });
});

describe("nothing read: exit 2 with the reason", () => {
  it("no credentials", async () => {
    stsMock.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
    );
    const run = io();
    expect(await main(["scan", "--regions", "eu-west-1"], run.io)).toBe(2);
    expect(run.err.join("\n")).toMatch(/no AWS credentials found/);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it("credentials rejected in every Region", async () => {
    kmsMock
      .on(ListKeysCommand)
      .rejects(
        Object.assign(new Error("The security token is invalid"), { name: "UnrecognizedClientException" }),
      );
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    const run = io();
    expect(await main(["scan", "--regions", "eu-west-1,us-east-1"], run.io)).toBe(2);
    expect(run.err.at(-1)).toMatch(
      /nothing could be read: the AWS credentials were rejected \(UnrecognizedClientException/,
    );
  });
});

describe("usage", () => {
  it.each([
    [["--regions", "eu-west"], /--regions: "eu-west" is not a Region name/],
    [["--accounts", "123"], /--accounts: "123" is not a 12-digit account id/],
    [["--role-name", "x"], /--role-name goes with --accounts/],
    [["--concurrency", "0"], /--concurrency must be a whole number from 1 to 64/],
    [["--fail-on", "urgent"], /--fail-on must be one of/],
    [["--region", "eu-west"], /--region eu-west is not a Region name/],
    [["--endpoint-url", "localhost"], /--endpoint-url localhost is not an http\(s\) URL/],
    [["--report", "/nonexistent-kms-responder/out.html"], /--report .*the folder .* does not exist/],
  ])("%j: exit 2, says what is wrong", async (args, message) => {
    const run = io();
    expect(await main(["scan", ...args], run.io)).toBe(2);
    expect(run.err.join("\n")).toMatch(message);
    expect(kmsMock.calls()).toHaveLength(0);
  });
});
