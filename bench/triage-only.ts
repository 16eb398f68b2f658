/**
 * `npx tsx bench/triage-only.ts`: the triage part of `npm run bench` alone (no build, no moto):
 * triage --json vs the floor (gunzip + JSON.parse + one small line per record) on generated
 * CloudTrail S3 exports of two sizes, with each run's peak RSS. Median of BENCH_TRIAGE_ROUNDS (3).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type TriageRun, triageRun } from "./triage.js";
import { writeExport } from "./triage-data.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ROUNDS = Number(process.env.BENCH_TRIAGE_ROUNDS ?? 3);
const work = mkdtempSync(path.join(tmpdir(), "kms-responder-triage-bench-"));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

try {
  const lines = [
    "| records | floor s | triage s | triage vs floor | floor peak RSS MB | triage peak RSS MB |",
    "|---:|---:|---:|---:|---:|---:|",
  ];
  for (const records of [50_000, 200_000]) {
    const exported = writeExport(path.join(work, String(records)), path.join(ROOT, "events"), records);
    const floor: TriageRun[] = [];
    const triage: TriageRun[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floor.push(await triageRun("floor", "floor", [exported.root]));
      triage.push(await triageRun("triage", "triage", [exported.root]));
    }
    const f = median(floor.map((r) => r.seconds));
    const t = median(triage.map((r) => r.seconds));
    lines.push(
      `| ${records.toLocaleString("en-US")} | ${f.toFixed(2)} | ${t.toFixed(2)} | ${(t / f).toFixed(2)}x | ${median(floor.map((r) => r.maxRssMb)).toFixed(0)} | ${median(triage.map((r) => r.maxRssMb)).toFixed(0)} |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
