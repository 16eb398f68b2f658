/**
 * An incremental reader of a CloudTrail log file's text (`{"Records":[{...},{...}]}`, or a bare
 * array of records): fed the text chunk by chunk as gunzip produces it, it hands over one record at
 * a time, so an object is never held whole in memory (only the record being read). A small file
 * (PARSE_WHOLE_BYTES) is parsed whole instead, and the scanner reads only what JSON.parse refuses.
 *
 * Most of an organisation's trail is other services. A record's top-level `eventSource` is noted
 * while scanning; only KMS records (and records without a source, which the normaliser judges) are
 * given to JSON.parse. Any other record becomes `{eventSource, eventName, eventID}`: all that triage
 * reports about a record of another service.
 *
 * The scanner is not a validator: it finds record boundaries by nesting depth outside strings. A KMS
 * record that is not JSON fails JSON.parse and is reported; a file that is not a log file at all, or
 * ends inside a record, is reported when it ends.
 *
 * This is triage's one CloudTrail log-file parser: `logFileBatches` reads a log file's bytes (an S3
 * object's body, a local file's stream) through it, for `triage s3://...` and for local files alike.
 */
import { StringDecoder } from "node:string_decoder";
import { INCIDENTS } from "../../functions/registry.js";
import { watchedSources } from "../../functions/shared/route.js";

/** One record read from an input (a file, an S3 object, stdin), or why it could not be. */
export interface RecordEntry {
  file: string;
  /**
   * Position of the record in its file (0-based), or of the line for JSON lines; the records of a
   * JSON line that holds a whole log file (or lookup-events output) are numbered on from the
   * records of such lines before it.
   */
  index: number;
  value?: unknown;
  error?: string;
  /**
   * The record's triage, made where it was read (a triage thread, parallel-read.ts): its row's JSON
   * line, its skipped code and severity (`""` for none). `value` is then not set, and `index` is -1:
   * the line holds the record's place.
   */
  answered?: { line: string; skipped: string; severity: string };
}

export type ScannedRecord = { index: number; value: unknown } | { index: number; error: string };

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COLON = 58;
const COMMA = 44;
const BOM = 0xfeff;

/** The sources whose records are parsed whole: those some incident handles (KMS, and what the responder depends on). */
export const WATCHED = watchedSources(INCIDENTS);
/** The top-level fields kept of a record of a service no incident watches. */
const KEPT = ["eventSource", "eventName", "eventID"];
/** Their lengths: a key of another length is not noted at all. */
const KEPT_LENGTHS = new Set(KEPT.map((key) => key.length));

/**
 * A kept field's value as its own string. A slice of the chunk would be a view that keeps the whole
 * chunk (hundreds of KiB) alive as long as the record is: copying the few characters lets each
 * chunk die young (measured: a third less garbage-collection time over the bench's export).
 */
function jsonString(raw: string): string {
  if (!raw.includes("\\")) return ` ${raw}`.slice(1);
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * The closing quote of the string whose text starts at `from`: the next quote not escaped by an odd
 * run of backslashes, or -1 when the string goes on past the chunk.
 */
function closingQuote(chunk: string, from: number): number {
  let q = chunk.indexOf('"', from);
  while (q !== -1) {
    let k = q - 1;
    while (k >= from && chunk.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) break;
    q = chunk.indexOf('"', q + 1);
  }
  return q;
}

/**
 * Whether a chunk that ends inside a string (whose text starts at `from`) ends in an odd run of
 * backslashes: the next chunk's first character is then escaped.
 */
function endsEscaped(chunk: string, from: number): boolean {
  const n = chunk.length;
  let k = n - 1;
  while (k >= from && chunk.charCodeAt(k) === BACKSLASH) k--;
  return (n - 1 - k) % 2 === 1;
}

export class LogScanner {
  /** `watched`: the event sources whose records are parsed whole (the others keep KEPT only). */
  constructor(private readonly watched: ReadonlySet<string> = WATCHED) {}
  /** Nesting depth outside strings: 1 inside the document's top object (or array). */
  private depth = 0;
  private inString = false;
  /** The next character is escaped (a backslash ended the previous chunk inside a string). */
  private escaped = false;
  /** Depth of the records array's elements' parent (1: a bare array; 2: `{"Records":[`); 0 until found. */
  private recordsDepth = 0;
  private recordsClosed = false;
  /** A document that does not start like a log file: nothing more is read. */
  private invalid: string | undefined;
  private started = false;
  /** Top-level documents read to their end. */
  private documents = 0;
  /** The last string at depth 1 (a key of the top object), when it is short. */
  private lastTopString = "";
  private topStringStart = -1;
  /** The part of that string in earlier chunks. */
  private topPiece = "";

  /** Chars before the current chunk. */
  private base = 0;
  /** Global offset of the record being read, or -1 between records. */
  private recordStart = -1;
  private pieces: string[] = [];
  private index = 0;
  /** At the record's top level: whether the next string is a key. */
  private expectKey = false;
  private stringStart = -1;
  private stringIsKey = false;
  private keyStart = -1;
  private keyEnd = -1;
  /** Global offsets of the record's top-level string fields: keyStart, keyEnd, valueStart, valueEnd. */
  private fields: number[] = [];
  private emit: (record: ScannedRecord) => void = () => undefined;

  /** Scans a chunk of text; calls `emit` for each record completed in it. */
  push(chunk: string, emit: (record: ScannedRecord) => void): void {
    if (this.invalid !== undefined) return;
    this.emit = emit;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.inString) i = this.continueString(chunk, i);
      else if (this.recordStart >= 0 && this.depth > this.recordsDepth + 1) i = this.skipNested(chunk, i);
      else if (this.structural(chunk, i)) i++;
      else return;
    }
    this.keepTail(chunk);
    this.base += n;
  }

  /**
   * Inside a string from `i`: returns where the caller goes on, just past the closing quote, or the
   * chunk's end when the string goes on in the next chunk.
   */
  private continueString(chunk: string, i: number): number {
    if (this.escaped) {
      this.escaped = false;
      return i + 1;
    }
    const q = closingQuote(chunk, i);
    if (q === -1) {
      this.escaped = endsEscaped(chunk, i);
      return chunk.length;
    }
    this.inString = false;
    this.endString(chunk, this.base + q);
    return q + 1;
  }

  /**
   * A character outside strings and outside a record's nested values. Returns false when it shows
   * the document is not a log file (`invalid` is then set and nothing more is read).
   */
  private structural(chunk: string, i: number): boolean {
    const c = chunk.charCodeAt(i);
    if (c === QUOTE) {
      this.inString = true;
      this.startString(this.base + i + 1);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.open(c, this.base + i);
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) this.close(chunk, i);
    else if (this.recordStart >= 0 && this.depth === this.recordsDepth + 1) {
      if (c === COMMA) this.expectKey = true;
      else if (c === COLON) this.expectKey = false;
    } else if (!this.started && !isSpace(c) && c !== BOM) {
      this.invalid = "not a CloudTrail log file (it does not start with { or [)";
      return false;
    }
    return true;
  }

  /** An opening bracket `c` at global offset `at`: the records array, a record, or a nesting level. */
  private open(c: number, at: number): void {
    this.started = true;
    this.depth++;
    if (this.depth === 1 && c === OPEN_ARRAY) this.recordsDepth = 1;
    else if (
      this.depth === 2 &&
      c === OPEN_ARRAY &&
      this.recordsDepth === 0 &&
      this.lastTopString === "Records"
    )
      this.recordsDepth = 2;
    else if (this.recordsDepth > 0 && !this.recordsClosed && this.depth === this.recordsDepth + 1) {
      if (c === OPEN_OBJECT) this.startRecord(at);
      else this.skipElement("an array");
    }
  }

  private startRecord(at: number): void {
    this.recordStart = at;
    this.pieces = [];
    this.fields = [];
    this.expectKey = true;
  }

  /** A closing bracket at `i`: it ends a record, the records array or a document. */
  private close(chunk: string, i: number): void {
    if (this.recordStart >= 0 && this.depth === this.recordsDepth + 1) {
      this.endRecord(chunk, i);
    } else if (this.recordsDepth > 0 && this.depth === this.recordsDepth) this.recordsClosed = true;
    this.depth--;
    if (this.depth === 0) this.endDocument();
  }

  /** At a chunk's end: keeps what the next chunk needs of it (a top-level key's start, the record's text). */
  private keepTail(chunk: string): void {
    if (this.inString && this.topStringStart >= 0 && this.topPiece.length <= 16)
      this.topPiece += chunk.slice(Math.max(0, this.topStringStart - this.base));
    if (this.recordStart >= 0) {
      const from = Math.max(0, this.recordStart - this.base);
      this.pieces.push(from === 0 ? chunk : chunk.slice(from));
    }
  }

  /**
   * Inside a record's field value (an object or array): only strings and nesting matter until the
   * value closes, so this loop looks at nothing else. Returns where the caller goes on: just past
   * the value's closing bracket, or the chunk's end (inside a string when `inString` is set).
   */
  private skipNested(chunk: string, from: number): number {
    const n = chunk.length;
    const floor = this.recordsDepth + 1;
    let depth = this.depth;
    let i = from;
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (c === QUOTE) {
        const q = closingQuote(chunk, i + 1);
        if (q === -1) {
          // The string goes on in the next chunk: the main loop's string state takes over.
          this.escaped = endsEscaped(chunk, i + 1);
          this.inString = true;
          this.stringStart = this.base + i + 1;
          this.depth = depth;
          return n;
        }
        i = q + 1;
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth--;
        if (depth === floor) {
          this.depth = depth;
          return i + 1;
        }
      }
      i++;
    }
    this.depth = depth;
    return n;
  }

  /** After the last chunk: what went wrong with the file as a whole, if anything. */
  end(): string | undefined {
    if (this.invalid !== undefined) return this.invalid;
    if (!this.started) return "empty file";
    // Every document closed: each was read (one without records was reported as it closed).
    if (this.depth === 0) return undefined;
    if (this.recordsDepth === 0) return "not a CloudTrail log file (no Records array)";
    return "the file ends inside its records (truncated)";
  }

  /**
   * A top-level document closed. More may follow (JSON lines whose lines are whole log files, as
   * `jq -c .` over an export writes them): each is read the same way, its records numbered on. A
   * document without a Records array is reported, counted as a record.
   */
  private endDocument(): void {
    if (this.recordsDepth === 0) {
      const what = this.documents === 0 ? "" : `document ${this.documents + 1} `;
      this.emit({ index: this.index++, error: `${what}not a CloudTrail log file (no Records array)` });
    }
    this.recordsDepth = 0;
    this.recordsClosed = false;
    this.lastTopString = "";
    this.documents++;
  }

  /** An element of the records array that is not an object: reported, and counted as a record. */
  private skipElement(what: string): void {
    const index = this.index++;
    this.emit({ index, error: `record ${index} is ${what}, not an object` });
  }

  private startString(at: number): void {
    this.stringStart = at;
    if (this.recordStart >= 0 && this.depth === this.recordsDepth + 1) this.stringIsKey = this.expectKey;
    else if (this.depth === 1 && this.recordsDepth !== 1) this.topStringStart = at;
  }

  private endString(chunk: string, at: number): void {
    if (this.recordStart >= 0 && this.depth === this.recordsDepth + 1) {
      if (this.stringIsKey) {
        // Only the kept keys' values are wanted: other keys are not noted (cheaper end of record).
        const length = at - this.stringStart;
        if (KEPT_LENGTHS.has(length)) {
          this.keyStart = this.stringStart;
          this.keyEnd = at;
        } else this.keyStart = -1;
      } else if (this.keyStart >= 0) {
        this.fields.push(this.keyStart, this.keyEnd, this.stringStart, at);
        this.keyStart = -1;
      }
    } else if (this.recordsDepth > 0 && !this.recordsClosed && this.depth === this.recordsDepth) {
      this.skipElement("a string");
    } else if (this.depth === 1 && this.topStringStart >= 0) {
      // Only "Records" matters here: a longer key is not kept.
      const text = this.topPiece + chunk.slice(Math.max(0, this.topStringStart - this.base), at - this.base);
      this.lastTopString = text.length <= 16 ? text : "";
      this.topStringStart = -1;
      this.topPiece = "";
    }
  }

  private endRecord(chunk: string, i: number): void {
    const emit = this.emit;
    const from = Math.max(0, this.recordStart - this.base);
    this.pieces.push(chunk.slice(from, i + 1));
    const text = this.pieces.length === 1 ? (this.pieces[0] ?? "") : this.pieces.join("");
    const start = this.recordStart;
    this.recordStart = -1;
    this.pieces = [];
    const index = this.index++;
    const kept: Record<string, string> = {};
    const f = this.fields;
    for (let k = 0; k < f.length; k += 4) {
      const keyStart = (f[k] ?? 0) - start;
      const length = (f[k + 1] ?? 0) - start - keyStart;
      const key = KEPT.find((name) => name.length === length && text.startsWith(name, keyStart));
      if (key) kept[key] = jsonString(text.slice((f[k + 2] ?? 0) - start, (f[k + 3] ?? 0) - start));
    }
    const source = kept.eventSource;
    if (source !== undefined && !this.watched.has(source)) {
      emit({ index, value: kept });
      return;
    }
    try {
      emit({ index, value: JSON.parse(text) });
    } catch (error) {
      emit({
        index,
        error: `record ${index} is not JSON (${error instanceof Error ? error.message : String(error)})`,
      });
    }
  }
}

/**
 * Bytes decoded into one string for the scanner. A string over V8's regular object size (128 KiB)
 * is allocated on its own pages: decoding the bench's export in 256 KiB strings costs eight times
 * what it costs in 64 KiB ones (about 90 ms against 12).
 */
const TEXT_PIECE = 64 * 1024;

/** Records per batch handed to triage. */
export const LOG_BATCH = 512;

/**
 * Bytes gunzip hands over at a time. Node's default (16 KiB) makes a CloudTrail object of a few
 * hundred records some twenty-five round trips to the zlib thread; at 256 KiB gunzip takes about a
 * third of the CPU on the bench's export. Memory holds a chunk per file being read, never the
 * file's text.
 */
export const GUNZIP_CHUNK = 256 * 1024;

/**
 * How a CloudTrail log file starts (`{"Records":[`, as CloudTrail writes it, spaces allowed): such
 * a file is read by the scanner, whatever its size.
 */
const LOG_FILE_START = /^\uFEFF?\s*\{\s*"Records"\s*:\s*\[/;

/** Whether text (the first few hundred characters are enough) starts like a CloudTrail log file. */
export function startsLikeLogFile(text: string): boolean {
  return LOG_FILE_START.test(text);
}

/**
 * Text up to this many bytes is parsed whole by JSON.parse, as the floor does: most log files are
 * far smaller (CloudTrail writes a file every five minutes; 1,000 records are about 1 MiB), and
 * native JSON.parse walks a file faster than the scanner finds its records' boundaries (the
 * scanner took half of triage's CPU on files of 100 to 1,000 records). A larger file is scanned
 * as it streams, so memory never holds it whole.
 */
export const PARSE_WHOLE_BYTES = 4 * 1024 * 1024;

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A whole log file's records, parsed at once: `{"Records":[{...}]}` or a bare array of records.
 * Undefined for anything else (not JSON, JSON lines, an element that is not an object): the
 * scanner then reads it and says what is wrong, record by record.
 */
function wholeFileRecords(text: string): Record<string, unknown>[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const records = Array.isArray(doc) ? doc : isRecordObject(doc) ? doc.Records : undefined;
  if (!Array.isArray(records)) return undefined;
  for (const r of records) if (!isRecordObject(r)) return undefined;
  return records as Record<string, unknown>[];
}

/** Decodes bytes a piece at a time into the scanner (see TEXT_PIECE). */
function scanChunk(
  scanner: LogScanner,
  decoder: StringDecoder,
  chunk: Buffer | string,
  take: (r: ScannedRecord) => void,
): void {
  if (typeof chunk === "string") {
    scanner.push(chunk, take);
    return;
  }
  for (let at = 0; at < chunk.length; at += TEXT_PIECE)
    scanner.push(decoder.write(chunk.subarray(at, at + TEXT_PIECE)), take);
}

/**
 * The text of chunks held back (a file small enough to be parsed whole). Bytes are joined before
 * they are decoded: a character may be split between two chunks.
 */
function heldText(held: ReadonlyArray<Buffer | string>): string {
  // A whole file read at once is one chunk: decoded as it is, not copied first.
  const [only] = held;
  if (held.length === 1 && only !== undefined) return only.toString("utf8");
  if (held.every((c): c is Buffer => typeof c !== "string")) return Buffer.concat(held).toString("utf8");
  return held.map((c) => (typeof c === "string" ? c : c.toString("utf8"))).join("");
}

/**
 * A log file's records in batches, as its bytes (already gunzipped) or text arrive. The file's
 * damage (not a log file, truncated) is an entry with `error`, index -1 after records (0 before).
 * `read.records` counts the records handed over. `damage`, when the caller already knows what
 * cut the text short (damaged gzip data), is reported instead of the scanner's "truncated". When `chunks` fails (a broken connection, damaged
 * gzip), the records read so far are handed over and the error is thrown to the caller, which
 * knows whether to read again.
 *
 * A file of at most PARSE_WHOLE_BYTES is held until it ends and parsed whole; a larger one is
 * scanned as it arrives. Both give the same records (the scanner reads what JSON.parse refuses).
 */
export async function* logFileBatches(
  file: string,
  chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  read: { records: number } = { records: 0 },
  damage?: string | (() => string | undefined),
): AsyncGenerator<RecordEntry[]> {
  const decoder = new StringDecoder("utf8");
  const scanner = new LogScanner();
  let batch: RecordEntry[] = [];
  const take = (r: ScannedRecord) => {
    batch.push({ file, ...r });
  };
  const handOver = () => {
    const out = batch;
    read.records += out.length;
    batch = [];
    return out;
  };
  // Chunks held while the file may still be small enough to parse whole; undefined once scanning.
  let held: Array<Buffer | string> | undefined = [];
  let heldBytes = 0;
  const scanHeld = () => {
    for (const c of held ?? []) scanChunk(scanner, decoder, c, take);
    held = undefined;
  };
  try {
    for await (const chunk of chunks) {
      if (held) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes > PARSE_WHOLE_BYTES) scanHeld();
      } else scanChunk(scanner, decoder, chunk, take);
      if (batch.length >= LOG_BATCH) yield handOver();
    }
  } catch (error) {
    scanHeld();
    if (batch.length) yield handOver();
    throw error;
  }
  const said = () => (typeof damage === "function" ? damage() : damage);
  const records = held && wholeFileRecords(heldText(held));
  if (records) {
    held = undefined;
    yield* wholeFileBatches(file, records, read, said());
    return;
  }
  scanHeld();
  scanner.push(decoder.end(), take);
  const problem = said() ?? scanner.end();
  if (problem) batch.push({ file, index: read.records + batch.length ? -1 : 0, error: problem });
  if (batch.length) yield handOver();
}

/**
 * The records of a file parsed whole, in batches of LOG_BATCH, then the caller's `problem`. A
 * record of another service is handed over whole: it is already parsed, and its KEPT fields are
 * all anyone reads of it.
 */
function* wholeFileBatches(
  file: string,
  records: readonly Record<string, unknown>[],
  read: { records: number },
  problem: string | undefined,
): Generator<RecordEntry[]> {
  for (let from = 0; from < records.length; from += LOG_BATCH) {
    const to = Math.min(records.length, from + LOG_BATCH);
    const out: RecordEntry[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = { file, index: i, value: records[i] };
    read.records += out.length;
    yield out;
  }
  if (problem) yield [{ file, index: read.records ? -1 : 0, error: problem }];
}
