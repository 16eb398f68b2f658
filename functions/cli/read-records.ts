/**
 * Reads every record from the paths given to `triage`: EventBridge events, raw CloudTrail
 * records, CloudTrail log files (`{"Records":[...]}`, optionally gzip, as CloudTrail writes them
 * to S3), JSON arrays, JSON lines, and directories of them (recursively, in name order).
 *
 * A record or file that cannot be parsed is yielded as an entry with `error`: reported, never
 * fatal, and never at the cost of the other records in the run.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { constants, gunzipSync } from "node:zlib";
import { isObject } from "../shared/model.js";

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

/** The records of one file. */
export async function* readFileRecords(file: string): AsyncGenerator<RecordEntry> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    yield {
      file,
      index: 0,
      error: `cannot read file (${error instanceof Error ? error.message : String(error)})`,
    };
    return;
  }
  const { text, damage } = decode(bytes);
  const trimmed = text.trim();
  let parseError: string | undefined;
  if (trimmed !== "") {
    try {
      yield* recordsOfDocument(file, JSON.parse(trimmed));
      if (damage) yield { file, index: -1, error: damage };
      return;
    } catch (error) {
      parseError = error instanceof Error ? error.message : String(error);
    }
    // Not one JSON document: maybe JSON lines.
    if (looksLikeJsonLines(trimmed)) {
      yield* recordsOfLines(file, text);
      if (damage) yield { file, index: -1, error: damage };
      return;
    }
  }
  yield {
    file,
    index: 0,
    error: damage ?? (trimmed === "" ? "empty file" : `not valid JSON (${parseError})`),
  };
}

/** The records of every path, in order. Paths must exist (checked by the caller). */
export async function* readRecords(paths: readonly string[]): AsyncGenerator<RecordEntry> {
  for (const target of paths) {
    for (const file of await listFiles(target)) yield* readFileRecords(file);
  }
}
