/**
 * Large files: a file of JSON lines past STREAM_FROM_BYTES (plain, or gzip that expands past it)
 * is read line by line, so triage's memory stays flat however big one file is (bench/run.ts
 * measures it). These tests pin that the streamed reading gives exactly the entries the
 * whole-file reading gives (test/cli/triage.test.ts pins those on small files): same indexes,
 * same values, broken lines reported, a damaged gzip reported after what could be read.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { type RecordEntry, readFileRecords, STREAM_FROM_BYTES } from "../../cli/read-records.js";
import { loadAllEvents } from "../helpers/fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "kms-responder-large-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RECORDS = loadAllEvents().map((f) => f.event.detail);

/** Lines past the streaming threshold: records (with multi-byte text), blank lines, broken lines, CRLF. */
function bigJsonLines(): string[] {
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < STREAM_FROM_BYTES * 1.2; i++) {
    const record = RECORDS[i % RECORDS.length];
    let line: string;
    if (i % 997 === 5) line = "";
    else if (i % 1009 === 7) line = JSON.stringify(record).slice(0, 200);
    else if (i % 503 === 3) line = `${JSON.stringify({ ...record, eventID: `é-🔑-${i}` })}\r`;
    else line = JSON.stringify({ ...record, eventID: `id-${i}` });
    lines.push(line);
    bytes += line.length + 1;
  }
  return lines;
}

/** What the whole-file reader yields for JSON lines (functions/cli/read-records.ts, recordsOfLines). */
function expected(
  file: string,
  lines: readonly string[],
): Array<Pick<RecordEntry, "index"> & { ok: boolean }> {
  const out: Array<Pick<RecordEntry, "index"> & { ok: boolean }> = [];
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      JSON.parse(line);
      out.push({ index, ok: true });
    } catch {
      out.push({ index, ok: false });
    }
  });
  expect(file).toBeTruthy();
  return out;
}

async function read(file: string): Promise<RecordEntry[]> {
  const entries: RecordEntry[] = [];
  for await (const entry of readFileRecords(file)) entries.push(entry);
  return entries;
}

describe("large files are read line by line with the same answers", () => {
  const lines = bigJsonLines();
  const text = `${lines.join("\n")}\n`;

  it("a plain JSON-lines file past the threshold: one entry per non-blank line, same indexes and values", async () => {
    // Prepare
    const file = path.join(dir, "big.jsonl");
    writeFileSync(file, text);

    // Act
    const entries = await read(file);

    // Assess
    expect(entries.map((e) => ({ index: e.index, ok: e.error === undefined }))).toEqual(
      expected(file, lines),
    );
    expect(entries[3]?.value).toEqual(JSON.parse(lines[3] ?? ""));
    const multiByte = entries.find((e) => e.index === 3 + 503);
    expect(multiByte?.value).toMatchObject({ eventID: "é-🔑-506" });
  });

  it("a gzip file that expands past the threshold reads the same", async () => {
    // Prepare
    const file = path.join(dir, "big.jsonl.gz");
    writeFileSync(file, gzipSync(text));

    // Act
    const entries = await read(file);

    // Assess
    expect(entries.map((e) => ({ index: e.index, ok: e.error === undefined }))).toEqual(
      expected(file, lines),
    );
  });

  it("a truncated gzip: the lines before the damage, then the damage reported last", async () => {
    // Prepare
    const gz = gzipSync(text);
    const file = path.join(dir, "truncated.jsonl.gz");
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));

    // Act
    const entries = await read(file);

    // Assess
    const last = entries.at(-1);
    expect(last).toMatchObject({ index: -1, error: expect.stringMatching(/damaged gzip data/) });
    const read_ = entries.slice(0, -1).filter((e) => e.error === undefined);
    expect(read_.length).toBeGreaterThan(1_000);
    const want = expected(file, lines).filter((e) => e.ok);
    expect(read_.map((e) => e.index)).toEqual(want.slice(0, read_.length).map((e) => e.index));
  });

  it('one big {"Records":[...]} document on one line is still read as a CloudTrail file', async () => {
    // Prepare
    const records = Array.from({ length: Math.ceil((STREAM_FROM_BYTES * 1.1) / 1_500) }, (_, i) => ({
      ...RECORDS[i % RECORDS.length],
      eventID: `doc-${i}`,
    }));
    const file = path.join(dir, "big-document.json");
    writeFileSync(file, `${JSON.stringify({ Records: records })}\n`);

    // Act
    const entries = await read(file);

    // Assess
    expect(entries).toHaveLength(records.length);
    expect(entries[records.length - 1]).toMatchObject({
      index: records.length - 1,
      value: { eventID: `doc-${records.length - 1}` },
    });
  });

  it("a large file whose first line is broken falls back to the whole-file reader and keeps the other lines", async () => {
    // Prepare
    const file = path.join(dir, "broken-first.jsonl");
    const broken = ['{"half":', ...lines.slice(1)];
    writeFileSync(file, `${broken.join("\n")}\n`);

    // Act
    const entries = await read(file);

    // Assess
    expect(entries[0]).toMatchObject({ index: 0, error: expect.stringMatching(/line 1 is not JSON/) });
    expect(entries.map((e) => ({ index: e.index, ok: e.error === undefined }))).toEqual(
      expected(file, broken),
    );
  });
});
