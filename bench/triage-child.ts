/**
 * One measured triage run, in its own process so that its peak RSS is its own. Started by
 * bench/triage.ts with stdout on /dev/null or on a pipe; the figures go back over IPC.
 *
 *   triage PATH...  the real command line (the prebuilt dist/cli's `runCli`, as bin/kms-responder.mjs runs it) with
 *                   `triage --json PATH...`: one JSON line per record on stdout
 *   floor PATH...   the floor: read (blocking) + gunzip + JSON.parse + one output line per record,
 *                   same files in the same order, written in large chunks like the CLI (and waiting
 *                   for a slow pipe the same way)
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { listFiles } from "../cli/read-records.js";

const [mode, ...paths] = process.argv.slice(2);

// Counts the lines written, whoever writes them and however they batch them.
let lines = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((...args: Parameters<typeof write>) => {
  const [chunk] = args;
  const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  return write(...args);
}) as typeof process.stdout.write;

const drain = () =>
  process.stdout.writableNeedDrain
    ? new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()))
    : Promise.resolve();

// What the bin loads, loaded before the clock starts (the CLI's start is measured on its own).
const cli = (await import(pathToFileURL("dist/cli/main.mjs").href)) as { runCli: () => Promise<void> };

const started = performance.now();
const cpuAtStart = process.cpuUsage();
if (mode === "triage") {
  process.argv = [process.argv[0] ?? "node", "kms-responder", "triage", "--json", ...paths];
  await cli.runCli();
} else if (mode === "floor") {
  for (const target of paths) {
    for (const file of await listFiles(target)) {
      // Read blocking: the shortest program, and the fastest one (an asynchronous read of each of
      // thousands of small files waits on the thread pool; measured 1.6 s against 2.3 s for the
      // 2,000 files of 100 records).
      const doc = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as {
        Records: Array<{ eventID?: string; eventName?: string }>;
      };
      // One write per file: the floor buffers its output as the CLI does (64 KB writes).
      const out: string[] = [];
      for (const [index, r] of doc.Records.entries()) {
        out.push(
          `${JSON.stringify({ eventId: r.eventID, eventName: r.eventName, source: { file, index } })}\n`,
        );
      }
      process.stdout.write(out.join(""));
      await drain();
    }
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
// Everything written has left the process (a pipe is asynchronous) before the clock stops.
await new Promise<void>((resolve) => write("", () => resolve()));
const ms = performance.now() - started;
// CPU time (user + system, every thread: triage's own threads and the thread pool) beside the wall time: on a
// shared machine the wall time also holds the waits for a core.
const cpu = process.cpuUsage(cpuAtStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.send?.({ lines, ms, cpuMs, maxRssMb: process.resourceUsage().maxRSS / 1024 });
