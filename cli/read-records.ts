/**
 * Reads every record from the paths given to `triage`: EventBridge events, raw CloudTrail
 * records, CloudTrail log files (`{"Records":[...]}`, optionally gzip, as CloudTrail writes them
 * to S3), `aws cloudtrail lookup-events` output (`{"Events":[{"CloudTrailEvent":"<json>"}]}`), JSON
 * arrays, JSON lines (a line may be a record, an event or a whole log file), directories of them
 * (recursively, in name order), and `-` (stdin).
 *
 * A CloudTrail log file, whatever its size, is read by the same parser as an S3 object
 * (sources/log-stream.ts): streamed through gunzip, one record at a time, and only KMS records are
 * given to JSON.parse.
 *
 * A record or file that cannot be parsed is yielded as an entry with `error`: reported, never
 * fatal, and never at the cost of the other records in the run.
 *
 * Memory: one file at a time, and a large file of JSON lines is read line by line, so memory stays
 * flat however large the input grows. No record (a line, or a whole-file document) is held past
 * MAX_RECORD_CHARS: a bigger one is reported as unreadable and skipped, and the run goes on (a `.gz`
 * holding one 600 MiB line would otherwise end the whole run with "Invalid string length").
 *
 * Directories are walked recursively in name order; symbolic links are followed (a link to a
 * directory already being walked is not walked again), and a broken link is reported.
 *
 * Where triage's records come from is this module's `RecordSource`: an async iterable of batches of
 * entries. Another source (an S3 bucket, an Athena query) is another function returning one.
 */
import { createReadStream, type Dirent, readFileSync, statSync } from "node:fs";
import { open, readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { constants, createGunzip, gunzipSync } from "node:zlib";
import { isObject } from "../functions/shared/json.js";
import { GUNZIP_CHUNK, logFileBatches, type RecordEntry, startsLikeLogFile } from "./sources/log-stream.js";

// The entry type lives with the log-file parser, which makes entries too (and imports nothing from here).
export type { RecordEntry };

/** The path that means standard input. */
export const STDIN = "-";

export const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

/** Where triage reads records from: batches of entries, in order (see readRecordBatches). */
export type RecordSource = AsyncIterable<RecordEntry[]>;

/** The data files under the paths given, and how many other files the directories held. */
export interface InputListing {
  files: string[];
  /** Files in directories that are not data files by name (`.txt`, ...): not read. */
  ignored: number;
}

/**
 * Every file under a path: the path itself if it is a file (whatever its name), else the data
 * files below it, sorted. Symbolic links are followed; a directory reached twice (a link loop) is
 * walked once. A broken link named like a data file is listed, so reading it reports it.
 */
export async function listInput(target: string, seen = new Set<string>()): Promise<InputListing> {
  if (target === STDIN) return { files: [STDIN], ignored: 0 };
  const info = await stat(target);
  if (!info.isDirectory()) return { files: [target], ignored: 0 };
  const real = await realpath(target);
  if (seen.has(real)) return { files: [], ignored: 0 };
  seen.add(real);
  const entries = await readdir(target, { withFileTypes: true });
  const out: InputListing = { files: [], ignored: 0 };
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(target, entry.name);
    const kind = await entryKind(entry, full);
    if (kind === "dir") {
      const below = await listInput(full, seen);
      out.files.push(...below.files);
      out.ignored += below.ignored;
    } else if ((kind === "file" || kind === "broken") && DATA_FILE.test(entry.name)) out.files.push(full);
    else if (kind === "file") out.ignored++;
  }
  return out;
}

/** What a directory entry is, a symbolic link followed: "broken" when its target is missing. */
async function entryKind(entry: Dirent, full: string): Promise<"dir" | "file" | "broken" | "other"> {
  if (!entry.isSymbolicLink()) return entry.isDirectory() ? "dir" : entry.isFile() ? "file" : "other";
  const followed = await stat(full).catch(() => undefined);
  if (followed === undefined) return "broken";
  return followed.isDirectory() ? "dir" : followed.isFile() ? "file" : "other";
}

/** The data files under a path (see listInput). */
export async function listFiles(target: string): Promise<string[]> {
  return (await listInput(target)).files;
}

/** The largest record (a line, or a file read as one document) read, in characters of text. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

const MIB = 1024 * 1024;

/**
 * Gunzips when the bytes start with the gzip magic number, to at most `maxText` bytes (`tooLarge`
 * past it: the caller streams the file instead). A truncated or corrupt stream is decompressed as
 * far as it goes (so complete JSON lines before the damage survive) and the damage is reported.
 */
export function decode(
  bytes: Buffer,
  maxText = MAX_RECORD_CHARS,
): { text: string; damage?: string; tooLarge?: true } {
  const { data, damage, tooLarge: large } = decodeBytes(bytes, maxText);
  return large
    ? { text: "", tooLarge: true }
    : { text: data.toString("utf8"), ...(damage ? { damage } : {}) };
}

/** As `decode`, but the text stays bytes (a CloudTrail log file is decoded a piece at a time). */
function decodeBytes(bytes: Buffer, maxText: number): { data: Buffer; damage?: string; tooLarge?: true } {
  const none = Buffer.alloc(0);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    if (bytes.length > maxText) return { data: none, tooLarge: true };
    return { data: bytes };
  }
  try {
    return { data: gunzipSync(bytes, { maxOutputLength: maxText }) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE")
      return { data: none, tooLarge: true };
    const damage = `damaged gzip data (${message(error)})`;
    try {
      return {
        data: gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: maxText }),
        damage,
      };
    } catch {
      // Nothing could be salvaged: the damage is reported for the whole file.
      return { data: none, damage };
    }
  }
}

/** `aws cloudtrail lookup-events` output: `{"Events":[{"CloudTrailEvent":"<the record as JSON>", ...}]}`. */
function isLookupEvents(doc: unknown): doc is { Events: unknown[] } {
  return isObject(doc) && Array.isArray(doc.Events) && doc.detail === undefined;
}

/** One element of lookup-events output: its CloudTrailEvent, parsed. */
function lookupEvent(file: string, index: number, event: unknown): RecordEntry {
  const text = isObject(event) ? event.CloudTrailEvent : undefined;
  if (typeof text !== "string")
    return { file, index, error: `event ${index} of the lookup-events output has no CloudTrailEvent string` };
  try {
    return { file, index, value: JSON.parse(text) };
  } catch (error) {
    return { file, index, error: `event ${index}'s CloudTrailEvent is not JSON (${message(error)})` };
  }
}

/** Whether a document holds many records: a log file or lookup-events output. */
function holdsRecords(doc: unknown): boolean {
  return (isObject(doc) && Array.isArray(doc.Records)) || isLookupEvents(doc);
}

/** The records of one parsed document, numbered from `first`. */
function* recordsOfDocument(file: string, doc: unknown, first = 0): Generator<RecordEntry> {
  if (isLookupEvents(doc)) {
    for (const [i, event] of doc.Events.entries()) yield lookupEvent(file, first + i, event);
    return;
  }
  const list = isObject(doc) && Array.isArray(doc.Records) ? doc.Records : Array.isArray(doc) ? doc : [doc];
  for (const [i, value] of list.entries()) yield { file, index: first + i, value };
}

/**
 * The entries of one parsed JSON line: the record itself, or the records of a whole log file (or
 * lookup-events output) on one line, numbered on from `expanded.count`.
 */
function* recordsOfLine(
  file: string,
  index: number,
  value: unknown,
  expanded: { count: number },
): Generator<RecordEntry> {
  if (!holdsRecords(value)) {
    yield { file, index, value };
    return;
  }
  for (const entry of recordsOfDocument(file, value, expanded.count)) {
    expanded.count++;
    yield entry;
  }
}

function* recordsOfLines(file: string, text: string): Generator<RecordEntry> {
  const lines = text.split("\n");
  const expanded = { count: 0 };
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      yield {
        file,
        index,
        error: `line ${index + 1} is not JSON (${error instanceof Error ? error.message : String(error)})`,
      };
      continue;
    }
    yield* recordsOfLine(file, index, value, expanded);
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

type Line = { index: number; line: string } | { index: number; oversized: number } | { damage: string };

/**
 * The lines of a file (gunzipped when it is gzip), numbered as `text.split("\n")` numbers them,
 * without holding more than one line, and never more than MAX_RECORD_CHARS of it: a longer line is
 * dropped as it streams by and reported (`oversized`: its length). A damaged gzip stream ends the
 * lines where the damage is, the partial line included, and is reported as the last item.
 */
async function* fileLines(file: string, gzip: boolean): AsyncGenerator<Line> {
  let index = 0;
  let pending: string[] = [];
  let pendingSize = 0;
  // The length of the line being dropped, once it has gone past the cap (0: not dropping).
  let dropped = 0;
  const finish = (): Line => {
    const item: Line = dropped > 0 ? { index, oversized: dropped } : { index, line: pending.join("") };
    index++;
    pending = [];
    pendingSize = 0;
    dropped = 0;
    return item;
  };
  const keep = (piece: string) => {
    if (dropped > 0) {
      dropped += piece.length;
      return;
    }
    pendingSize += piece.length;
    if (pendingSize > MAX_RECORD_CHARS) {
      dropped = pendingSize;
      pending = [];
      return;
    }
    pending.push(piece);
  };
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
        keep(chunk.slice(start, nl));
        yield finish();
        start = nl + 1;
      }
      if (start < chunk.length) keep(chunk.slice(start));
    }
  } catch (error) {
    yield finish();
    const code = (error as NodeJS.ErrnoException).code ?? "";
    yield {
      damage: code.startsWith("Z_")
        ? `damaged gzip data (${message(error)})`
        : `cannot read file (${message(error)})`,
    };
    return;
  }
  yield finish();
}

function tooLarge(what: string, chars: number): string {
  return `${what} is ${(chars / MIB).toFixed(0)} MiB, more than the ${MAX_RECORD_CHARS / MIB} MiB a record may be: skipped`;
}

/** Lines looked at to tell JSON lines from one multi-line document in a large file. */
const SNIFF_LINES = 1000;

/**
 * How a large file starts: JSON lines (a first line that is a JSON document of its own and more
 * lines after it, a first line too large to hold, or an unindented JSON object on a line of its own
 * among the first lines while the first is broken), one JSON document on one line (read as a
 * document, as the whole-file reader would), or anything else (one multi-line document).
 */
async function largeFileKind(
  file: string,
  gzip: boolean,
): Promise<{ kind: "lines" } | { kind: "document"; value: unknown } | { kind: "other" }> {
  let first: { value: unknown } | "broken" | undefined;
  let looked = 0;
  for await (const item of fileLines(file, gzip)) {
    if ("damage" in item) break;
    if ("oversized" in item) return { kind: "lines" };
    if (item.line.trim() === "") continue;
    if (typeof first === "object") return { kind: "lines" };
    if (first === "broken") {
      if (item.line.startsWith("{") && isJson(item.line)) return { kind: "lines" };
      if (++looked >= SNIFF_LINES) break;
      continue;
    }
    first = parsedOrBroken(item.line);
  }
  return typeof first === "object" ? { kind: "document", value: first.value } : { kind: "other" };
}

function parsedOrBroken(line: string): { value: unknown } | "broken" {
  try {
    return { value: JSON.parse(line) };
  } catch {
    return "broken";
  }
}

/** A large file of JSON lines, line by line: the same entries `recordsOfLines` gives, in flat memory. */
async function* streamedLines(file: string, gzip: boolean): AsyncGenerator<RecordEntry> {
  const expanded = { count: 0 };
  for await (const item of fileLines(file, gzip)) {
    if ("damage" in item) {
      yield { file, index: -1, error: item.damage };
      return;
    }
    if ("oversized" in item) {
      yield { file, index: item.index, error: tooLarge(`line ${item.index + 1}`, item.oversized) };
      continue;
    }
    if (item.line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(item.line);
    } catch (error) {
      yield { file, index: item.index, error: `line ${item.index + 1} is not JSON (${message(error)})` };
      continue;
    }
    yield* recordsOfLine(file, item.index, value, expanded);
  }
}

/**
 * The records of one file in batches: a whole file's records at once, or up to BATCH records
 * of a file read line by line. Fewer async steps per record than one yield each.
 */
export async function* readFileBatches(file: string, blocking = false): AsyncGenerator<RecordEntry[]> {
  yield* loadedBatches(file, (blocking && loadNow(file)) || (await load(file)));
}

/** A file as `load` found it: its bytes (small), its size as text (large), or why it cannot be read. */
type Loaded =
  | { kind: "stdin" }
  | { kind: "bytes"; bytes: Buffer }
  | { kind: "large"; gzip: boolean; textBytes: number }
  | { kind: "error"; error: string };

/**
 * Whether a file of this size on disk may hold STREAM_FROM_BYTES of text: the common small file (a
 * CloudTrail delivery is tens of KB) cannot, even gzip'd. Only larger files pay for a look at the
 * gzip trailer.
 */
const mayBeLarge = (stored: { size: number } | undefined) =>
  stored !== undefined && stored.size * MAX_GZIP_RATIO >= STREAM_FROM_BYTES;

/**
 * Looks at a file and, when it is small, reads it. Never rejects, so a load started ahead of time
 * (readRecordBatches reads the next file while triage works on this one) cannot go unhandled.
 */
async function load(file: string): Promise<Loaded> {
  if (file === STDIN) return { kind: "stdin" };
  const stored = await stat(file).catch(() => undefined);
  const size = mayBeLarge(stored) ? await textSize(file).catch(() => undefined) : undefined;
  if (size && size.bytes >= STREAM_FROM_BYTES)
    return { kind: "large", gzip: size.gzip, textBytes: size.bytes };
  try {
    return { kind: "bytes", bytes: await readFile(file) };
  } catch (error) {
    return { kind: "error", error: `cannot read file (${message(error)})` };
  }
}

/**
 * `load`, blocking, for a small file (undefined for any other: `load` looks at it): for a thread
 * that only reads (read-worker.ts), where each step of an asynchronous read is a round trip through
 * the thread pool and back that costs more than the read.
 */
function loadNow(file: string): Loaded | undefined {
  if (file === STDIN) return undefined;
  let stored: { size: number };
  try {
    stored = statSync(file);
  } catch {
    // `load` says why it cannot be read.
    return undefined;
  }
  if (mayBeLarge(stored)) return undefined;
  try {
    return { kind: "bytes", bytes: readFileSync(file) };
  } catch (error) {
    return { kind: "error", error: `cannot read file (${message(error)})` };
  }
}

/** The records of a file `load` looked at. */
async function* loadedBatches(file: string, loaded: Loaded): AsyncGenerator<RecordEntry[]> {
  if (loaded.kind === "stdin") {
    yield* stdinBatches();
    return;
  }
  if (loaded.kind === "error") {
    yield [{ file, index: 0, error: loaded.error }];
    return;
  }
  if (loaded.kind === "large") {
    yield* largeFileBatches(file, loaded.gzip, loaded.textBytes);
    return;
  }
  const { bytes } = loaded;
  // The gzip trailer records the size modulo 4 GiB: a file that expands past the threshold after
  // all is streamed like any large file.
  const { data, damage, tooLarge: large } = decodeBytes(bytes, STREAM_FROM_BYTES);
  if (large) {
    yield* largeFileBatches(file, bytes[0] === 0x1f && bytes[1] === 0x8b, STREAM_FROM_BYTES);
    return;
  }
  // A log file goes to the parser as bytes, decoded 64 KiB at a time: one string of a whole
  // file (hundreds of KiB) is allocated outside V8's young generation and cost more than parsing.
  if (startsLikeLogFile(data.subarray(0, LOG_SNIFF_CHARS).toString("utf8"))) {
    yield* logFileBatches(file, [data], { records: 0 }, damage);
    return;
  }
  yield* textBatches(file, data.toString("utf8"), damage);
}

/** How standard input is named in triage's output. */
const STDIN_NAME = "stdin";

/**
 * Standard input, read whole (up to MAX_RECORD_CHARS) and then read as a file would be: a pipe
 * cannot be looked at twice, as a large file is to choose how to stream it.
 */
async function* stdinBatches(): AsyncGenerator<RecordEntry[]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_RECORD_CHARS) {
      process.stdin.destroy();
      yield [
        {
          file: STDIN_NAME,
          index: 0,
          error: `${tooLarge("stdin", size)}; save it to a file and triage the file`,
        },
      ];
      return;
    }
    chunks.push(bytes);
  }
  const { text, damage, tooLarge: large } = decode(Buffer.concat(chunks));
  if (large) {
    yield [{ file: STDIN_NAME, index: 0, error: tooLarge("stdin (gunzipped)", MAX_RECORD_CHARS + 1) }];
    return;
  }
  yield* textBatches(STDIN_NAME, text, damage);
}

/** The records of a file's whole text (gunzipped, `damage` said of it): a log file, a document, or JSON lines. */
async function* textBatches(
  file: string,
  text: string,
  damage: string | undefined,
): AsyncGenerator<RecordEntry[]> {
  if (startsLikeLogFile(text.slice(0, LOG_SNIFF_CHARS))) {
    yield* logFileBatches(file, [text], { records: 0 }, damage);
    return;
  }
  const trimmed = text.trim();
  let parseError: string | undefined;
  if (trimmed !== "") {
    let document: unknown;
    let parsed = false;
    try {
      document = JSON.parse(trimmed);
      parsed = true;
    } catch (error) {
      parseError = message(error);
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

/** Characters looked at to tell a CloudTrail log file (`{"Records":[`, spaces allowed). */
const LOG_SNIFF_CHARS = 256;

/** Whether a file's text starts like a CloudTrail log file: its first bytes, gunzipped when gzip. */
async function isLogFile(file: string, gzip: boolean): Promise<boolean> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    let text: Buffer;
    try {
      const bytes = head.subarray(0, bytesRead);
      text = gzip ? gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }) : bytes;
    } catch {
      return false;
    }
    return startsLikeLogFile(text.subarray(0, LOG_SNIFF_CHARS).toString("utf8"));
  } finally {
    await handle.close();
  }
}

/** A large CloudTrail log file, streamed through gunzip into the log-file parser. */
async function* streamedLogFile(file: string, gzip: boolean): AsyncGenerator<RecordEntry[]> {
  const source = createReadStream(file, { highWaterMark: GUNZIP_CHUNK });
  const stream = gzip ? source.pipe(createGunzip({ chunkSize: GUNZIP_CHUNK })) : source;
  if (stream !== source) source.on("error", (error) => stream.destroy(error));
  const read = { records: 0 };
  try {
    yield* logFileBatches(file, stream as AsyncIterable<Buffer>, read);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const what = code.startsWith("Z_") ? "damaged gzip data" : "cannot read file";
    yield [{ file, index: read.records ? -1 : 0, error: `${what} (${message(error)})` }];
  } finally {
    source.destroy();
  }
}

/** A large file of JSON lines in batches of BATCH entries (see streamedLines). */
async function* streamedLineBatches(file: string, gzip: boolean): AsyncGenerator<RecordEntry[]> {
  let batch: RecordEntry[] = [];
  for await (const entry of streamedLines(file, gzip)) {
    batch.push(entry);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** A file of at least STREAM_FROM_BYTES of text, in batches, never holding more than one record. */
async function* largeFileBatches(
  file: string,
  gzip: boolean,
  textBytes: number,
): AsyncGenerator<RecordEntry[]> {
  if (await isLogFile(file, gzip)) {
    yield* streamedLogFile(file, gzip);
    return;
  }
  const start = await largeFileKind(file, gzip);
  if (start.kind === "document") {
    yield [...recordsOfDocument(file, start.value)];
    return;
  }
  if (start.kind === "lines") {
    yield* streamedLineBatches(file, gzip);
    return;
  }
  // One document over several lines (or not JSON at all): read whole, when it is small enough.
  let bytes: Buffer;
  try {
    bytes = textBytes <= MAX_RECORD_CHARS || gzip ? await readFile(file) : Buffer.alloc(0);
  } catch (error) {
    yield [{ file, index: 0, error: `cannot read file (${message(error)})` }];
    return;
  }
  if (bytes.length === 0 && textBytes > 0) {
    yield [{ file, index: 0, error: tooLarge("the file (one JSON document)", textBytes) }];
    return;
  }
  const { text, damage, tooLarge: large } = decode(bytes);
  if (large) {
    yield [
      {
        file,
        index: 0,
        error: tooLarge("the file (one JSON document)", Math.max(textBytes, MAX_RECORD_CHARS + 1)),
      },
    ];
    return;
  }
  const trimmed = text.trim();
  try {
    const entries = [...recordsOfDocument(file, JSON.parse(trimmed))];
    if (damage) entries.push({ file, index: -1, error: damage });
    yield entries;
  } catch (error) {
    if (looksLikeJsonLines(trimmed)) {
      const entries = [...recordsOfLines(file, text)];
      if (damage) entries.push({ file, index: -1, error: damage });
      yield entries;
      return;
    }
    yield [{ file, index: 0, error: damage ?? `not valid JSON (${message(error)})` }];
  }
}

/** The records of one file, one by one. */
export async function* readFileRecords(file: string): AsyncGenerator<RecordEntry> {
  for await (const batch of readFileBatches(file)) yield* batch;
}

/**
 * Another way to read a run's files (parallel-read.ts reads many on a second thread), or undefined
 * to read them here.
 */
export type FilesReader = (files: readonly string[]) => RecordSource | undefined;

/**
 * The records of every path, in order, in batches (see readFileBatches): triage's file source.
 * Paths must exist (checked by the caller). `listed` is told each path's listing before any file is
 * read; `reader` may take the files of the whole run.
 */
export async function* readRecordBatches(
  paths: readonly string[],
  listed?: (listing: InputListing) => void,
  reader?: FilesReader,
): RecordSource {
  const files: string[] = [];
  for (const target of paths) {
    const listing = await listInput(target);
    listed?.(listing);
    files.push(...listing.files);
  }
  const elsewhere = reader?.(files);
  if (elsewhere) {
    yield* elsewhere;
    return;
  }
  // The next file is looked at and read while this one's records are triaged: with thousands of
  // small files, waiting for each read in turn left the process idle a third of the time.
  let next = files[0] === undefined ? undefined : load(files[0]);
  for (let i = 0; i < files.length && next; i++) {
    const loaded = await next;
    const following = files[i + 1];
    next = following === undefined ? undefined : load(following);
    yield* loadedBatches(files[i] ?? "", loaded);
  }
}

/** The records of every path, in order, one by one. */
export async function* readRecords(paths: readonly string[]): AsyncGenerator<RecordEntry> {
  for await (const batch of readRecordBatches(paths)) yield* batch;
}
