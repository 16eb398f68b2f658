import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../cli/main.js";
import { fileInput, runTriage } from "../../cli/triage.js";
import { parseConfig } from "../../functions/shared/config.js";
import { GRANT_KEY_ARN } from "../helpers/fixtures.js";

const CLOUDTRAIL = "test/fixtures/cloudtrail";
const LOG_FILE = `${CLOUDTRAIL}/111122223333_CloudTrail_us-east-1_20261128T1830Z_abcd.json`;

interface Row {
  eventId: string | null;
  eventName: string | null;
  source: { file: string; index: number };
  /** Absent on the compact lines of records of other services (skipped `not-kms`). */
  incident?: string | null;
  severity?: string | null;
  reasons: string[];
  actions: Array<{ type: string; target: string; when?: string; hold?: string; why?: string }>;
  skipped: string | null;
  why: string | null;
}

interface Run {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the CLI in-process with a capturing io, as a user would type `kms-responder ...args`. */
async function cli(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), isTty: false };
  const code = await main(args, io);
  return { code, out, err };
}

/**
 * A config that acts (`"mode": "enforce"`): the default only notifies, and these tests pin what
 * acting would do. A test's own `--config` comes later and wins.
 */
const ENFORCE = "test/fixtures/enforce.config.json";

/** `triage --json ...` under {@link ENFORCE}: the rows, each parsed. */
async function triageJson(...args: string[]): Promise<{ code: number; rows: Row[]; err: string[] }> {
  const { code, out, err } = await cli("triage", "--json", "--config", ENFORCE, ...args);
  return { code, rows: out.map((line) => JSON.parse(line) as Row), err };
}

/** Every file under a directory, recursively, sorted like the CLI reads them. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/** How many records a JSON document holds, counted independently of the CLI's reader. */
function recordsIn(doc: unknown): number {
  if (Array.isArray(doc)) return doc.length;
  if (typeof doc === "object" && doc !== null && "Records" in doc && Array.isArray(doc.Records)) {
    return doc.Records.length;
  }
  return 1;
}

const scratch = mkdtempSync(join(tmpdir(), "kms-responder-triage-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, content: string): string {
  const file = join(scratch, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function expectRowShape(row: Row): void {
  expect(Object.keys(row)).toEqual(
    expect.arrayContaining([
      "eventId",
      "eventName",
      "source",
      "incident",
      "severity",
      "reasons",
      "actions",
      "skipped",
    ]),
  );
  expect(typeof row.source.file).toBe("string");
  expect(Number.isInteger(row.source.index)).toBe(true);
  expect(Array.isArray(row.reasons)).toBe(true);
  for (const action of row.actions) {
    expect(typeof action.type).toBe("string");
    expect(typeof action.target).toBe("string");
    expect(Object.keys(action).every((k) => ["type", "target", "when", "hold", "why"].includes(k))).toBe(
      true,
    );
    // A held action carries its code and the reason in words together.
    expect("hold" in action).toBe("why" in action);
  }
  // A row is either a finding (severity, no skip) or skipped (a reason, no severity).
  expect(row.skipped === null).toBe(row.severity !== null);
}

describe("triage --json", () => {
  it("prints exactly one JSON line per record under events/, each with the contract's fields", async () => {
    // Prepare
    const files = filesUnder("events").filter((f) => f.endsWith(".json"));
    const expected = files.reduce((n, f) => n + recordsIn(JSON.parse(readFileSync(f, "utf8"))), 0);

    // Act
    const { code, rows, err } = await triageJson("events");

    // Assess
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(rows).toHaveLength(expected);
    for (const row of rows) expectRowShape(row);
    expect(rows.map((r) => r.source.file)).toEqual(files);
    expect(rows.every((r) => r.source.index === 0)).toBe(true);
    expect(rows.every((r) => r.skipped !== "unparseable")).toBe(true);
  });

  it("without a config only notifies: the planned revocation is held in notify mode", async () => {
    // Act
    const { code, out } = await cli("triage", "--json", "events/rogue-grant/external-grantee.json");

    // Assess
    expect(code).toBe(0);
    const [row] = out.map((line) => JSON.parse(line) as Row);
    expect(row?.actions).toEqual([expect.objectContaining({ type: "revoke-grant", hold: "notify-mode" })]);
  });

  it("says what it would do about a rogue grant: the incident, severity, reasons and the exact grant", async () => {
    // Act
    const { rows } = await triageJson("events/rogue-grant/external-grantee.json");

    // Assess
    expect(rows).toEqual([
      expect.objectContaining({
        eventId: "7404c6cc-a32e-4c17-bddb-150a93c40481",
        eventName: "CreateGrant",
        source: { file: "events/rogue-grant/external-grantee.json", index: 0 },
        incident: "rogue-grant",
        severity: "critical",
        reasons: ["external-grantee", "unconstrained-grant"],
        actions: [
          {
            type: "revoke-grant",
            target: `${GRANT_KEY_ARN} grant 17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7`,
          },
        ],
        skipped: null,
      }),
    ]);
  });

  it("says the re-enable after a cancelled deletion waits for the key's prior state", async () => {
    // Act
    const { rows } = await triageJson("events/key-deletion-scheduled/unapproved.json");

    // Assess
    const key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(rows[0]?.actions).toEqual([
      { type: "cancel-key-deletion", target: key },
      {
        type: "enable-key",
        target: key,
        when: "only if the key was enabled before the deletion was scheduled",
      },
    ]);
  });

  it("reads a CloudTrail log file record by record, skipping what is not KMS", async () => {
    // Prepare
    const records = (JSON.parse(readFileSync(LOG_FILE, "utf8")) as { Records: Array<{ eventID: string }> })
      .Records;

    // Act
    const { code, rows } = await triageJson(LOG_FILE);

    // Assess
    expect(code).toBe(0);
    expect(rows).toHaveLength(records.length);
    expect(rows.map((r) => r.source)).toEqual(records.map((_, index) => ({ file: LOG_FILE, index })));
    expect(rows.map((r) => r.eventId)).toEqual(records.map((r) => r.eventID));
    // Records of other services make compact lines: what identifies them, and why they were skipped.
    expect(rows[0]).toEqual({
      eventId: records[0]?.eventID,
      eventName: "AssumeRole",
      source: { file: LOG_FILE, index: 0 },
      skipped: "not-kms",
    });
    expect(rows.map((r) => [r.eventName, r.incident ?? null, r.severity ?? null, r.skipped])).toEqual([
      ["AssumeRole", null, null, "not-kms"],
      ["DescribeInstances", null, null, "not-kms"],
      ["Decrypt", null, null, "no-incident"],
      // IAM is a watched source (responder-tampered): read whole, and no incident.
      ["ListRoles", null, null, "no-incident"],
      ["CreateGrant", "rogue-grant", "critical", null],
      ["DescribeKey", null, null, "no-incident"],
      ["ScheduleKeyDeletion", "key-deletion-scheduled", "critical", null],
      ["RetireGrant", null, null, "no-incident"],
    ]);
  });

  it("writes another service's record as JSON.stringify would, whatever its id and name hold", async () => {
    // Prepare: quotes, backslashes, control and non-ASCII characters, and no id at all.
    const odd = [
      { eventSource: "s3.amazonaws.com", eventName: 'Get"Object', eventID: "a\\b" },
      { eventSource: "s3.amazonaws.com", eventName: "Line\nBreak\u0001", eventID: "é-ü-✓" },
      { eventSource: "s3.amazonaws.com", eventName: "GetObject" },
    ];
    const file = scratchFile("odd-names.json", JSON.stringify({ Records: odd }));

    // Act
    const { out } = await cli("triage", "--json", file);

    // Assess: each line is exactly the row's JSON.
    expect(out).toEqual(
      odd.map((r, index) =>
        JSON.stringify({
          eventId: r.eventID ?? null,
          eventName: r.eventName,
          source: { file, index },
          skipped: "not-kms",
        }),
      ),
    );
  });

  it("reads the gzip CloudTrail writes to S3 exactly like the plain file", async () => {
    // Prepare
    const gz = `${LOG_FILE}.gz`;
    const plain = await triageJson(LOG_FILE);
    expect(gunzipSync(readFileSync(gz)).toString("utf8")).toBe(readFileSync(LOG_FILE, "utf8"));

    // Act
    const { code, rows } = await triageJson(gz);

    // Assess
    expect(code).toBe(0);
    expect(rows).toEqual(plain.rows.map((r) => ({ ...r, source: { ...r.source, file: gz } })));
  });

  it("reads JSON lines: the broken line is reported as unparseable and the other lines are still triaged", async () => {
    // Prepare
    const file = `${CLOUDTRAIL}/records.jsonl`;
    const lines = readFileSync(file, "utf8").split("\n");
    const nonBlank = lines.filter((l) => l.trim() !== "").length;

    // Act
    const { code, rows } = await triageJson(file);

    // Assess
    expect(code).toBe(0);
    expect(rows).toHaveLength(nonBlank);
    expect(rows.map((r) => [r.source.index, r.eventName, r.skipped ?? r.incident])).toEqual([
      [0, "PutKeyPolicy", "key-policy-violation"],
      [1, "EnableKey", "no-incident"],
      [2, null, "unparseable"],
      [3, "GetCallerIdentity", "not-kms"],
      [4, "DisableKey", "key-disabled"],
    ]);
    expect(rows[2]?.why).toContain("line 3");
  });

  it("still reads the other JSON lines when the first line is the broken one", async () => {
    // Prepare
    const good = readFileSync(`${CLOUDTRAIL}/records.jsonl`, "utf8").split("\n")[4] ?? "";
    const file = scratchFile("first-line-broken.jsonl", `{"eventName": "CreateGrant", \n${good}\n${good}\n`);

    // Act
    const { code, rows } = await triageJson(file);

    // Assess
    expect(code).toBe(0);
    expect(rows.map((r) => [r.source.index, r.skipped ?? r.incident])).toEqual([
      [0, "unparseable"],
      [1, "key-disabled"],
      [2, "key-disabled"],
    ]);
  });

  it("reads a JSON array of events", async () => {
    // Prepare
    const file = `${CLOUDTRAIL}/array.json`;
    const expected = recordsIn(JSON.parse(readFileSync(file, "utf8")));

    // Act
    const { code, rows } = await triageJson(file);

    // Assess
    expect(code).toBe(0);
    expect(rows).toHaveLength(expected);
    expect(rows.map((r) => [r.source.index, r.incident, r.severity])).toEqual([
      [0, "key-rotation-disabled", "medium"],
      [1, "key-material-deleted", "critical"],
      [2, "pending-deletion-key-used", "high"],
    ]);
  });

  it("reports a file that is not JSON as one unparseable entry, and exits 2: nothing could be read", async () => {
    // Act
    const { code, rows, err } = await triageJson(`${CLOUDTRAIL}/broken.json`);

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      "kms-responder triage: no record could be read from the 1 input given (1 data file found): 1 unreadable",
    ]);
    expect(rows).toEqual([
      expect.objectContaining({
        source: { file: `${CLOUDTRAIL}/broken.json`, index: 0 },
        incident: null,
        severity: null,
        skipped: "unparseable",
        why: expect.stringContaining("not valid JSON"),
      }),
    ]);
  });

  it("reads the records before a truncated gzip's damage and reports the damage, as triage s3:// does", async () => {
    // Act
    const { code, rows } = await triageJson(`${CLOUDTRAIL}/truncated.json.gz`);

    // Assess: the log-file parser hands over each complete record; the cut is one unparseable row.
    expect(code).toBe(0);
    const file = `${CLOUDTRAIL}/truncated.json.gz`;
    expect(rows).toEqual([
      expect.objectContaining({ eventName: "AssumeRole", source: { file, index: 0 }, skipped: "not-kms" }),
      expect.objectContaining({
        eventName: "DescribeInstances",
        source: { file, index: 1 },
        skipped: "not-kms",
      }),
      expect.objectContaining({
        source: { file, index: -1 },
        skipped: "unparseable",
        why: "damaged gzip data (unexpected end of file)",
      }),
    ]);
  });

  it("exits 2 for a truncated gzip with no complete record", async () => {
    // Prepare: the first 60 bytes of the log file's gzip stream end inside its first record.
    const whole = gzipSync(readFileSync(LOG_FILE));
    const cut = join(scratch, "cut.json.gz");
    writeFileSync(cut, whole.subarray(0, 60));

    // Act
    const { code, rows } = await triageJson(cut);

    // Assess
    expect(code).toBe(2);
    expect(rows).toEqual([
      expect.objectContaining({ skipped: "unparseable", why: expect.stringContaining("damaged gzip data") }),
    ]);
  });

  it("keeps going past broken files: every file of a directory is read", async () => {
    // Act
    const { code, rows } = await triageJson(CLOUDTRAIL);

    // Assess
    expect(code).toBe(0);
    const files = new Set(rows.map((r) => r.source.file));
    expect([...files].sort()).toEqual(filesUnder(CLOUDTRAIL).sort());
    expect(rows.filter((r) => r.skipped === "unparseable")).toHaveLength(3);
  });

  it("reads a directory recursively, only its data files, in name order", async () => {
    // Prepare
    const dir = join(scratch, "tree");
    mkdirSync(join(dir, "b", "nested"), { recursive: true });
    mkdirSync(join(dir, "a"), { recursive: true });
    copyFileSync("events/rogue-grant/delegation.json", join(dir, "b", "nested", "delegation.json"));
    copyFileSync(`${CLOUDTRAIL}/array.json`, join(dir, "a", "array.json"));
    copyFileSync(`${LOG_FILE}.gz`, join(dir, "b", "log.json.gz"));
    writeFileSync(join(dir, "README.md"), "# not data\n");

    // Act
    const { code, rows } = await triageJson(dir);

    // Assess
    expect(code).toBe(0);
    expect(rows).toHaveLength(3 + 8 + 1);
    expect([...new Set(rows.map((r) => r.source.file))]).toEqual([
      join(dir, "a", "array.json"),
      join(dir, "b", "log.json.gz"),
      join(dir, "b", "nested", "delegation.json"),
    ]);
  });

  it("applies --config: the responder's own calls are skipped", async () => {
    // Prepare: the example as the stack deploys it, with its own role filled in.
    const dir = mkdtempSync(join(tmpdir(), "kms-responder-config-"));
    const file = join(dir, "config.json");
    const example = JSON.parse(readFileSync("config/example.json", "utf8"));
    writeFileSync(
      file,
      JSON.stringify({
        ...example,
        responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE"],
      }),
    );

    // Act
    const { rows } = await triageJson("--config", file, "events/rogue-grant/own-call.json");

    // Assess
    expect(rows).toEqual([
      expect.objectContaining({ incident: "rogue-grant", skipped: "own-call", actions: [] }),
    ]);
  });

  it("shows held actions with the code and why they are held", async () => {
    // Prepare
    const notify = scratchFile("notify.json", JSON.stringify({ mode: "notify" }));

    // Act
    const { rows } = await triageJson("--config", notify, "events/rogue-grant/delegation.json");

    // Assess
    expect(rows[0]?.actions).toEqual([
      expect.objectContaining({
        type: "revoke-grant",
        hold: "notify-mode",
        why: expect.stringContaining("notify"),
      }),
    ]);
  });

  it("reports a finding whose key it cannot tell (no no-key skip), acting on nothing it cannot name", async () => {
    // Prepare: the external grant, naming its key only by an alias (no ARN anywhere in the record).
    const event = JSON.parse(readFileSync("events/rogue-grant/external-grantee.json", "utf8")) as {
      detail: Record<string, unknown> & {
        requestParameters: Record<string, unknown>;
        responseElements: Record<string, unknown>;
      };
    };
    event.detail.requestParameters.keyId = "alias/app-data";
    delete event.detail.responseElements.keyId;
    delete event.detail.resources;
    const file = scratchFile("alias-only.json", JSON.stringify(event));

    // Act
    const { code, rows } = await triageJson(file);

    // Assess
    expect(code).toBe(0);
    expect(rows).toEqual([
      expect.objectContaining({
        incident: "rogue-grant",
        severity: "critical",
        key: "alias/app-data",
        skipped: null,
      }),
    ]);
    // Whatever the decider plans for a key it cannot name is held unknown-key, never performed.
    expect(rows[0]?.actions.filter((a) => a.hold !== "unknown-key")).toEqual([]);
  });
});

describe("triage (human table)", () => {
  it("prints the header, one line per finding and a summary with the counts", async () => {
    // Prepare
    const { rows } = await triageJson("events");
    const findings = rows.filter((r) => r.severity !== null);
    const count = (pred: (r: Row) => boolean) => rows.filter(pred).length;

    // Act
    const { code, out } = await cli("triage", "events");

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^SEVERITY +INCIDENT +ACCOUNT +REGION +WOULD DO +KEY/);
    const shown = out.filter((l) => /^(CRITICAL|HIGH|MEDIUM|LOW|INFO) /.test(l));
    expect(shown).toHaveLength(findings.length);
    // Sorted by severity, most severe first.
    const rank = (l: string) => ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"].indexOf(l.split(" ")[0] ?? "");
    expect(shown.map(rank)).toEqual([...shown.map(rank)].sort((a, b) => a - b));
    // Fits 120 columns and never cuts a value with "~".
    expect(out.filter((l) => l.length > 120)).toEqual([]);
    expect(out.filter((l) => l.includes("~"))).toEqual([]);
    const severities = ["critical", "high", "medium", "low", "info"]
      .map((severity) => [severity, count((r) => r.severity === severity)] as const)
      .filter(([, n]) => n > 0)
      .map(([severity, n]) => `${n} ${severity}`);
    const skips = [...new Set(rows.flatMap((r) => (r.skipped ? [r.skipped] : [])))].map(
      (reason) => `${count((r) => r.skipped === reason)} ${reason}`,
    );
    const summary = `${rows.length} records: ${findings.length} findings (${severities.join(", ")}); skipped: ${skips.join(", ")}`;
    expect(out.slice(out.lastIndexOf("") + 1).join(" ")).toBe(summary);
  });

  it("lists unparseable input in the table and counts it", async () => {
    // Act
    const { out } = await cli("triage", `${CLOUDTRAIL}/broken.json`);

    // Assess
    expect(out).toContainEqual("Could not read (1):");
    expect(out).toContainEqual(expect.stringMatching(/^ {2}test\/fixtures\/cloudtrail\/broken\.json#0: /));
    expect(out.at(-1)).toBe("1 records: 0 findings; skipped: 1 unparseable");
  });

  it("says so when there is nothing to report", async () => {
    // Act
    const { code, out } = await cli("triage", "events/other");

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toBe("No findings.");
    expect(out.at(-1)).toBe("7 records: 0 findings; skipped: 7 no-incident");
  });
});

describe("triage --fail-on", () => {
  it.each([
    ["high", "events/rogue-grant/external-grantee.json", 1],
    ["high", "events/rogue-grant/delegation.json", 1],
    ["high", "events/rogue-grant/unconstrained.json", 0],
    ["low", "events/rogue-grant/unconstrained.json", 1],
    ["critical", "events/rogue-grant/delegation.json", 0],
    ["HIGH", "events/rogue-grant/delegation.json", 1],
    ["high", "events/rogue-grant/failed-call.json", 0],
  ])("--fail-on %s over %s exits %i", async (severity, file, expected) => {
    // Act
    const { code } = await cli("triage", "--json", "--fail-on", severity, file);

    // Assess
    expect(code).toBe(expected);
  });

  it("exits 1 over the whole events/ tree with --fail-on high", async () => {
    // Act
    const { code } = await cli("triage", "--fail-on", "high", "events");

    // Assess
    expect(code).toBe(1);
  });

  it("exits 2 on an unknown severity and names --fail-on", async () => {
    // Act
    const { code, out, err } = await cli("triage", "--fail-on", "nonsense", "events");

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("--fail-on");
    expect(err.join("\n")).toContain("nonsense");
  });
});

describe("triage: bad usage, paths and config exit 2 and say which", () => {
  it("names a path that does not exist", async () => {
    // Act
    const { code, out, err } = await cli("triage", "events/rogue-grant", "events/no-such-dir");

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("events/no-such-dir");
  });

  it("names the field of an invalid config file", async () => {
    // Prepare
    const bad = scratchFile("bad-config.json", JSON.stringify({ afterCancel: "later" }));

    // Act
    const { code, out, err } = await cli("triage", "--config", bad, "events");

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("afterCancel");
    expect(err.join("\n")).toContain(bad);
  });

  it("names an unknown config key", async () => {
    // Prepare
    const bad = scratchFile("typo-config.json", JSON.stringify({ trustedAcounts: [] }));

    // Act
    const { code, err } = await cli("triage", "--config", bad, "events");

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("trustedAcounts");
  });

  it("checks each incident's own options against the registry, naming an unknown one", async () => {
    // Prepare: options only the registry knows (an incident's Lambda checks its own alone).
    const bad = scratchFile(
      "incident-option-config.json",
      JSON.stringify({ incidents: { "key-disabled": { colour: "red" }, "later-incident": {} } }),
    );

    // Act
    const { code, err } = await cli("triage", "--config", bad, "events");

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain(
      `invalid config file ${bad}: unknown field "incidents.key-disabled.colour", "incidents.later-incident"`,
    );
  });

  it("names a config file that cannot be read", async () => {
    // Act
    const { code, err } = await cli("triage", "--config", "config/missing.json", "events");

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("config/missing.json");
  });

  it("exits 2 with one line and a pointer to the command's help when no path is given", async () => {
    // Act
    const { code, err } = await cli("triage", "--json");

    // Assess
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    const [line, pointer, ...more] = (err[0] ?? "").split("\n");
    expect(line).toMatch(/^kms-responder triage: triage needs at least one PATH/);
    expect(pointer).toBe("see kms-responder triage --help");
    expect(more).toEqual([]);
  });

  it("exits 2 on an unknown option", async () => {
    // Act
    const { code, err } = await cli("triage", "--jsn", "events");

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("--jsn");
  });

  it("exits 2 on an unknown command and names it", async () => {
    // Act
    const { code, err } = await cli("triag", "events");

    // Assess
    expect(code).toBe(2);
    expect(err.join("\n")).toContain('"triag"');
  });

  it("exits 2 with the usage on stderr when no command is given", async () => {
    // Act
    const { code, out, err } = await cli();

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("Usage:");
  });
});

describe("the kms-responder bin", () => {
  it("runs triage as a user would, printing parseable JSON lines", async () => {
    // Prepare
    const run = promisify(execFile);
    const expected = readdirSync("events/rogue-grant").filter((f) => f.endsWith(".json")).length;

    // Act
    const { stdout, stderr } = await run(
      process.execPath,
      ["bin/kms-responder.mjs", "triage", "--json", "--config", "config/example.json", "events/rogue-grant"],
      { encoding: "utf8" },
    );

    // Assess (execFile rejects on a non-zero exit, so reaching here means exit 0)
    const rows = stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Row);
    expect(stderr).toBe("");
    expect(rows).toHaveLength(expected);
    for (const row of rows) expectRowShape(row);
    // The shipped example names no responder role: the fixture's role is judged like anyone's.
    expect(rows.find((r) => r.source.file.endsWith("own-call.json"))?.skipped).toBeNull();
  });

  it("exits 2 from the real process on a missing path", async () => {
    // Prepare
    const run = promisify(execFile);

    // Act
    const failure = await run(process.execPath, ["bin/kms-responder.mjs", "triage", "no/such/path"]).then(
      () => undefined,
      (error: unknown) => error as { code?: number; stderr?: string },
    );

    // Assess
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain("no/such/path");
  });
});

describe("triage progress", () => {
  async function progressOf(isTty: boolean, threshold: number): Promise<string> {
    const stderr = new PassThrough();
    let shown = "";
    stderr.on("data", (chunk: Buffer) => {
      shown += chunk.toString("utf8");
    });
    const io = { out: () => undefined, err: () => undefined, isTty, stderr };
    await runTriage(
      {
        input: fileInput(["events/rogue-grant"]),
        config: parseConfig({ mode: "enforce" }),
        json: true,
        all: false,
        failOn: undefined,
        progressThreshold: threshold,
      },
      io,
    );
    return shown;
  }

  it("shows files and records done on stderr when it is a terminal and the input is large", async () => {
    // Act
    const shown = await progressOf(true, 0);

    // Assess: every fixture file holds one record; the bar ends full.
    const files = filesUnder("events/rogue-grant").length;
    expect(shown).toContain(`${files}/${files} files | ${files} records`);
  });

  it("stays silent for small input or when stderr is not a terminal", async () => {
    expect(await progressOf(true, 1024 * 1024 * 1024)).toBe("");
    expect(await progressOf(false, 0)).toBe("");
  });
});

describe("triage correlates a key's records across files, in time order", () => {
  it("an unapproved import in one file, the on-demand rotation in the next: the rotation is critical", async () => {
    // Act
    const { rows } = await triageJson(
      "events/key-material-imported/new-material.json",
      "events/key-material-imported/rotate-on-demand.json",
    );

    // Assess
    expect(rows.map((r) => [r.eventName, r.incident, r.severity, r.reasons])).toEqual([
      ["ImportKeyMaterial", "key-material-imported", "high", ["unapproved-key-material"]],
      ["RotateKeyOnDemand", "key-material-imported", "critical", ["unapproved-key-material-current"]],
    ]);
  });

  it("the rotation alone: no import seen in the run, not an incident", async () => {
    const { rows } = await triageJson("events/key-material-imported/rotate-on-demand.json");
    expect(rows.map((r) => [r.incident, r.skipped])).toEqual([["key-material-imported", "no-incident"]]);
  });
});

describe("triage of an incident without a key", () => {
  it("a custom key store disconnect: the row names the store, no key", async () => {
    const { rows } = await triageJson("events/custom-key-store-changed/disconnect.json");
    expect(rows).toMatchObject([
      {
        incident: "custom-key-store-changed",
        severity: "critical",
        key: null,
        customKeyStore: "cks-1234567890abcdef0",
      },
    ]);
  });

  it("the table shows the store in the key column", async () => {
    const { out } = await cli("triage", "events/custom-key-store-changed/disconnect.json");
    expect(out[1]).toMatch(/^CRITICAL\s+custom-key-store-changed\s.*\sstore cks-1234567890abcdef0$/);
  });
});

describe("triage judges a DeleteKey by the ScheduleKeyDeletion read before it", () => {
  it("approved schedule earlier in the run: info; unapproved: critical", async () => {
    // Prepare
    const config = join(mkdtempSync(join(tmpdir(), "kms-triage-")), "config.json");
    writeFileSync(
      config,
      JSON.stringify({ approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"] }),
    );

    // Act
    const { rows } = await triageJson(
      "--config",
      config,
      "events/key-deletion-scheduled/approved.json",
      "events/key-deletion-scheduled/unapproved.json",
      "events/key-deleted/delete-approved-key.json",
      "events/key-deleted/delete-unapproved-key.json",
    );

    // Assess
    expect(rows.filter((r) => r.incident === "key-deleted").map((r) => [r.severity, r.reasons])).toEqual([
      ["info", ["approved-deletion-completed"]],
      ["critical", ["unapproved-deletion-completed"]],
    ]);
  });
});

describe("triage and preview hold a record whose accounts disagree, as the handler does", () => {
  // Member B's bus forwards a record that claims to be member A's: the envelope was sent by B, the
  // record says it was delivered to A. No real record looks so.
  const forged = () => {
    const event = JSON.parse(readFileSync("events/rogue-grant/external-grantee.json", "utf8"));
    event.account = "444455556666";
    return scratchFile("inconsistent/forwarded-by-b.json", JSON.stringify(event));
  };
  const why =
    "the event was sent by account 444455556666 but the record says it was delivered to 111122223333: not acting on it";

  it("triage --json: held inconsistent-record, every action held with the reason", async () => {
    // Act
    const { rows } = await triageJson(forged(), "events/rogue-grant/external-grantee.json");

    // Assess
    const [held, real] = rows as Array<Row & { held?: string }>;
    expect(held).toMatchObject({ incident: "rogue-grant", held: "inconsistent-record", why });
    expect(held?.actions).toEqual([
      expect.objectContaining({ type: "revoke-grant", hold: "inconsistent-record", why }),
    ]);
    // The same record as CloudTrail really delivers it is judged as usual.
    expect(real).not.toHaveProperty("held");
    expect(real?.actions.every((a) => a.hold === undefined)).toBe(true);
  });

  it("triage (table): would notify only, held", async () => {
    // Prepare: wide enough that the cell does not wrap.
    const columns = process.env.COLUMNS;
    process.env.COLUMNS = "250";

    // Act
    const { out } = await cli("triage", "--config", ENFORCE, forged()).finally(() => {
      if (columns === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = columns;
    });

    // Assess
    expect(out.find((line) => line.startsWith("CRITICAL"))).toContain(
      "notify only (held: inconsistent-record)",
    );
  });

  it("preview: the notification says why nothing would be done and shows the action skipped", async () => {
    // Act
    const { code, out } = await cli("preview", "--json", "--config", ENFORCE, forged());

    // Assess
    expect(code).toBe(0);
    const [preview] = out.map((line) => JSON.parse(line));
    expect(preview.text).toContain(`Not acted on: ${why}`);
    expect(preview.document.verdicts).toContain("inconsistent-record");
    expect(preview.document.actions).toEqual([expect.objectContaining({ status: "skipped" })]);
  });
});
