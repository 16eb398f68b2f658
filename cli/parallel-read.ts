/**
 * Triage of many files on several threads. Reading a CloudTrail export (gunzip, JSON.parse) and
 * deciding its records are both about as costly as the floor itself; on one thread they add up.
 * Files are shared between the main thread and one triage thread per other core (`shareOf`). A
 * triage thread reads its files with the same reader the main thread uses and decides every record
 * whose decision does not depend on the records before it (`triageAlone`). The main thread triages
 * its own files, takes the others' batches back in order, writes the rows the threads made, and
 * decides the records they left it itself, in order, with the key's earlier records: the output is
 * the one a single thread gives, line for line.
 *
 * If a thread cannot start or stops (its bundle is missing, it ran out of memory), its files are
 * read on the main thread instead: the entries of the file it was on that were already taken are
 * skipped, so no record is lost or triaged twice.
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Config } from "../functions/shared/config.js";
import type { ThreadMessage, ThreadReply, TriageThreadData } from "./read-protocol.js";
import { type FilesReader, type RecordSource, readFileBatches, STDIN } from "./read-records.js";
import type { RecordEntry } from "./sources/log-stream.js";

/** The triage thread's bundle, built by scripts/build-cli.mjs beside the command line. */
const THREAD = new URL("../dist/cli/triage-worker.mjs", import.meta.url);

/** Replies in arrival order, or how the thread ended. */
class Inbox {
  private readonly replies: ThreadReply[] = [];
  private ended: string | undefined;
  private wake: (() => void) | undefined;

  put(reply: ThreadReply): void {
    this.replies.push(reply);
    this.wake?.();
  }

  end(why: string): void {
    this.ended ??= why;
    this.wake?.();
  }

  /** The next reply, or why the thread stopped before giving one. */
  async next(): Promise<ThreadReply | { stopped: string }> {
    for (;;) {
      const reply = this.replies.shift();
      if (reply) return reply;
      if (this.ended !== undefined) return { stopped: this.ended };
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

interface Thread {
  worker: Worker;
  inbox: Inbox;
  /** Set once the thread has stopped: its files are read here from then on. */
  stopped: boolean;
}

function startThread(files: string[], config: Config, url: URL): Thread {
  const inbox = new Inbox();
  const worker = new Worker(url, { workerData: { config } satisfies TriageThreadData });
  worker.on("message", (reply: ThreadReply) => inbox.put(reply));
  worker.on("error", (error) => inbox.end(error.message));
  worker.on("exit", (code) => inbox.end(`the triage thread exited (code ${code})`));
  worker.postMessage({ kind: "files", files } satisfies ThreadMessage);
  return { worker, inbox, stopped: false };
}

/** A batch as a thread posted it (see ThreadReply), as entries. */
function entriesOf(reply: Extract<ThreadReply, { order: string }>): RecordEntry[] {
  const { file, order, lines, meta } = reply;
  const forwarded = JSON.parse(reply.forwarded) as Array<Omit<RecordEntry, "file">>;
  const out: RecordEntry[] = new Array(order.length);
  let from = 0;
  let m = 0;
  let f = 0;
  for (let i = 0; i < order.length; i++) {
    if (order.charCodeAt(i) === 97 /* a */) {
      const to = lines.indexOf("\n", from);
      const line = to === -1 ? lines.slice(from) : lines.slice(from, to);
      from = to + 1;
      out[i] = { file, index: -1, answered: { line, skipped: meta[m] ?? "", severity: meta[m + 1] ?? "" } };
      m += 2;
    } else {
      const entry = forwarded[f++] as RecordEntry;
      entry.file = file;
      out[i] = entry;
    }
  }
  return out;
}

/** The file's entries on this thread, past the first `skip` (taken from a triage thread already). */
async function* inThread(file: string, skip: number): AsyncGenerator<RecordEntry[]> {
  let seen = 0;
  for await (const batch of readFileBatches(file)) {
    const rest = batch.slice(Math.max(0, skip - seen));
    seen += batch.length;
    if (rest.length) yield rest;
  }
}

/**
 * One file's batches from its thread, each taken (the thread told, so it may go on) once triage
 * has decided it. If the thread stops, the rest of the file is read here.
 */
async function* fileFrom(thread: Thread, file: string): AsyncGenerator<RecordEntry[]> {
  let taken = 0;
  while (!thread.stopped) {
    const reply = await thread.inbox.next();
    if ("stopped" in reply) {
      thread.stopped = true;
      break;
    }
    const batch =
      "failed" in reply
        ? [{ file, index: 0, error: `cannot read file (${reply.failed})` }]
        : entriesOf(reply);
    yield batch;
    taken += batch.length;
    thread.worker.postMessage({ kind: "taken", batches: 1 } satisfies ThreadMessage);
    if ("failed" in reply || reply.end) return;
  }
  yield* inThread(file, taken);
}

/**
 * How much of a triage thread's share of the files the main thread takes: it also decides the
 * records the threads leave it and writes every row. Profiles of 2,000 files of 100 records on a
 * 2-core machine (one triage thread): with half the files the main thread kept the other waiting
 * (0.4 s idle), with two in five it waited (0.4 s idle).
 */
const MAIN_WEIGHT = 0.8;

/**
 * Which thread triages each of the run's files: -1 the main thread, else a triage thread's index.
 * Each file goes to whoever has the least work for its weight so far, so the shares stay even all
 * along the run, not only at its end. The first file is the main thread's: the triage threads are
 * starting meanwhile.
 */
export function shares(files: number, threads: number): number[] {
  const counts = new Array<number>(threads + 1).fill(0);
  counts[0] = -1;
  const weight = (p: number) => (p === 0 ? MAIN_WEIGHT : 1);
  return Array.from({ length: files }, () => {
    let best = 0;
    for (let p = 1; p <= threads; p++)
      if ((counts[p] ?? 0) + 1 < (((counts[best] ?? 0) + 1) * weight(p)) / weight(best)) best = p;
    counts[best] = (counts[best] ?? 0) + 1;
    return best - 1;
  });
}

/**
 * The records of the files, in order and in batches, triaged here and on `count` threads (see
 * above), each running `url` (the triage thread's bundle; a test gives one that fails).
 */
export async function* triageInParallel(
  files: readonly string[],
  config: Config,
  count: number,
  url: URL = THREAD,
): AsyncGenerator<RecordEntry[]> {
  const share = shares(files.length, count);
  const threads = Array.from({ length: count }, (_, t) =>
    startThread(
      files.filter((_, i) => share[i] === t),
      config,
      url,
    ),
  );
  try {
    for (const [i, file] of files.entries()) {
      const thread = threads[share[i] ?? -1];
      // The main thread's own files are read blocking: the triage threads work meanwhile.
      yield* thread ? fileFrom(thread, file) : readFileBatches(file, true);
    }
  } finally {
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

/**
 * The stored size (gzip as it is on disk) from which a run of two files or more is triaged on
 * threads: about 10 MiB of CloudTrail text, ten thousand records. Starting the threads (and
 * triage's code in each) costs about what a few small files cost to triage, which `triage FILE` or
 * `triage a.json b.json` at 3am should not wait for.
 */
export const THREADS_FROM_BYTES = 1024 * 1024;

/** Whether the files hold at least `bytes` (stat'ed until they do). */
function holdAtLeast(files: readonly string[], bytes: number): boolean {
  let total = 0;
  for (const file of files) {
    if (total >= bytes) return true;
    try {
      total += statSync(file).size;
    } catch {
      // Reading it will say what is wrong with it.
    }
  }
  return total >= bytes;
}

/** How many triage threads besides the main one: one per other core, at least one, at most three. */
export function threadCount(files: number): number {
  return Math.max(1, Math.min(files - 1, 3, availableParallelism() - 1));
}

/**
 * Triage's reader for a run under this config: two files or more holding at least `fromBytes` on
 * threads, anything less (or standard input) on the main thread.
 */
export function parallelReader(config: Config, fromBytes = THREADS_FROM_BYTES): FilesReader {
  return (files): RecordSource | undefined =>
    files.length >= 2 && !files.includes(STDIN) && holdAtLeast(files, fromBytes)
      ? triageInParallel(files, config, threadCount(files.length))
      : undefined;
}
