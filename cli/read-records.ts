/**
 * Reads every record from the paths given to `triage`: EventBridge events, raw CloudTrail
 * records, CloudTrail log files (`{"Records":[...]}`, optionally gzip, as CloudTrail writes them
 * to S3), JSON arrays, JSON lines, and directories of them (recursively, in name order).
 *
 * A record or file that cannot be parsed is yielded as an entry with `error`: reported, never
 * fatal, and never at the cost of the other records in the run.
 *
 * Memory: one file at a time, and a large file of JSON lines is read line by line, so memory stays
 * flat however large the input grows. (A single huge `{"Records":[...]}` document is still read
 * whole: CloudTrail writes a new file every five minutes, so its files stay small.)
 */
import { createReadStream } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { constants, createGunzip, gunzipSync } from "node:zlib";
import { isObject } from "../functions/shared/json.js";

export interface RecordEntry {
  file: string;
  /** Position of the record in its file (0-based), or of the line for JSON lines. */
  index: number;
  value?: unknown;
  error?: string;
}

const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

/** Every file under a path: the path itself if it is a file, else the data files below it, sorted. */
export async function listFiles(target: string): Promise<string[]> {
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  const entries = await readdir(target, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (entry.isFile() && DATA_FILE.test(entry.name)) files.push(full);
  }
  return files;
}

/**
 * Gunzips when the bytes start with the gzip magic number. A truncated or corrupt stream is
 * decompressed as far as it goes (so complete JSON lines before the damage survive) and the
 * damage is reported.
 */
export function decode(bytes: Buffer): { text: string; damage?: string } {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return { text: bytes.toString("utf8") };
  try {
    return { text: gunzipSync(bytes).toString("utf8") };
  } catch (error) {
    const damage = `damaged gzip data (${error instanceof Error ? error.message : String(error)})`;
    try {
      return { text: gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }).toString("utf8"), damage };
    } catch {
      // Nothing could be salvaged: the damage is reported for the whole file.
      return { text: "", damage };
    }
  }
}

function* recordsOfDocument(file: string, doc: unknown): Generator<RecordEntry> {
  const list = isObject(doc) && Array.isArray(doc.Records) ? doc.Records : Array.isArray(doc) ? doc : [doc];
  for (const [index, value] of list.entries()) yield { file, index, value };
}

function* recordsOfLines(file: string, text: string): Generator<RecordEntry> {
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    try {
      yield { file, index, value: JSON.parse(line) };
    } catch (error) {
      yield {
        file,
        index,
        error: `line ${index + 1} is not JSON (${error instanceof Error ? error.message : String(error)})`,
      };
    }
  }
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/**
 * JSON lines when the first line is a document of its own, or when any unindented line is an
 * object of its own: the broken line may be the first one, and the others must still be read.
 */
function looksLikeJsonLines(text: string): boolean {
  const lines = text.split("\n");
  const first = lines[0]?.trim() ?? "";
  if (first && isJson(first)) return true;
  return lines.some((line) => line.startsWith("{") && isJson(line));
}

/** Records per batch when a large file is read line by line. */
const BATCH = 1024;

/** Files at least this large (as text) are read line by line when they hold JSON lines. */
export const STREAM_FROM_BYTES = 8 * 1024 * 1024;

/** Compression ratio assumed at most for gzip'd JSON when deciding whether to look closer. */
const MAX_GZIP_RATIO = 64;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The file's size as text: for gzip, the uncompressed size its trailer records (ISIZE, modulo
 * 4 GiB; garbage in a truncated file, which then merely picks the other, equally correct, path).
 */
async function textSize(file: string): Promise<{ gzip: boolean; bytes: number }> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    const gzip = size >= 18 && head[0] === 0x1f && head[1] === 0x8b;
    if (!gzip) return { gzip, bytes: size };
    const tail = Buffer.alloc(4);
    await handle.read(tail, 0, 4, size - 4);
    return { gzip, bytes: Math.max(size, tail.readUInt32LE(0)) };
  } finally {
    await handle.close();
  }
}

type Line = { index: number; line: string } | { damage: string };

/**
 * The lines of a file (gunzipped when it is gzip), numbered as `text.split("\n")` numbers them,
 * without holding more than one line. A damaged gzip stream ends the lines where the damage is,
 * the partial line included, and is reported as the last item.
 */
async function* fileLines(file: string, gzip: boolean): AsyncGenerator<Line> {
  let index = 0;
  let pending: string[] = [];
  try {
    const source = createReadStream(file);
    const stream = gzip ? source.pipe(createGunzip()) : source;
    if (stream !== source) {
      source.on("error", (error) => stream.destroy(error));
      stream.on("close", () => source.destroy());
    }
    stream.setEncoding("utf8");
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
        pending.push(chunk.slice(start, nl));
        yield { index: index++, line: pending.join("") };
        pending = [];
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.slice(start));
    }
  } catch (error) {
    yield { index: index++, line: pending.join("") };
    const code = (error as NodeJS.ErrnoException).code ?? "";
    yield {
      damage: code.startsWith("Z_")
        ? `damaged gzip data (${message(error)})`
        : `cannot read file (${message(error)})`,
    };
    return;
  }
  yield { index, line: pending.join("") };
}

/**
 * How a large file starts: JSON lines (a first line that is a JSON document of its own, and more
 * lines after it), one JSON document on one line (read as a document, as the whole-file reader
 * would), or anything else (left to the whole-file reader).
 */
async function largeFileKind(
  file: string,
  gzip: boolean,
): Promise<{ kind: "lines" } | { kind: "document"; value: unknown } | { kind: "other" }> {
  let first: { value: unknown } | undefined;
  for await (const item of fileLines(file, gzip)) {
    if ("damage" in item) return { kind: "other" };
    if (item.line.trim() === "") continue;
    if (first) return { kind: "lines" };
    try {
      first = { value: JSON.parse(item.line) };
    } catch {
      return { kind: "other" };
    }
  }
  return first ? { kind: "document", value: first.value } : { kind: "other" };
}

/** A large file of JSON lines, line by line: the same entries `recordsOfLines` gives, in flat memory. */
async function* streamedLines(file: string, gzip: boolean): AsyncGenerator<RecordEntry> {
  for await (const item of fileLines(file, gzip)) {
    if ("damage" in item) {
      yield { file, index: -1, error: item.damage };
      return;
    }
    if (item.line.trim() === "") continue;
    let entry: RecordEntry;
    try {
      entry = { file, index: item.index, value: JSON.parse(item.line) };
    } catch (error) {
      entry = { file, index: item.index, error: `line ${item.index + 1} is not JSON (${message(error)})` };
    }
    yield entry;
  }
}

/**
 * The records of one file in batches: a whole file's records at once, or up to BATCH records
 * of a file read line by line. Fewer async steps per record than one yield each.
 */
export async function* readFileBatches(file: string): AsyncGenerator<RecordEntry[]> {
  // One stat for the common small file (a CloudTrail delivery is tens of KB): even gzip cannot
  // make it 8 MiB of text. Only larger files pay for a look at the gzip trailer.
  const stored = await stat(file).catch(() => undefined);
  const mayBeLarge = stored !== undefined && stored.size * MAX_GZIP_RATIO >= STREAM_FROM_BYTES;
  const size = mayBeLarge ? await textSize(file).catch(() => undefined) : undefined;
  if (size && size.bytes >= STREAM_FROM_BYTES) {
    const start = await largeFileKind(file, size.gzip);
    if (start.kind === "lines") {
      let batch: RecordEntry[] = [];
      for await (const entry of streamedLines(file, size.gzip)) {
        batch.push(entry);
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      return;
    }
    if (start.kind === "document") {
      yield [...recordsOfDocument(file, start.value)];
      return;
    }
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    yield [
      {
        file,
        index: 0,
        error: `cannot read file (${error instanceof Error ? error.message : String(error)})`,
      },
    ];
    return;
  }
  const { text, damage } = decode(bytes);
  const trimmed = text.trim();
  let parseError: string | undefined;
  if (trimmed !== "") {
    let document: unknown;
    let parsed = false;
    try {
      document = JSON.parse(trimmed);
      parsed = true;
    } catch (error) {
      parseError = error instanceof Error ? error.message : String(error);
    }
    if (parsed) {
      const entries = [...recordsOfDocument(file, document)];
      if (damage) entries.push({ file, index: -1, error: damage });
      yield entries;
      return;
    }
    // Not one JSON document: maybe JSON lines.
    if (looksLikeJsonLines(trimmed)) {
      const entries = [...recordsOfLines(file, text)];
      if (damage) entries.push({ file, index: -1, error: damage });
      yield entries;
      return;
    }
  }
  yield [
    { file, index: 0, error: damage ?? (trimmed === "" ? "empty file" : `not valid JSON (${parseError})`) },
  ];
}

/** The records of one file, one by one. */
export async function* readFileRecords(file: string): AsyncGenerator<RecordEntry> {
  for await (const batch of readFileBatches(file)) yield* batch;
}

/** The records of every path, in order, in batches (see readFileBatches). Paths must exist (checked by the caller). */
export async function* readRecordBatches(paths: readonly string[]): AsyncGenerator<RecordEntry[]> {
  for (const target of paths) {
    for (const file of await listFiles(target)) yield* readFileBatches(file);
  }
}

/** The records of every path, in order, one by one. */
export async function* readRecords(paths: readonly string[]): AsyncGenerator<RecordEntry> {
  for await (const batch of readRecordBatches(paths)) yield* batch;
}
