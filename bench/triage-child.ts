/**
 * One measured triage run, in its own process so that its peak RSS is its own. Started by
 * bench/triage.ts with stdout on /dev/null or on a pipe; the figures go back over IPC.
 *
 *   triage PATH...  the real command line (`runCli`, as bin/kms-responder.mjs runs it) with
 *                   `triage --json PATH...`: one JSON line per record on stdout
 *   floor PATH...   the floor: gunzip + JSON.parse + one output line per record, same files in the
 *                   same order, written the same way (and waiting for a slow pipe the same way)
 */
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { runCli } from "../functions/cli/main.js";
import { listFiles } from "../functions/cli/read-records.js";

const [mode, ...paths] = process.argv.slice(2);

// Counts the lines written, whoever writes them (the CLI writes one line per call).
let lines = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((...args: Parameters<typeof write>) => {
  lines++;
  return write(...args);
}) as typeof process.stdout.write;

const drain = () =>
  process.stdout.writableNeedDrain
    ? new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()))
    : Promise.resolve();

const started = performance.now();
if (mode === "triage") {
  process.argv = [process.argv[0] ?? "node", "kms-responder", "triage", "--json", ...paths];
  await runCli();
} else if (mode === "floor") {
  for (const target of paths) {
    for (const file of await listFiles(target)) {
      const doc = JSON.parse(gunzipSync(await readFile(file)).toString("utf8")) as {
        Records: Array<{ eventID?: string; eventName?: string }>;
      };
      for (const [index, r] of doc.Records.entries()) {
        process.stdout.write(
          `${JSON.stringify({ eventId: r.eventID, eventName: r.eventName, source: { file, index } })}\n`,
        );
        if (lines % 256 === 0) await drain();
      }
    }
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
// Everything written has left the process (a pipe is asynchronous) before the clock stops.
await new Promise<void>((resolve) => write("", () => resolve()));
const ms = performance.now() - started;
process.send?.({ lines, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 });
