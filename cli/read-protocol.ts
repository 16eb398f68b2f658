/** What triage's main thread and its triage threads (triage-worker.ts) say to each other. */
import type { Config } from "../functions/shared/config.js";

/** The triage thread's start: the run's config. */
export interface TriageThreadData {
  config: Config;
}

/** To a triage thread: files to read, in order; or how many posted batches were taken. */
export type ThreadMessage = { kind: "files"; files: string[] } | { kind: "taken"; batches: number };

/**
 * From a triage thread: a batch of a file's entries (`end` with its last one), or why the file
 * could not be read at all. `order` has a letter per entry of the batch: `a`, answered there: its
 * row's JSON line is the next line of `lines`, its skipped code and severity the next two of `meta`
 * (`""` for none); `f`, forwarded as read (the next of `forwarded`, a JSON array of entries without
 * their file) because its decision depends on the records before it. One string of lines and JSON
 * text cross between threads far faster than as many strings or objects.
 */
export type ThreadReply =
  | { file: string; order: string; lines: string; meta: string[]; forwarded: string; end: boolean }
  | { file: string; failed: string };

/**
 * Batches a triage thread may post before the main thread has taken them: enough that a pause of
 * one (a garbage collection) does not stop the other at once. With 8, files of 100 records (a batch
 * each) took 7-10% longer; 64 batches of a large file's 512 records hold a few MiB.
 */
export const THREAD_AHEAD = 64;
