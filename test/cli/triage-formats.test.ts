/**
 * The on-call exports triage reads besides log files: `aws cloudtrail lookup-events` output, JSON
 * lines whose lines are whole log files, standard input, and a log file too large to hold (read by
 * the same streaming parser as an S3 object).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../cli/main.js";
import { type RecordEntry, readRecords, STREAM_FROM_BYTES } from "../../cli/read-records.js";
import { BIN, spawn } from "./spawn.js";

const LOG_FILE = "test/fixtures/cloudtrail/111122223333_CloudTrail_us-east-1_20261128T1830Z_abcd.json";
const LOG = JSON.parse(readFileSync(LOG_FILE, "utf8")) as { Records: Array<Record<string, unknown>> };
const NAMES = LOG.Records.map((r) => r.eventName);

interface Row {
  eventName: string | null;
  source: { file: string; index: number };
  incident?: string | null;
  skipped: string | null;
  why?: string | null;
}

const scratch = mkdtempSync(join(tmpdir(), "kms-responder-formats-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function triageJson(...paths: string[]): Promise<{ code: number; rows: Row[] }> {
  const out: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: () => undefined, isTty: false };
  const code = await main(["triage", "--json", ...paths], io);
  return { code, rows: out.map((line) => JSON.parse(line) as Row) };
}

async function entriesOf(file: string): Promise<RecordEntry[]> {
  const entries: RecordEntry[] = [];
  for await (const entry of readRecords([file])) entries.push(entry);
  return entries;
}

/** lookup-events output as the CLI prints it: each record a JSON string, beside the fields it lifts out. */
function lookupEvents(records: Array<Record<string, unknown>>): string {
  const Events = records.map((r) => ({
    EventId: r.eventID,
    EventName: r.eventName,
    ReadOnly: "false",
    EventTime: "2026-11-28T18:30:02+00:00",
    EventSource: r.eventSource,
    Username: "someone",
    Resources: [],
    CloudTrailEvent: JSON.stringify(r),
  }));
  return JSON.stringify({ Events, NextToken: "eyJ2IjoiMiJ9" }, null, 4);
}

describe("triage reads lookup-events output", () => {
  it("judges each event's CloudTrailEvent as the record it is", async () => {
    const file = join(scratch, "lookup.json");
    writeFileSync(file, lookupEvents(LOG.Records));

    const { code, rows } = await triageJson(file);

    expect(code).toBe(0);
    expect(rows.map((r) => r.eventName)).toEqual(NAMES);
    expect(rows.map((r) => r.source.index)).toEqual(NAMES.map((_, i) => i));
    // The same judgement as the log file itself gives.
    const direct = await triageJson(LOG_FILE);
    expect(rows.map((r) => [r.incident, r.skipped])).toEqual(direct.rows.map((r) => [r.incident, r.skipped]));
    expect(rows.some((r) => r.incident === "rogue-grant")).toBe(true);
  });

  it("reports an event without a CloudTrailEvent string, and one that is not JSON, and reads the others", async () => {
    const file = join(scratch, "lookup-odd.json");
    const good = JSON.parse(lookupEvents(LOG.Records.slice(2, 3))).Events[0];
    writeFileSync(
      file,
      JSON.stringify({ Events: [{ EventId: "x" }, { CloudTrailEvent: "{not json" }, good] }),
    );

    const entries = await entriesOf(file);

    expect(entries.map((e) => e.error ?? "ok")).toEqual([
      "event 0 of the lookup-events output has no CloudTrailEvent string",
      expect.stringContaining("event 1's CloudTrailEvent is not JSON"),
      "ok",
    ]);
    expect(entries[2]?.value).toEqual(LOG.Records[2]);
  });
});

describe("triage reads JSON lines whose lines are whole log files", () => {
  it("reads every record of every line, numbered on through the file", async () => {
    const first = { Records: LOG.Records.slice(0, 3) };
    const second = { Records: LOG.Records.slice(3) };
    const file = join(scratch, "logs.jsonl");
    writeFileSync(file, `${JSON.stringify(first)}\n${JSON.stringify(second)}\n`);

    const { code, rows } = await triageJson(file);

    expect(code).toBe(0);
    expect(rows.map((r) => r.eventName)).toEqual(NAMES);
    expect(rows.map((r) => r.source.index)).toEqual(NAMES.map((_, i) => i));
  });

  it("does the same for a large file read line by line", async () => {
    const line = JSON.stringify(LOG);
    const lines = Math.ceil(STREAM_FROM_BYTES / line.length) + 1;
    const file = join(scratch, "large-logs.jsonl.gz");
    writeFileSync(file, gzipSync(`${line}\n`.repeat(lines)));

    const entries = await entriesOf(file);

    expect(entries).toHaveLength(lines * LOG.Records.length);
    expect(entries.every((e) => e.error === undefined)).toBe(true);
    expect(entries.at(-1)?.index).toBe(lines * LOG.Records.length - 1);
    expect(entries.map((e) => (e.value as { eventName: string }).eventName).slice(0, NAMES.length)).toEqual(
      NAMES,
    );
  });
});

describe("a large CloudTrail log file", () => {
  it("is streamed through the log-file parser: every record, KMS records whole, others summarised", async () => {
    const perRecord = JSON.stringify(LOG).length / LOG.Records.length;
    const records: Array<Record<string, unknown>> = Array.from(
      { length: Math.ceil((STREAM_FROM_BYTES * 1.5) / perRecord) },
      (_, i) => ({ ...LOG.Records[i % LOG.Records.length], eventID: `id-${i}` }),
    );
    const file = join(scratch, "big.json.gz");
    const text = JSON.stringify({ Records: records });
    expect(text.length).toBeGreaterThan(STREAM_FROM_BYTES);
    writeFileSync(file, gzipSync(text));

    const entries = await entriesOf(file);

    expect(entries).toHaveLength(records.length);
    expect(entries.map((e) => e.index)).toEqual(records.map((_, i) => i));
    const kms = records.findIndex((r) => r.eventSource === "kms.amazonaws.com");
    const other = records.findIndex((r) => r.eventSource !== "kms.amazonaws.com");
    const otherRecord = records[other] ?? {};
    expect(entries[kms]?.value).toEqual(records[kms]);
    expect(entries[other]?.value).toEqual({
      eventSource: otherRecord.eventSource,
      eventName: otherRecord.eventName,
      eventID: otherRecord.eventID,
    });
  });
});

describe("triage - reads standard input", () => {
  it("reads a log file piped in, gzip or not", async () => {
    const gz = join(scratch, "piped.json.gz");
    writeFileSync(gz, gzipSync(readFileSync(LOG_FILE)));
    for (const input of [LOG_FILE, gz]) {
      const { code, stdout } = await spawn([], {}, ["sh", "-c", `node ${BIN} triage --json - < ${input}`]);
      const rows = stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Row);
      expect(code).toBe(0);
      expect(rows.map((r) => r.eventName)).toEqual(NAMES);
      expect(rows.every((r) => r.source.file === "stdin")).toBe(true);
    }
  });

  it("reads lookup-events output piped in (aws cloudtrail lookup-events | kms-responder triage -)", async () => {
    const file = join(scratch, "lookup-piped.json");
    writeFileSync(file, lookupEvents(LOG.Records));
    const { code, stdout } = await spawn([], {}, ["sh", "-c", `node ${BIN} triage --json - < ${file}`]);
    expect(code).toBe(0);
    expect(
      stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as Row).eventName),
    ).toEqual(NAMES);
  });
});
