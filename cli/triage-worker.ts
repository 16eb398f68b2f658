/**
 * A triage thread (see parallel-read.ts). It reads the files it is given, in order, with the very
 * reader triage uses on its main thread (`readFileBatches`: gunzip, the CloudTrail log-file parser,
 * JSON lines, documents), and triages every record whose decision does not depend on the records
 * before it (`triageAlone`); the others go to the main thread as read, which decides them in order.
 *
 * At most THREAD_AHEAD batches are posted and not yet taken: the thread never runs further ahead
 * of the main thread than that, so memory stays bounded however large the input.
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  THREAD_AHEAD,
  type ThreadMessage,
  type ThreadReply,
  type TriageThreadData,
} from "./read-protocol.js";
import { readFileBatches } from "./read-records.js";
import type { RecordEntry } from "./sources/log-stream.js";
import { answerLine, triageAlone } from "./triage.js";

const port = parentPort;
if (!port) throw new Error("triage-worker.ts runs as a worker thread (see parallel-read.ts)");
const { config } = workerData as TriageThreadData;

/** A batch as it crosses to the main thread (see ThreadReply). */
function reply(file: string, batch: readonly RecordEntry[], end: boolean): ThreadReply {
  const fileJson = JSON.stringify(file);
  let order = "";
  const lines: string[] = [];
  const meta: string[] = [];
  const forwarded: Array<Omit<RecordEntry, "file">> = [];
  for (const entry of batch) {
    let row: ReturnType<typeof triageAlone>;
    try {
      row = triageAlone(entry, config);
    } catch {
      // The main thread answers it the way it answers any record that breaks the reader.
      row = undefined;
    }
    if (row) {
      order += "a";
      lines.push(answerLine(row, fileJson));
      meta.push(row.skipped ?? "", ("severity" in row && row.severity) || "");
    } else {
      order += "f";
      const { index, value, error } = entry;
      forwarded.push(error === undefined ? { index, value } : { index, error });
    }
  }
  return { file, order, lines: lines.join("\n"), meta, forwarded: JSON.stringify(forwarded), end };
}

const files: string[] = [];
let posted = 0;
let taken = 0;
let wake: (() => void) | undefined;

port.on("message", (message: ThreadMessage) => {
  if (message.kind === "files") files.push(...message.files);
  else taken += message.batches;
  wake?.();
  wake = undefined;
});

async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise<void>((resolve) => (wake = resolve));
}

async function post(message: ThreadReply): Promise<void> {
  await until(() => posted - taken < THREAD_AHEAD);
  port?.postMessage(message);
  posted++;
}

async function triageFile(file: string): Promise<void> {
  let pending: RecordEntry[] | undefined;
  // A thread that only reads and decides blocks on its reads (see readFileBatches).
  for await (const batch of readFileBatches(file, true)) {
    // One batch is held back, so that the file's last one goes with `end` (one message for a small file).
    if (pending) await post(reply(file, pending, false));
    pending = batch;
  }
  await post(reply(file, pending ?? [], true));
}

for (let i = 0; ; i++) {
  await until(() => i < files.length);
  const file = files[i] ?? "";
  try {
    await triageFile(file);
  } catch (error) {
    // readFileBatches reports what it cannot read as entries; a throw here is a bug, said as one.
    await post({ file, failed: error instanceof Error ? error.message : String(error) });
  }
}
