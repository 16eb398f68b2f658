import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { runAnalyzePolicy } from "../../cli/analyze-policy.js";
import { type CliIo, main } from "../../cli/main.js";
import { DEFAULT_CONFIG } from "../../functions/shared/config.js";

interface Run {
  code: number;
  out: string[];
  err: string[];
}

interface JsonReport {
  account: string;
  accountSource: string;
  findings: Array<{
    reason: string;
    severity: string;
    statement?: number;
    sid?: string;
    explanation: string;
    hint?: string;
  }>;
}

/** Runs `kms-responder analyze-policy ...args` in-process with a capturing io. */
async function analyze(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), isTty: false };
  const code = await main(["analyze-policy", ...args], io);
  return { code, out, err };
}

const scratch = mkdtempSync(join(tmpdir(), "kms-responder-analyze-policy-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

let files = 0;
/** Writes a policy (text as is, anything else as JSON) to a fresh temp file; returns its path. */
function policyFile(policy: unknown): string {
  const file = join(scratch, `policy-${++files}.json`);
  writeFileSync(file, typeof policy === "string" ? policy : JSON.stringify(policy, null, 2));
  return file;
}

const KEY_ACCOUNT = "111122223333";
const PARTNER = "444455556666";

/** AWS's default key policy, as CreateKey writes it. */
const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:root` },
  Action: "kms:*",
  Resource: "*",
};
const DEFAULT_POLICY = { Version: "2012-10-17", Id: "key-default-1", Statement: [ROOT_STATEMENT] };

/** Shares decryption with the world. */
const PUBLIC_POLICY = {
  Version: "2012-10-17",
  Statement: [
    ROOT_STATEMENT,
    { Sid: "Allow decrypt", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" },
  ],
};

/** Lets a partner account's root decrypt (AWS's documented cross-account pattern). */
const CROSS_ACCOUNT_POLICY = {
  Version: "2012-10-17",
  Statement: [
    ROOT_STATEMENT,
    {
      Sid: "Allow partner account to decrypt",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${PARTNER}:root` },
      Action: ["kms:Decrypt", "kms:DescribeKey"],
      Resource: "*",
    },
  ],
};

/** Only a low finding: a role may create grants without a kms:ViaService condition. */
const LOW_ONLY_POLICY = {
  Version: "2012-10-17",
  Statement: [
    ROOT_STATEMENT,
    {
      Sid: "App",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/app` },
      Action: ["kms:Encrypt", "kms:CreateGrant"],
      Resource: "*",
    },
  ],
};

describe("analyze-policy: findings and exit codes", () => {
  it("AWS's default key policy: No findings, exit 0", async () => {
    // Act
    const { code, out, err } = await analyze("--account", KEY_ACCOUNT, policyFile(DEFAULT_POLICY));

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([`No findings (key account ${KEY_ACCOUNT}, 1 statements).`]);
    expect(err).toEqual([]);
  });

  it("a policy sharing Decrypt with everyone: CRITICAL public-principal, the statement numbered from 1 throughout", async () => {
    // Act
    const { code, out } = await analyze("--account", KEY_ACCOUNT, policyFile(PUBLIC_POLICY));

    // Assess: the second statement is "statement 2" in the table and in the explanation
    expect(code).toBe(1);
    expect(out).toEqual([
      expect.stringMatching(
        /^CRITICAL +public-principal +statement 2 \(Sid "Allow decrypt"\): Statement 2 \("Allow decrypt"\) allows kms:Decrypt/,
      ),
    ]);
  });

  it("a cross-account policy with --account: CRITICAL external-account naming the partner account, exit 1", async () => {
    // Act
    const { code, out, err } = await analyze("--account", KEY_ACCOUNT, policyFile(CROSS_ACCOUNT_POLICY));

    // Assess
    expect(err).toEqual([]);
    expect(code).toBe(1);
    expect(out).toEqual([
      expect.stringMatching(
        new RegExp(
          `^CRITICAL +external-account +statement 2 \\(Sid "Allow partner account to decrypt"\\): .*${PARTNER}`,
        ),
      ),
    ]);
  });

  it("only a low finding: printed, exit 0", async () => {
    // Act
    const { code, out } = await analyze("--account", KEY_ACCOUNT, policyFile(LOW_ONLY_POLICY));

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(/^LOW +grant-without-service-condition +statement 2 \(Sid "App"\): /),
    ]);
  });

  it("--json prints one parseable document with the account and every finding", async () => {
    // Act
    const { code, out } = await analyze("--json", "--account", KEY_ACCOUNT, policyFile(PUBLIC_POLICY));

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(out.join("\n")) as JsonReport;
    expect(report).toEqual({
      account: KEY_ACCOUNT,
      accountSource: "--account",
      findings: [
        {
          reason: "public-principal",
          severity: "critical",
          statement: 2,
          sid: "Allow decrypt",
          explanation: expect.stringContaining("everyone"),
        },
      ],
    });
  });

  it("--json on a clean policy: an empty findings list, exit 0", async () => {
    // Act
    const { code, out } = await analyze("--json", "--account", KEY_ACCOUNT, policyFile(DEFAULT_POLICY));

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out.join("\n"))).toEqual({
      account: KEY_ACCOUNT,
      accountSource: "--account",
      findings: [],
    });
  });

  it("--account overrides the named account: the root then belongs to another account", async () => {
    // Act
    const { code, out } = await analyze("--json", "--account", PARTNER, policyFile(DEFAULT_POLICY));

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(out.join("\n")) as JsonReport;
    expect(report).toMatchObject({ account: PARTNER, accountSource: "--account" });
    // 111122223333's root is now a foreign account holding kms:*, and nothing delegates to 444455556666.
    expect(report.findings.map((f) => [f.severity, f.reason])).toEqual([
      ["critical", "external-account"],
      ["medium", "missing-root-delegation"],
    ]);
    expect(report.findings[0]).toMatchObject({ reason: "external-account", statement: 1 });
  });

  it("--config with trustedAccounts makes the cross-account policy clean", async () => {
    // Prepare
    const config = policyFile({ trustedAccounts: [PARTNER] });

    // Act
    const { code, out } = await analyze(
      "--config",
      config,
      "--account",
      KEY_ACCOUNT,
      policyFile(CROSS_ACCOUNT_POLICY),
    );

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([`No findings (key account ${KEY_ACCOUNT}, 2 statements).`]);
  });

  it("- reads the policy from stdin", async () => {
    // Prepare
    const stdin = Readable.from([Buffer.from(JSON.stringify(PUBLIC_POLICY))]);
    vi.spyOn(process, "stdin", "get").mockReturnValue(stdin as typeof process.stdin);

    // Act
    const { code, out } = await analyze("--account", KEY_ACCOUNT, "-");

    // Assess
    expect(code).toBe(1);
    expect(out).toEqual([expect.stringMatching(/^CRITICAL +public-principal /)]);
  });
});

describe("analyze-policy: bad input exits 2 with a clear message", () => {
  it("a takeover naming one foreign account is not taken for the owner's policy: asks for --account", async () => {
    // Prepare: the intruder's root alone holds the key.
    const file = policyFile({
      Version: "2012-10-17",
      Statement: [{ ...ROOT_STATEMENT, Principal: { AWS: `arn:aws:iam::${PARTNER}:root` } }],
    });

    // Act
    const { code, out, err } = await analyze(file);

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain(
      `cannot be inferred from the policy (it names account ${PARTNER}, which may not be the owner's)`,
    );
  });

  it.each([
    ["not a number", "12345"],
    ["letters", "abcdefghijkl"],
    ["empty", ""],
  ])("an invalid --account (%s) names --account", async (_label, account) => {
    // Act
    const { code, out, err } = await analyze("--account", account, policyFile(DEFAULT_POLICY));

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("--account must be a 12-digit account id");
  });

  it("a policy that names no account and no --account asks for --account", async () => {
    // Prepare
    const file = policyFile({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }],
    });

    // Act
    const { code, out, err } = await analyze(file);

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain(
      "the key's account cannot be inferred from the policy (it names no account): pass --account 123456789012 or --key-arn ARN",
    );
  });

  it("an intruder's root beside the owner's roles is ambiguous: asks for --account, never passes", async () => {
    // Prepare: the only root is the intruder's; the owner appears only through its admin role
    const file = policyFile({
      Version: "2012-10-17",
      Statement: [
        { ...ROOT_STATEMENT, Principal: { AWS: `arn:aws:iam::${PARTNER}:root` } },
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/admin` },
          Action: ["kms:Describe*", "kms:Put*"],
          Resource: "*",
        },
      ],
    });

    // Act
    const { code, out, err } = await analyze(file);

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain(`it names accounts ${PARTNER}, ${KEY_ACCOUNT}`);
  });

  it("a conditioned owner root beside an unconditioned foreign root is ambiguous too", async () => {
    // Prepare
    const file = policyFile({
      Version: "2012-10-17",
      Statement: [
        { ...ROOT_STATEMENT, Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } },
        { ...ROOT_STATEMENT, Sid: "Partner", Principal: { AWS: `arn:aws:iam::${PARTNER}:root` } },
      ],
    });

    // Act
    const withoutAccount = await analyze(file);
    const withAccount = await analyze("--json", "--account", KEY_ACCOUNT, file);

    // Assess: with the owner named, the foreign root is the external one
    expect(withoutAccount.code).toBe(2);
    expect(withAccount.code).toBe(1);
    const report = JSON.parse(withAccount.out.join("\n")) as JsonReport;
    expect(report.findings.map((f) => [f.reason, f.severity, f.statement])).toEqual([
      ["external-account", "critical", 2],
      ["missing-root-delegation", "medium", undefined],
    ]);
  });

  it("two roots that both hold kms:* are ambiguous: asks for --account", async () => {
    // Prepare
    const file = policyFile({
      Version: "2012-10-17",
      Statement: [ROOT_STATEMENT, { ...ROOT_STATEMENT, Principal: { AWS: `arn:aws:iam::${PARTNER}:root` } }],
    });

    // Act
    const { code, err } = await analyze(file);

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("pass --account");
  });

  it.each([
    ["not JSON", "{ not json", "is not valid JSON"],
    ["a JSON array", "[]", "policy is an array, not a JSON object"],
    ["a document without Statement", '{"Version":"2012-10-17"}', "policy has no Statement"],
  ])("a file that is %s: says it is not a usable key policy", async (_label, text, why) => {
    // Prepare
    const file = policyFile(text);

    // Act
    const withoutAccount = await analyze(file);
    const withAccount = await analyze("--account", KEY_ACCOUNT, file);

    // Assess
    for (const { code, out, err } of [withoutAccount, withAccount]) {
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(err.join("\n")).toContain(`${file} is not a usable key policy`);
      expect(err.join("\n")).toContain(why);
    }
  });

  it("a missing file: names the file", async () => {
    // Prepare
    const file = join(scratch, "no-such-policy.json");

    // Act
    const { code, err } = await analyze(file);

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain(`cannot read ${file}`);
  });

  it.each([
    ["no FILE", []],
    ["two FILEs", ["a.json", "b.json"]],
  ])("%s: usage error", async (_label, args) => {
    // Act
    const { code, err } = await analyze(...args);

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("analyze-policy takes exactly one FILE (or - for stdin)");
    expect(err.join("\n")).toContain("see kms-responder analyze-policy --help");
    expect(err.join("\n")).not.toContain("Usage:");
  });

  it("an unknown option: usage error", async () => {
    // Act
    const { code, err } = await analyze("--acount", KEY_ACCOUNT, policyFile(DEFAULT_POLICY));

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("--acount");
  });

  it("an invalid --config names the wrong field", async () => {
    // Prepare
    const config = policyFile({ trustedAccounts: ["partner"] });

    // Act
    const { code, err } = await analyze("--config", config, policyFile(DEFAULT_POLICY));

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("trustedAccounts");
  });
});

describe("analyze-policy: what aws kms get-key-policy wrote, and --key-arn", () => {
  it("accepts get-key-policy's JSON output without --query Policy --output text", async () => {
    // Prepare: `aws kms get-key-policy --key-id ... --policy-name default > policy.json`
    const file = policyFile({ Policy: JSON.stringify(PUBLIC_POLICY, null, 4), PolicyName: "default" });

    // Act
    const { code, out, err } = await analyze("--account", KEY_ACCOUNT, file);

    // Assess
    expect(err).toEqual([]);
    expect(code).toBe(1);
    expect(out).toEqual([expect.stringMatching(/^CRITICAL +public-principal +statement 2 /)]);
  });

  it("accepts the policy serialised as a JSON string (--query Policy --output json)", async () => {
    // Prepare
    const file = policyFile(JSON.stringify(JSON.stringify(DEFAULT_POLICY)));

    // Act
    const { code, out } = await analyze("--account", KEY_ACCOUNT, file);

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([`No findings (key account ${KEY_ACCOUNT}, 1 statements).`]);
  });

  it("takes the key's account from --key-arn", async () => {
    // Prepare
    const out: string[] = [];
    const keyArn = `arn:aws:kms:eu-west-1:${KEY_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

    // Act
    const code = await runAnalyzePolicy(
      {
        file: policyFile(CROSS_ACCOUNT_POLICY),
        account: undefined,
        keyArn,
        json: true,
        config: DEFAULT_CONFIG,
      },
      (line) => out.push(line),
    );

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(out.join("\n")) as JsonReport;
    expect(report).toMatchObject({ account: KEY_ACCOUNT, accountSource: "--key-arn" });
    expect(report.findings.map((f) => [f.reason, f.severity, f.statement])).toEqual([
      ["external-account", "critical", 2],
    ]);
  });

  it("takes --key-arn on the command line, as the account error suggests", async () => {
    // Prepare
    const keyArn = `arn:aws:kms:eu-west-1:${KEY_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

    // Act
    const ok = await analyze("--json", "--key-arn", keyArn, policyFile(CROSS_ACCOUNT_POLICY));
    const bad = await analyze(
      "--key-arn",
      `arn:aws:kms:eu-west-1:${KEY_ACCOUNT}:alias/app`,
      policyFile(DEFAULT_POLICY),
    );

    // Assess
    expect(ok.code).toBe(1);
    expect(JSON.parse(ok.out.join("\n"))).toMatchObject({ account: KEY_ACCOUNT, accountSource: "--key-arn" });
    expect(bad.code).toBe(2);
    expect(bad.err.join("\n")).toContain("--key-arn must be a KMS key ARN");
  });

  it.each([
    ["an alias ARN", `arn:aws:kms:eu-west-1:${KEY_ACCOUNT}:alias/app`, "--key-arn must be a KMS key ARN"],
    ["a key id", "1234abcd-12ab-34cd-56ef-1234567890ab", "--key-arn must be a KMS key ARN"],
    [
      "an ARN in another account than --account",
      `arn:aws:kms:eu-west-1:${PARTNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      `--account ${KEY_ACCOUNT} and --key-arn (account ${PARTNER}) disagree`,
    ],
  ])("refuses %s", async (_name, keyArn, message) => {
    // Act
    const act = runAnalyzePolicy(
      {
        file: policyFile(DEFAULT_POLICY),
        account: message.includes("disagree") ? KEY_ACCOUNT : undefined,
        keyArn,
        json: false,
        config: DEFAULT_CONFIG,
      },
      () => undefined,
    );

    // Assess
    await expect(act).rejects.toThrow(message);
  });
});
