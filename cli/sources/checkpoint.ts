/**
 * The checkpoint of a long triage over an archive (`--resume FILE`): the objects already read to
 * the end, one `s3://bucket/key` per line, appended as each is done. A run given the same file
 * skips them, so an interrupted run resumes where it stopped and reads nothing twice.
 *
 * An object is written down only once triage has handled all its records and the output written
 * so far has been handed to stdout (`flush`): a key in the file never stands for lines still
 * waiting in a buffer. Lines starting with `#` are comments; a line torn by a crash names no real
 * object and is ignored, so that object is read again.
 */
import { type FileHandle, open, readFile } from "node:fs/promises";
import { ConfigError } from "../../functions/shared/errors.js";

export interface Checkpoint {
  readonly file: string;
  /** Objects done in earlier runs (read from the file when opened). */
  readonly before: number;
  has(uri: string): boolean;
  /** Writes the object down as done (after `flush`). */
  done(uri: string): Promise<void>;
  close(): Promise<void>;
}

const HEADER = "# kms-responder triage checkpoint: objects read to the end, one per line\n";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens (or starts) a checkpoint file. `flush` is called before each object is written down: it
 * hands the output written so far to stdout.
 * @throws ConfigError when the file cannot be read or written.
 */
export async function openCheckpoint(file: string, flush?: () => Promise<void>): Promise<Checkpoint> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new ConfigError(`cannot read the checkpoint ${file}: ${message(error)}`);
  }
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const uri = line.trim();
    if (uri.startsWith("s3://")) seen.add(uri);
  }
  const before = seen.size;
  let handle: FileHandle;
  try {
    handle = await open(file, "a");
    if (text === "") await handle.write(HEADER);
    // A torn last line (a crash mid-write) must not swallow the next key.
    else if (!text.endsWith("\n")) await handle.write("\n");
  } catch (error) {
    throw new ConfigError(`cannot write the checkpoint ${file}: ${message(error)}`);
  }
  return {
    file,
    before,
    has: (uri) => seen.has(uri),
    async done(uri) {
      if (seen.has(uri)) return;
      await flush?.();
      seen.add(uri);
      // One write per key, in append mode: a key is whole in the file or absent.
      await handle.write(`${uri}\n`);
    },
    close: () => handle.close(),
  };
}
