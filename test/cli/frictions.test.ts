/**
 * The rough edges a new on-call engineer hit, each reproduced as they met it and pinned: usage
 * errors in one format with a "did you mean", credentials problems said once as such, a missing
 * Region named, the report's path checked before any work, a finished `--resume` a success.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CliIo, main } from "../../cli/main.js";
import { openCheckpoint } from "../../cli/sources/checkpoint.js";
import { setArchiveClients } from "../../cli/sources/index.js";
import { editDistance } from "../../cli/usage.js";
import { archiveObjects, bucketClient } from "./archive-fixture.js";
import { BIN, spawn } from "./spawn.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  setArchiveClients({});
});

async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), isTty: false };
  const code = await main(args, io);
  return { code, out, err };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kms-responder-frictions-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * An environment without any credentials (no keys, no profile files, no instance metadata) and an
 * endpoint nothing listens on: whatever the command tries cannot reach AWS.
 */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
  AWS_SESSION_TOKEN: "",
  AWS_PROFILE: "",
  AWS_CONFIG_FILE: "/nonexistent/aws-config",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
};
const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("usage errors: one format, ending in the command's --help hint", () => {
  it.each([
    [
      ["triage", "--jsn", "events"],
      "kms-responder triage: unknown option --jsn (did you mean --json?)",
      "triage",
    ],
    [["triage", "--config"], "kms-responder triage: --config needs a value", "triage"],
    [["triage", "--json=yes", "events"], "kms-responder triage: --json takes no value", "triage"],
    [
      ["doctor", "--stack", "x"],
      "kms-responder doctor: unknown option --stack (did you mean --stack-name?)",
      "doctor",
    ],
    [
      ["drill", "--verbos"],
      "kms-responder drill: unknown option --verbos (did you mean --verbose?)",
      "drill",
    ],
    [
      ["run", "revoke-grant"],
      "kms-responder run: invalid runbook payload: --key (keyId): is required; --reason (reason): is required; --grant (grantId): is required for revoke-grant",
      "run",
    ],
  ])("%j", async (args, first, command) => {
    // Act
    const { code, out, err } = await cli(...args);

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([`${first}\nsee kms-responder ${command} --help`]);
    expect(err.join("\n")).not.toMatch(/To specify a positional|expected object, received undefined/);
  });

  it("a misspelt command gets a did-you-mean and the global hint", async () => {
    const { code, err } = await cli("docter");
    expect(code).toBe(2);
    expect(err).toEqual([
      'kms-responder: unknown command "docter" (did you mean doctor?)\nsee kms-responder --help',
    ]);
  });

  it("a word far from every command gets no guess", async () => {
    const { err } = await cli("frobnicate");
    expect(err).toEqual(['kms-responder: unknown command "frobnicate"\nsee kms-responder --help']);
  });

  it("a missing --config file is named without the system's ENOENT text", async () => {
    const { code, err } = await cli("triage", "--config", "nope.json", "events");
    expect(code).toBe(2);
    expect(err).toEqual(["kms-responder triage: cannot read config file nope.json: no such file"]);
  });

  it("edit distance counts insertions, deletions and substitutions", () => {
    expect(editDistance("jsn", "json")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });
});

describe("--profile, --region, --endpoint-url", () => {
  it.each([
    [
      ["run", "disable-key", "--key", KEY, "--reason", "test", "--region", "Europe"],
      "run",
      "--region Europe is not a Region name (like eu-west-1)",
    ],
    [
      ["notify-test", "--endpoint-url", "localhost:4566"],
      "notify-test",
      "--endpoint-url localhost:4566 is not an http(s) URL",
    ],
    [
      ["doctor", "--region", "us-east-1", "--endpoint-url", "ftp://x"],
      "doctor",
      "--endpoint-url ftp://x is not an http(s) URL",
    ],
  ])("a malformed value is a usage error: %j", async (args, command, message) => {
    const { code, err } = await cli(...args);
    expect(code).toBe(2);
    expect(err).toEqual([`kms-responder ${command}: ${message}\nsee kms-responder ${command} --help`]);
  });

  it.each(["run", "doctor", "notify-test"])("%s --help documents them", async (command) => {
    const { out } = await cli(command, "--help");
    for (const flag of ["--profile", "--endpoint-url", "AWS_ENDPOINT_URL"])
      expect(out.join("\n")).toContain(flag);
  });
});

describe("without credentials, every AWS command says so once, as such (the real bin)", () => {
  const CREDENTIALS =
    /^kms-responder (doctor|notify-test|run): no usable AWS credentials \(CredentialsProviderError: [^)]*\): pass --profile/;

  it.each([
    ["doctor", ["doctor"]],
    ["notify-test", ["notify-test"]],
    [
      "run --dry-run",
      [
        "run",
        "revoke-grant",
        "--key",
        KEY,
        "--grant",
        "0123456789abcdef",
        "--reason",
        "leaked key",
        "--dry-run",
      ],
    ],
  ])(
    "%s",
    async (_name, args) => {
      // Act
      const run = await spawn(args, NO_CREDENTIALS);

      // Assess: one line, the cause named; no deployment blamed, no --stated-by asked for.
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(CREDENTIALS);
      expect(run.stderr).not.toMatch(/deploy the stack|--stated-by|--topic-arn/);
    },
    30_000,
  );

  it("notify-test without a Region says the Region is missing, not --topic-arn", async () => {
    const run = await spawn(["notify-test"], NO_CREDENTIALS, [
      "env",
      "-u",
      "AWS_REGION",
      "-u",
      "AWS_DEFAULT_REGION",
      "node",
      BIN,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "kms-responder notify-test: no Region configured: pass --region (or set AWS_REGION)\nsee kms-responder notify-test --help\n",
    );
  }, 30_000);
});

describe("triage --report and --resume", () => {
  it("checks the report's folder before reading anything (exit 2, naming the path)", async () => {
    // Prepare
    const { client, calls, restore } = bucketClient(archiveObjects());
    cleanups.push(restore);
    setArchiveClients({ s3: () => client });

    // Act
    const { code, err } = await cli("triage", "--report", "/nonexistent/dir/out.html", "s3://trail/");

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      "kms-responder triage: --report /nonexistent/dir/out.html: the folder /nonexistent/dir does not exist (create it first)",
    ]);
    expect(calls.gets).toEqual([]);
  });

  it("a report path that is a folder is refused before any work", async () => {
    const dir = tempDir();
    const { code, err } = await cli("triage", "--report", dir, "events");
    expect(code).toBe(2);
    expect(err).toEqual([`kms-responder triage: --report ${dir}: it is a folder; name a file`]);
  });

  it("re-running a finished --resume says there is nothing left and exits 0", async () => {
    // Prepare: a first run reads every object and writes each down.
    const { client, calls, restore } = bucketClient(archiveObjects());
    cleanups.push(restore);
    setArchiveClients({ s3: () => client });
    const checkpoint = join(tempDir(), "checkpoint.txt");
    const first = await cli("triage", "--json", "--resume", checkpoint, "s3://trail/");
    expect(first.code).toBe(0);
    expect((await openCheckpoint(checkpoint)).before).toBeGreaterThan(0);
    calls.gets.length = 0;

    // Act
    const again = await cli("triage", "--json", "--resume", checkpoint, "s3://trail/");

    // Assess
    expect(again.code).toBe(0);
    expect(again.out).toEqual([]);
    expect(again.err.join("\n")).toMatch(
      /nothing left to read: \d+ objects listed; \d+ done in an earlier run/,
    );
    expect(calls.gets).toEqual([]);
  });
});

describe("preview says what a preview is", () => {
  it("an assumed action reads as assumed, not 'SUCCEEDED. assumed to succeed'", async () => {
    const { code, out } = await cli(
      "preview",
      "--config",
      "test/fixtures/enforce.config.json",
      "events/rogue-grant/external-grantee.json",
    );
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toContain(": SUCCEEDED (assumed: a preview performs nothing)");
    expect(text).not.toMatch(/SUCCEEDED\. assumed/);
    expect(text).toContain("From: 203.0.113.45 (aws-cli/2.22.4 kms.create-grant)");
  });

  it("a deletion date already past says expired N days ago, never 0 days left", async () => {
    // Prepare: the approved deletion, scheduled for a date long gone
    const event = JSON.parse(readFileSync("events/key-deletion-scheduled/approved.json", "utf8")) as {
      detail: { responseElements: { deletionDate: string } };
    };
    event.detail.responseElements.deletionDate = "Jan 2, 2020 10:00:00 AM";
    const file = join(tempDir(), "past.json");
    writeFileSync(file, JSON.stringify(event));

    // Act
    const { code, out } = await cli("preview", file);

    // Assess
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toMatch(/Deletion date: 2020-01-02T10:00:00\.000Z \(expired \d+ days ago\)/);
    expect(text).not.toContain("0 days left");
  });
});

describe("triage names accounts and fits the terminal", () => {
  it("--json has account, accountName and region", async () => {
    const dir = tempDir();
    const config = join(dir, "names.json");
    writeFileSync(config, JSON.stringify({ accountNames: { "111122223333": "payments-prod" } }));
    const { out } = await cli(
      "triage",
      "--json",
      "--config",
      config,
      "events/rogue-grant/external-grantee.json",
    );
    expect(JSON.parse(out[0] ?? "{}")).toMatchObject({
      account: "111122223333",
      accountName: "payments-prod",
      region: "us-east-1",
    });
  });

  it("lays the table out to COLUMNS, with account and Region columns, never breaking a word", async () => {
    // Prepare
    vi.stubEnv("COLUMNS", "100");
    try {
      // Act
      const { out } = await cli("triage", "events/rogue-grant", "test/fixtures/cloudtrail");
      vi.stubEnv("COLUMNS", "80");
      const narrow = await cli("triage", "events/rogue-grant", "test/fixtures/cloudtrail");

      // Assess
      expect(out[0]).toMatch(/^SEVERITY +INCIDENT +ACCOUNT +REGION +WOULD DO/);
      const table = out.slice(0, out.indexOf(""));
      expect(table.filter((l) => l.length > 100)).toEqual([]);
      expect(table.some((l) => l.length > 80)).toBe(true);
      expect(narrow.out.filter((l) => l.length > 80)).toEqual([]);
      expect(narrow.out[0]).toMatch(/^SEVERITY +INCIDENT +ACCOUNT +WOULD DO/);
      // A Region or an incident name is never split over two lines.
      expect(table.filter((l) => /(^|\s)(us|eu)-$|-$/.test(l.trimEnd()))).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("an accountNames entry that is not an account id is named", async () => {
    const dir = tempDir();
    const config = join(dir, "bad.json");
    writeFileSync(config, JSON.stringify({ accountNames: { payments: "x" } }));
    const { code, err } = await cli("triage", "--config", config, "events");
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("accountNames");
    expect(err.join("\n")).toContain("must be a 12-digit account id");
  });
});
