/**
 * The CLI's start as on-call feels it: the wall time of `kms-responder preview EVENT` and
 * `kms-responder triage FILE` (one small CloudTrail file) beside `node -e 0`, each a fresh process
 * running bin/kms-responder.cjs as a user does (the prebuilt dist/cli). Wall time, not CPU: the
 * person at the terminal waits for the whole process. Paired rounds: each round runs the three in
 * turn, and a command's ratio is the median over rounds of its time over `node -e 0`'s in the same
 * round, so a burst of load on the machine hits both sides.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export const CLI_START_GOAL = 2.5;

export interface CliStartRow {
  label: string;
  ms: number;
  ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function wallMs(args: string[]): Promise<number> {
  const started = performance.now();
  await run(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return performance.now() - started;
}

/** `node -e 0`, then each command, `rounds` times; `bin` is bin/kms-responder.cjs. */
export async function measureCliStart(
  bin: string,
  event: string,
  logFile: string,
  rounds: number,
): Promise<{ floorMs: number; rows: CliStartRow[]; rounds: number }> {
  const commands: Array<[string, string[]]> = [
    [`kms-responder preview ${event}`, [bin, "preview", event]],
    [`kms-responder triage ${logFile}`, [bin, "triage", logFile]],
  ];
  // One run each first: the page cache holds the files afterwards, as it does for a second command.
  for (const [, args] of commands) await wallMs(args);
  const floor: number[] = [];
  const times = commands.map((): number[] => []);
  for (let i = 0; i < rounds; i++) {
    floor.push(await wallMs(["-e", "0"]));
    for (const [c, [, args]] of commands.entries()) times[c]?.push(await wallMs(args));
  }
  return {
    floorMs: median(floor),
    rounds,
    rows: commands.map(([label], c) => {
      const own = times[c] ?? [];
      return { label, ms: median(own), ratio: median(own.map((ms, r) => ms / (floor[r] ?? Number.NaN))) };
    }),
  };
}

export function cliStartSection(r: { floorMs: number; rows: CliStartRow[]; rounds: number }): string[] {
  return [
    `## CLI start (wall time of a fresh process, prebuilt dist/cli; median of ${r.rounds} paired rounds)`,
    "",
    `| command | median ms | vs node -e 0 (median of per-round ratios) | goal ${CLI_START_GOAL}x |`,
    "|---|---:|---:|---|",
    `| node -e 0 | ${r.floorMs.toFixed(0)} | 1.00x | - |`,
    ...r.rows.map(
      (row) =>
        `| ${row.label} | ${row.ms.toFixed(0)} | ${row.ratio.toFixed(2)}x | ${row.ratio <= CLI_START_GOAL ? "met" : "missed"} |`,
    ),
    "",
  ];
}
