/**
 * The real bin, spawned as a user runs it (`node bin/kms-responder.cjs ...`): help, version and
 * usage errors; triage that never lies (nothing readable -> exit 2, symlinks followed, an
 * oversized record skipped, JSON-only stdout through npx); preview's rendering.
 */
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "./spawn.js";

const VERSION = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

const scratch = mkdtempSync(join(tmpdir(), "kms-responder-bin-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const full = join(scratch, name);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
  return full;
}

const FIXTURE = "events/rogue-grant/external-grantee.json";

describe("help, version and usage errors", () => {
  it("--version prints the package's version", async () => {
    const run = await spawn(["--version"]);
    expect(run).toMatchObject({ code: 0, stdout: `kms-responder ${VERSION}\n` });
  });

  it.each(["triage", "scan", "preview", "analyze-policy", "run", "doctor", "notify-test", "drill"])(
    "%s --help: its own short usage with examples, exit 0",
    async (command) => {
      const run = await spawn([command, "--help"]);
      expect(run.code).toBe(0);
      expect(run.stdout.startsWith(`Usage: kms-responder ${command}`)).toBe(true);
      expect(run.stdout).toContain("Examples:");
      expect(run.stdout).not.toContain("Commands:");
      // Short: a screen at most (triage's archive sources add their own paragraph).
      expect(run.stdout.split("\n").length).toBeLessThan(40);
    },
  );

  it("a usage error raised by code triage loads on demand (the S3 source) is still one, exit 2", async () => {
    // triage starts from a file of its own and loads the S3 source from the split build, whose
    // UsageError is another copy of the class: still a usage error, not a crash (exit 1, no hint).
    const run = await spawn(["triage", "s3://"]);
    expect(run).toMatchObject({
      code: 2,
      stdout: "",
      stderr:
        'kms-responder triage: "s3://" is not an s3://bucket/prefix location\nsee kms-responder triage --help\n',
    });
  });

  it("a usage error is one line and a pointer to the command's help, never the global help", async () => {
    const run = await spawn(["triage", "--jsn", "events"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^kms-responder triage: .*--jsn/);
    expect(lines[1]).toBe("see kms-responder triage --help");
  });

  it("an unknown command points to the global help", async () => {
    const run = await spawn(["triag", "events"]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe(
      'kms-responder: unknown command "triag" (did you mean triage?)\nsee kms-responder --help\n',
    );
  });
});

describe("triage never lies", () => {
  it("exits 2 and says so when no record could be read: corrupt, empty and non-JSON files", async () => {
    // Prepare
    const dir = join(scratch, "garbage");
    file("garbage/corrupt.json.gz", "not gzip at all");
    file("garbage/empty.json", "");
    file("garbage/notes.txt", "hello");

    // Act
    const run = await spawn(["triage", "--fail-on", "high", dir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "kms-responder triage: no record could be read from the 1 input given (2 data files found; 1 other file ignored",
    );
  });

  it("exits 2 for a directory holding only .txt files", async () => {
    file("only-text/a.txt", JSON.stringify({ eventName: "CreateGrant" }));
    const run = await spawn(["triage", "--json", join(scratch, "only-text")]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /no record could be read from the 1 input given \(0 data files found; 1 other file/,
    );
  });

  it("exits 0 when at least one record was read, whatever else was broken; 1 only for --fail-on", async () => {
    const dir = join(scratch, "mixed");
    file("mixed/broken.json", "{");
    file("mixed/grant.json", readFileSync(FIXTURE, "utf8"));
    expect((await spawn(["triage", dir])).code).toBe(0);
    expect((await spawn(["triage", "--fail-on", "critical", dir])).code).toBe(1);
  });

  it("follows symlinked files and directories in a directory, once each even through a loop", async () => {
    // Prepare
    const dir = join(scratch, "links");
    const real = file("link-targets/grant.json", readFileSync(FIXTURE, "utf8"));
    mkdirSync(dir, { recursive: true });
    symlinkSync(real, join(dir, "linked.json"));
    symlinkSync(join(scratch, "link-targets"), join(dir, "linked-dir"));
    symlinkSync(dir, join(dir, "loop"));

    // Act
    const run = await spawn(["triage", "--json", dir]);

    // Assess
    expect(run.code).toBe(0);
    const rows = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { source: { file: string }; incident: string });
    expect(rows.map((r) => r.source.file)).toEqual([
      join(dir, "linked-dir", "grant.json"),
      join(dir, "linked.json"),
    ]);
    expect(rows.every((r) => r.incident === "rogue-grant")).toBe(true);
  });

  it("reports a broken symlink as unreadable", async () => {
    const dir = join(scratch, "broken-link");
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(scratch, "nowhere.json"), join(dir, "gone.json"));
    file("broken-link/grant.json", readFileSync(FIXTURE, "utf8"));
    const run = await spawn(["triage", dir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Could not read (1):");
    expect(run.stdout).toMatch(/gone\.json#0: cannot read file \(ENOENT/);
  });

  it("a .gz holding one 600 MiB line is reported as too large and the other records are still triaged", async () => {
    // Prepare: a 600 MiB line, then a real record on the next line.
    const big = join(scratch, "huge.jsonl.gz");
    const gzip = createGzip({ level: 1 });
    const out = createWriteStream(big);
    gzip.pipe(out);
    const chunk = Buffer.alloc(1024 * 1024, "x");
    gzip.write('{"pad":"');
    for (let i = 0; i < 600; i++) {
      if (!gzip.write(chunk)) await new Promise<void>((r) => gzip.once("drain", () => r()));
    }
    gzip.write(`"}\n${JSON.stringify(JSON.parse(readFileSync(FIXTURE, "utf8")))}\n`);
    gzip.end();
    await new Promise<void>((r) => out.on("close", () => r()));

    // Act
    const run = await spawn(["triage", "--json", big]);

    // Assess
    expect(run.stderr).not.toContain("Invalid string length");
    expect(run.code).toBe(0);
    const rows = run.stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            source: { index: number };
            skipped: string | null;
            why: string;
            incident: string;
          },
      );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ source: { index: 0 }, skipped: "unparseable" });
    expect(rows[0]?.why).toMatch(/^line 1 is 600 MiB, more than the 64 MiB a record may be: skipped$/);
    expect(rows[1]).toMatchObject({ source: { index: 1 }, incident: "rogue-grant" });
  }, 120_000);

  it("the table fits COLUMNS=120, is sorted by severity, has account and Region columns and cuts no word", async () => {
    const run = await spawn(["triage", "events"], { COLUMNS: "120" });
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^SEVERITY +INCIDENT +ACCOUNT +REGION +WOULD DO +KEY$/);
    expect(lines.filter((l) => l.length > 120)).toEqual([]);
    expect(run.stdout).not.toContain("~");
    const severities = lines.flatMap((l) => /^(CRITICAL|HIGH|MEDIUM|LOW|INFO) /.exec(l)?.[1] ?? []);
    const order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"];
    expect(severities.map((s) => order.indexOf(s))).toEqual(
      [...severities.map((s) => order.indexOf(s))].sort((a, b) => a - b),
    );
    // Every key id shown is whole (36 characters) on one line.
    const keyIds =
      run.stdout.match(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g) ?? [];
    expect(keyIds.length).toBeGreaterThan(10);
  });

  it("npx kms-responder triage --json prints only JSON lines on stdout", async () => {
    const run = await spawn(["kms-responder", "triage", "--json", "events"], {}, ["npx", "--no"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe("the one-file commands' code cache", () => {
  it("a cache V8 refuses (another Node, a torn write) changes nothing in the output and is written anew", async () => {
    const cache = "dist/cli/commands/preview.cjs.cache";
    const expected = await spawn(["preview", FIXTURE]);
    writeFileSync(cache, "not a code cache");

    const run = await spawn(["preview", FIXTURE]);

    // The JSON document carries the time it was made.
    const untimed = (text: string) => text.replace(/"time": \d+/g, '"time": 0');
    expect(untimed(run.stdout)).toBe(untimed(expected.stdout));
    expect(run.stdout).toContain("Subject: [CRITICAL] Rogue KMS grant");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(readFileSync(cache).toString("latin1")).not.toBe("not a code cache");
    expect(readFileSync(cache).length).toBeGreaterThan(10_000);
  });

  it("a cache that cannot be read or written (a read-only install) is compiled around, and leaves nothing behind", async () => {
    const cache = "dist/cli/commands/triage.cjs.cache";
    rmSync(cache, { force: true });
    mkdirSync(cache);
    try {
      const run = await spawn(["triage", "test/fixtures/cloudtrail"]);

      expect(run.code).toBe(0);
      expect(run.stderr).toBe("");
      expect(run.stdout).toMatch(/\d+ records: \d+ findings/);
      expect(readdirSync("dist/cli/commands").filter((f) => f.startsWith("triage.cjs.cache."))).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe("preview", () => {
  it("an incident without a key (a custom key store disconnect): names the store", async () => {
    // Act
    const run = await spawn(["preview", "events/custom-key-store-changed/disconnect.json"]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Subject: [CRITICAL] KMS custom key..., for review: store cks-1234567890abcdef0 in 111122223333/us-east-1",
    );
    expect(run.stdout).toContain("Custom key store: cks-1234567890abcdef0 (ExampleKeyStore)");
  });

  it("renders subject, text with the undo command, JSON document and attributes, first line saying what it is", async () => {
    // Act
    const run = await spawn(["preview", "--config", "test/fixtures/enforce.config.json", FIXTURE]);

    // Assess
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe(
      "Preview: what subscribers would receive if every planned action succeeded (offline; what only AWS knows is shown as unknown).",
    );
    expect(run.stdout).toContain("Subject: [CRITICAL] Rogue KMS grant, grant revoked: key 7f3c9a12");
    expect(run.stdout).toContain(
      "Message attributes: severity=critical incident=rogue-grant outcome=remediated",
    );
    expect(run.stdout).toContain("Description: (unknown)");
    expect(run.stdout).toMatch(
      /aws kms create-grant --key-id arn:aws:kms:us-east-1:111122223333:key\/7f3c9a12/,
    );
    expect(run.stdout).toContain('"schema": "kms-responder/notification/v1"');
  });

  it("prints no terminal escape sequence read from a record", async () => {
    // Prepare: a user agent carrying an escape sequence that would clear the screen.
    const event = JSON.parse(readFileSync(FIXTURE, "utf8"));
    event.detail.userAgent = "aws-cli/2 \u001b[2J\u001b]0;pwned\u0007";
    const hostile = file("escape.json", JSON.stringify(event));

    // Act
    const run = await spawn(["preview", hostile]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("\u001b");
    expect(run.stdout).toContain("aws-cli/2 \\u001b[2J");
  });

  it("--json: the notification as data; held actions keep their hold status", async () => {
    // Prepare: notify mode holds every action.
    const config = file("notify-config.json", JSON.stringify({ mode: "notify" }));

    // Act
    const run = await spawn(["preview", "--json", "--config", config, FIXTURE]);

    // Assess
    expect(run.code).toBe(0);
    const [only] = run.stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            subject: string;
            attributes: Record<string, string>;
            document: { outcome: string; actions: Array<{ status: string }>; undo: unknown[] };
          },
      );
    expect(only?.attributes).toEqual({ severity: "critical", incident: "rogue-grant", outcome: "dry-run" });
    expect(only?.document.actions.map((a) => a.status)).toEqual(["dry-run"]);
    expect(only?.document.undo).toEqual([]);
  });

  it("--format chat: stdout is only the chat message (custom notification schema), one per line", async () => {
    // Act
    const run = await spawn([
      "preview",
      "--format",
      "chat",
      "--config",
      "test/fixtures/enforce.config.json",
      FIXTURE,
      "events/rogue-grant/failed-call.json",
    ]);

    // Assess
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const message = JSON.parse(lines[0] ?? "") as {
      version: string;
      source: string;
      content: { textType: string; title: string; nextSteps: string[] };
    };
    expect(message).toMatchObject({ version: "1.0", source: "custom" });
    expect(message.content.textType).toBe("client-markdown");
    expect(message.content.title).toMatch(/^CRITICAL Rogue KMS grant in 111122223333/);
    expect(message.content.nextSteps[0]).toMatch(/aws kms create-grant --key-id/);
    expect(run.stderr).toContain("failed-call.json#0: no notification (failed-call:");
    const bad = await spawn(["preview", "--format", "slack", FIXTURE]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--format must be text, json or chat");
  });

  it("says why a record makes no notification, and exits 2 when nothing could be read", async () => {
    const failed = await spawn(["preview", "events/rogue-grant/failed-call.json"]);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain("no notification (failed-call:");
    const garbage = await spawn(["preview", file("not-json.json", "{")]);
    expect(garbage.code).toBe(2);
  });
});
