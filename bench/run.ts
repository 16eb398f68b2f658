/**
 * `npm run bench`: the performance budget, measured. A benchmark, not a test: it prints a table
 * and writes the same figures to bench/results.md (overwritten each run) for the README.
 *
 * 1. Cold start: per function, what a cold start reads and the whole-process CPU time of a fresh
 *    `node` importing it, beside a floor bundle that only creates a KMS and an SNS client (goal:
 *    at most 1.2x the floor).
 * 2. The CLI's start: `preview EVENT` and `triage FILE` beside `node -e 0`, wall time (goal 2.5x).
 * 3. Triage by file size, 100 to 100,000 records per file, beside the parse floor (goal 1.5x, peak
 *    RSS under 400 MiB). Then triage on a generated 200,000-record CloudTrail S3 export beside the floor of
 *    gunzip + JSON.parse + one output line per record (goal: within 1.5x), and peak RSS as the
 *    input grows (goal: flat), for the export, one big JSON-lines file, and a slow pipe reader.
 * 3. Warm handler latency against moto: event to remediating call, p50/p99 over 200 events, and
 *    the AWS calls made before the remediating call (goal: one round of the incident's declared
 *    reads, sent in parallel: the key, its tags and the grant, re-read before acting).
 *    Then the exposure window (bench/exposure.ts): delivery to verified action, cold and warm
 *    p50/p99 per acting incident, each incident's AWS calls beside the minimum, and a burst of 200
 *    rogue grants across 10 accounts (bench/exposure-burst.ts).
 * 4. Triage over an archive: records per second streaming the export from S3 (moto) beside the
 *    same files from disk (goal: within 1.5x), and the S3 path with objects from memory.
 * 5. Sweep: keys judged per second in one account and Region (moto), beside the bound KMS's
 *    default read quotas set (bench/scan.ts).
 * 6. Burst sizing: the simulated bursts the declared reserved concurrencies come from
 *    (bench/burst-sizing.sim.ts, run by vitest; `npm run bench:burst` alone).
 *
 * `BENCH_SECTIONS=cold,cli,sizes,export,latency,exposure,archive,sweep,burst` (comma-separated)
 * runs only those sections; unset, all of them.
 *
 * Runs on a clean clone after `npm ci`: it builds first, with the build `npm run build` runs (what
 * it builds is what is measured), and skips sections 3 and 4 (saying so) when moto_server is not
 * installed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { motoAvailable } from "../emulator/moto.js";
import { rogueGrant } from "../functions/rogue-grant/incident.js";
import { DEFAULT_CONFIG } from "../functions/shared/config.js";
import type { Incident } from "../functions/shared/incident.js";
import { roundReads } from "../functions/shared/permissions.js";
import { FUNCTION_NODE_OPTIONS } from "../infra/node-options.js";
import { buildAll, unusedClients } from "../scripts/build.js";
import { buildCli } from "../scripts/build-cli.mjs";
import { archiveSection, measureArchive } from "./archive.js";
import { type BundleReport, measureBundles } from "./bundles.js";
import { burstSection, measureBurstSizing } from "./burst.js";
import { cliStartSection, measureCliStart } from "./cli-start.js";
import { exposureSection, measureExposure } from "./exposure.js";
import { type LatencyReport, measureLatency } from "./latency.js";
import { measureScan, scanSection } from "./scan.js";
import { type TriageRun, triageRun } from "./triage.js";
import { writeExport, writeJsonLines } from "./triage-data.js";
import { measureTriageSizes, sizesSection } from "./triage-sizes.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
process.chdir(ROOT);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const DIST = path.join(ROOT, "dist");
const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 25);
const TRIAGE_ROUNDS = Number(process.env.BENCH_TRIAGE_ROUNDS ?? 3);
const CLI_ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 15);
const EXPOSURE_PROCESSES = Number(process.env.BENCH_EXPOSURE_PROCESSES ?? 10);
const EXPOSURE_ROUNDS = Number(process.env.BENCH_EXPOSURE_ROUNDS ?? 3);

const SECTIONS = new Set(
  (process.env.BENCH_SECTIONS ?? "cold,cli,sizes,export,latency,exposure,archive,sweep,burst").split(","),
);
const wanted = (name: string) => SECTIONS.has(name);
const skippedSection = (title: string) => [`## ${title}`, "", "Not run (BENCH_SECTIONS).", ""];

const work = mkdtempSync(path.join(tmpdir(), "kms-responder-bench-"));
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const COLD_START_GOAL = 1.2;
/** The reads rogue-grant makes before it revokes (verify before acting, and name the key), all in one round. */
const ROGUE_READS = roundReads(rogueGrant as Incident, DEFAULT_CONFIG).length;

function bundleSection(r: BundleReport): string[] {
  const f = r.floor;
  const goal = (ratio: number) =>
    ratio <= COLD_START_GOAL ? "met" : `missed by ${((ratio / COLD_START_GOAL - 1) * 100).toFixed(0)}%`;
  const lines = [
    `## Cold start as deployed (CPU time, user + system, of a fresh node process importing the bundle; functions with the stack's NODE_OPTIONS (${FUNCTION_NODE_OPTIONS.join(" ") || "none"}), the floor (one minified file, no map, no splitting) with none; ${r.runs} paired rounds, each the floor then every function)`,
    "",
    `| function | KiB read at cold start (files) | median CPU ms | vs floor (median of per-round ratios) | middle half of the ratios | goal ${COLD_START_GOAL}x |`,
    "|---|---:|---:|---:|---|---|",
    `| ${f.name} | ${kib(f.bytes)} (${f.files}) | ${f.cpuMs.toFixed(0)} | 1.00x | - | - |`,
    ...r.functions.map(
      (b) =>
        `| ${b.name} | ${kib(b.bytes)} (${b.files}) | ${b.cpuMs.toFixed(0)} | ${b.ratio.toFixed(2)}x | ${b.ratioQuartiles.map((q) => `${q.toFixed(2)}x`).join(" - ")} | ${goal(b.ratio)} |`,
    ),
    "",
  ];
  const top = (row: BundleReport["floor"]) =>
    row.top.map((t) => `${t.module} ${t.kib.toFixed(0)} KiB`).join(", ");
  const biggest = [...r.functions].sort((a, b) => b.bytes - a.bytes)[0];
  if (biggest) lines.push(`Largest packages in ${biggest.name}: ${top(biggest)}.`);
  if (f.top.length) lines.push(`Floor: ${top(f)}.`);
  lines.push("");
  return lines;
}

function triageSection(
  exportInfo: { records: number; files: number; kmsRecords: number; bytes: number },
  pairs: { floor: TriageRun[]; triage: TriageRun[] },
  memory: TriageRun[],
): string[] {
  const floor = median(pairs.floor.map((r) => r.seconds));
  const triage = median(pairs.triage.map((r) => r.seconds));
  const ratio = triage / floor;
  const perSecond = (seconds: number) => Math.round(exportInfo.records / seconds).toLocaleString("en-US");
  return [
    `## Triage (${exportInfo.records.toLocaleString("en-US")} records in ${exportInfo.files} gzip files, ${((exportInfo.kmsRecords / exportInfo.records) * 100).toFixed(0)}% KMS, ${(exportInfo.bytes / 1e6).toFixed(1)} MB; stdout to /dev/null; median of ${pairs.floor.length})`,
    "",
    "| run | seconds | records/s | vs floor | peak RSS MB |",
    "|---|---:|---:|---:|---:|",
    `| floor: gunzip + JSON.parse + one line per record | ${floor.toFixed(2)} | ${perSecond(floor)} | 1.00x | ${median(pairs.floor.map((r) => r.maxRssMb)).toFixed(0)} |`,
    `| kms-responder triage --json | ${triage.toFixed(2)} | ${perSecond(triage)} | ${ratio.toFixed(2)}x | ${median(pairs.triage.map((r) => r.maxRssMb)).toFixed(0)} |`,
    "",
    `Goal 1.5x: ${ratio <= 1.5 ? "met" : `missed by ${((ratio / 1.5 - 1) * 100).toFixed(0)}%`}.`,
    "",
    "| memory as the input grows | records (lines out) | seconds | peak RSS MB |",
    "|---|---:|---:|---:|",
    ...memory.map(
      (r) =>
        `| ${r.label} | ${r.lines.toLocaleString("en-US")} | ${r.seconds.toFixed(2)} | ${r.maxRssMb.toFixed(0)} |`,
    ),
    "",
  ];
}

function latencySection(r: LatencyReport | string): string[] {
  if (typeof r === "string") return ["## Warm handler latency (moto)", "", r, ""];
  return [
    `## Warm handler latency (rogue-grant bundle against moto, ${r.events} events on real grants, after 5 warm-up events)`,
    "",
    "| metric | p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|",
    `| event to remediating call (RevokeGrant sent) | ${r.toRemediation.p50.toFixed(1)} | ${r.toRemediation.p99.toFixed(1)} | ${r.toRemediation.max.toFixed(1)} |`,
    `| whole invocation (revoke, verify, notify) | ${r.invocation.p50.toFixed(1)} | ${r.invocation.p99.toFixed(1)} | - |`,
    "",
    `AWS calls before the remediating call: at most ${r.callsBefore.max} (${r.callsBefore.typical}); goal one parallel round of the ${ROGUE_READS} declared reads: ${r.callsBefore.max <= ROGUE_READS ? "met" : "missed"}.`,
    `Outcomes: ${Object.entries(r.outcomes)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}.`,
    "",
  ];
}

const NO_MOTO = 'Skipped: moto_server is not on PATH (pip install "moto[server]").';

/** A section that needs moto: its measurement, or why it was not made. */
async function withMoto<T>(
  name: string,
  what: string,
  measure: () => Promise<T>,
): Promise<T | string | undefined> {
  if (!wanted(name)) return undefined;
  if (!motoAvailable()) return NO_MOTO;
  log(what);
  return measure();
}

let generated: ReturnType<typeof writeExport> | undefined;
/** The generated export (200,000 records), written once for the sections that read it. */
function theExport(): ReturnType<typeof writeExport> {
  if (!generated) {
    log("generating the CloudTrail export (200,000 records)");
    generated = writeExport(path.join(work, "export"), path.join(ROOT, "events"));
  }
  return generated;
}

async function exportSection(): Promise<string[]> {
  const exported = theExport();
  const jsonl50 = path.join(work, "50k.jsonl");
  const jsonl200 = path.join(work, "200k.jsonl");
  await writeJsonLines(jsonl50, exported, 50_000);
  await writeJsonLines(jsonl200, exported, 200_000);
  const quarter = exported.days[0] ?? exported.root;

  log("triage throughput");
  const pairs = { floor: [] as TriageRun[], triage: [] as TriageRun[] };
  for (let i = 0; i < TRIAGE_ROUNDS; i++) {
    pairs.floor.push(await triageRun("floor 200k", "floor", [exported.root]));
    pairs.triage.push(await triageRun("triage 200k", "triage", [exported.root]));
  }
  log("triage memory");
  const memory = [
    await triageRun("S3 export, 50k records (one day)", "triage", [quarter]),
    pairs.triage[0] ?? (await triageRun("x", "triage", [exported.root])),
    await triageRun("one JSON-lines file, 50k lines", "triage", [jsonl50]),
    await triageRun("one JSON-lines file, 200k lines", "triage", [jsonl200]),
    await triageRun("S3 export, 50k, stdout a slow pipe (13 MB/s)", "triage", [quarter], "slow-pipe"),
    await triageRun("S3 export, 200k, stdout a slow pipe (13 MB/s)", "triage", [exported.root], "slow-pipe"),
  ].map((r, i) => (i === 1 ? { ...r, label: "S3 export, 200k records (four days)" } : r));
  return triageSection(exported, pairs, memory);
}

try {
  const started = performance.now();
  log("building the functions (npm run build's buildAll)");
  const built = await buildAll(DIST);
  const unused = unusedClients(built);
  if (unused.length)
    throw new Error(`bundles hold AWS clients their functions do not use: ${unused.join("; ")}`);
  const out: string[] = [];
  if (wanted("cold")) {
    log("building the floor, timing cold starts");
    out.push(...bundleSection(await measureBundles(work, built, DIST, IMPORT_RUNS)));
  } else out.push(...skippedSection("Cold start"));

  if (wanted("cli")) {
    log("building the command line (dist/cli), timing its start");
    await buildCli();
    const cliStart = await measureCliStart(
      path.join(ROOT, "bin", "kms-responder.cjs"),
      "events/rogue-grant/external-grantee.json",
      "test/fixtures/cloudtrail/111122223333_CloudTrail_us-east-1_20261128T1830Z_abcd.json.gz",
      CLI_ROUNDS,
    );
    out.push(...cliStartSection(cliStart));
  } else {
    await buildCli();
    out.push(...skippedSection("The CLI's start"));
  }

  if (wanted("sizes")) {
    const sizes = await measureTriageSizes(work, path.join(ROOT, "events"), TRIAGE_ROUNDS, 200_000, log);
    out.push(...sizesSection(sizes, TRIAGE_ROUNDS));
  } else out.push(...skippedSection("Triage by file size"));

  out.push(...(wanted("export") ? await exportSection() : skippedSection("Triage of an S3 export")));

  const latency = await withMoto("latency", "warm handler latency against moto", () => {
    const fixture = JSON.parse(
      readFileSync(path.join(ROOT, "events/rogue-grant/external-grantee.json"), "utf8"),
    );
    return measureLatency(DIST, fixture);
  });
  out.push(...(latency === undefined ? skippedSection("Warm handler latency") : latencySection(latency)));
  const exposure = await withMoto(
    "exposure",
    "exposure window: the drill's acting scenarios, cold and warm, and a burst",
    () => measureExposure(EXPOSURE_PROCESSES, EXPOSURE_ROUNDS, log),
  );
  out.push(...(exposure === undefined ? skippedSection("Exposure window") : exposureSection(exposure)));
  const archive = await withMoto("archive", "triage over an archive: S3 on moto vs disk", () =>
    measureArchive(path.dirname(theExport().root), TRIAGE_ROUNDS),
  );
  out.push(...(archive === undefined ? skippedSection("Triage over an archive") : archiveSection(archive)));
  const sweep = await withMoto("sweep", "sweep throughput against moto", () => measureScan());
  out.push(...(sweep === undefined ? skippedSection("Sweep") : scanSection(sweep)));

  if (wanted("burst")) {
    log("burst sizing: simulated bursts against the default quotas");
    out.push(...burstSection(measureBurstSizing(ROOT, work)));
  } else out.push(...skippedSection("Burst sizing"));

  const lines = [
    "# kms-responder performance (npm run bench)",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on Node ${process.versions.node}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "unknown"}), in ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    "",
    "Timings on a shared machine are noisy: every goal is judged on ratios paired within a round (the two sides measured back to back), never on absolute times or on medians taken apart.",
    "",
    ...out,
  ];
  const text = lines.join("\n");
  process.stdout.write(`${text}\n`);
  writeFileSync(path.join(ROOT, "bench", "results.md"), `${text}\n`);
  log("figures written to bench/results.md");
} finally {
  rmSync(work, { recursive: true, force: true });
}
// The handler's SDK clients keep idle sockets; the figures are out, nothing else is running.
process.exit(process.exitCode ?? 0);
