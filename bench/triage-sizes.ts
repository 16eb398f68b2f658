/**
 * Triage beside its parse floor for each size of CloudTrail log file, from 100 to 100,000 records
 * per file (CloudTrail writes a file every five minutes: a quiet account's hold tens of records, a
 * busy organisation trail's tens of thousands). Every size holds the same records, real-shaped,
 * 15% KMS (bench/triage-data.ts), gzip as CloudTrail writes them.
 *
 * Paired rounds: each round runs the floor (read + gunzip + JSON.parse + one small line per record) and
 * then `triage --json` on the same files, each in a fresh process; a size's ratio is the median
 * over rounds of triage's time over the floor's in the same round, so machine noise hits both.
 */
import path from "node:path";
import { type TriageRun, triageRun } from "./triage.js";
import { writeExport } from "./triage-data.js";

export const FILE_SIZES = [100, 1_000, 10_000, 100_000] as const;

export interface SizeRow {
  perFile: number;
  files: number;
  records: number;
  floorSeconds: number;
  triageSeconds: number;
  /** Median of the per-round ratios of wall time. */
  ratio: number;
  /** Median of the per-round ratios of CPU time (user + system, all threads). */
  cpuRatio: number;
  floorRssMb: number;
  /** The largest peak RSS of triage over the rounds. */
  triageRssMb: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Generates each size's export under `work` and measures it for `rounds` paired rounds. */
export async function measureTriageSizes(
  work: string,
  eventsDir: string,
  rounds: number,
  records = 200_000,
  log: (line: string) => void = () => undefined,
): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  for (const perFile of FILE_SIZES) {
    log(`triage by file size: ${perFile.toLocaleString("en-US")} records per file`);
    const exported = writeExport(path.join(work, `size-${perFile}`), eventsDir, records, 1, perFile);
    const floor: TriageRun[] = [];
    const triage: TriageRun[] = [];
    for (let i = 0; i < rounds; i++) {
      floor.push(await triageRun(`floor ${perFile}`, "floor", [exported.root]));
      triage.push(await triageRun(`triage ${perFile}`, "triage", [exported.root]));
    }
    rows.push({
      perFile,
      files: exported.files,
      records: exported.records,
      floorSeconds: median(floor.map((r) => r.seconds)),
      triageSeconds: median(triage.map((r) => r.seconds)),
      ratio: median(triage.map((r, round) => r.seconds / (floor[round]?.seconds ?? Number.NaN))),
      cpuRatio: median(triage.map((r, round) => r.cpuSeconds / (floor[round]?.cpuSeconds ?? Number.NaN))),
      floorRssMb: median(floor.map((r) => r.maxRssMb)),
      triageRssMb: Math.max(...triage.map((r) => r.maxRssMb)),
    });
  }
  return rows;
}

export const TRIAGE_GOAL = 1.5;
export const TRIAGE_RSS_GOAL_MB = 400;

/** The section of bench/results.md: each size's figures beside the goals. */
export function sizesSection(rows: readonly SizeRow[], rounds: number): string[] {
  const verdict = (ok: boolean) => (ok ? "met" : "missed");
  return [
    `## Triage by file size (median of ${rounds} paired rounds; stdout to /dev/null; each run a fresh process)`,
    "",
    "Floor: read (blocking) + gunzip + JSON.parse + one small JSON line per record, the same files in the same order.",
    "",
    `| records per file | files | records | floor s | triage s | triage vs floor, wall (goal ${TRIAGE_GOAL}x) | triage vs floor, CPU | floor peak RSS MiB | triage peak RSS MiB (goal < ${TRIAGE_RSS_GOAL_MB}) |`,
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.perFile.toLocaleString("en-US")} | ${r.files} | ${r.records.toLocaleString("en-US")} | ${r.floorSeconds.toFixed(2)} | ${r.triageSeconds.toFixed(2)} | ${r.ratio.toFixed(2)}x ${verdict(r.ratio <= TRIAGE_GOAL)} | ${r.cpuRatio.toFixed(2)}x ${verdict(r.cpuRatio <= TRIAGE_GOAL)} | ${r.floorRssMb.toFixed(0)} | ${r.triageRssMb.toFixed(0)} ${verdict(r.triageRssMb < TRIAGE_RSS_GOAL_MB)} |`,
    ),
    "",
    "CPU: user + system time of each process, every thread (triage spreads a large input over a thread per core), beside the wall time: the goal is on wall time; the CPU ratio says how much work triage does beside the floor's.",
    "",
  ];
}
