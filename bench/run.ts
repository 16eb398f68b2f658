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
import { type ArchiveReport, archiveSection, measureArchive } from "./archive.js";
import { type BundleReport, measureBundles } from "./bundles.js";
import { burstSection, measureBurstSizing } from "./burst.js";
import { cliStartSection, measureCliStart } from "./cli-start.js";
import { type ExposureReport, exposureSection, measureExposure } from "./exposure.js";
import { type LatencyReport, measureLatency } from "./latency.js";
import { measureScan, type ScanReport, scanSection } from "./scan.js";
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

try {
  const started = performance.now();
  log("building the functions (npm run build's buildAll)");
  const built = await buildAll(DIST);
  const unused = unusedClients(built);
  if (unused.length)
    throw new Error(`bundles hold AWS clients their functions do not use: ${unused.join("; ")}`);
  log("building the floor, timing cold starts");
  const bundles = await measureBundles(work, built, DIST, IMPORT_RUNS);

  log("building the command line (dist/cli), timing its start");
  await buildCli();
  const cliStart = await measureCliStart(
    path.join(ROOT, "bin", "kms-responder.cjs"),
    "events/rogue-grant/external-grantee.json",
    "test/fixtures/cloudtrail/111122223333_CloudTrail_us-east-1_20261128T1830Z_abcd.json.gz",
    CLI_ROUNDS,
  );

  const sizes = await measureTriageSizes(work, path.join(ROOT, "events"), TRIAGE_ROUNDS, 200_000, log);

  log("generating the CloudTrail export (200,000 records)");
  const exported = writeExport(path.join(work, "export"), path.join(ROOT, "events"));
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

  let latency: LatencyReport | string;
  if (motoAvailable()) {
    log("warm handler latency against moto");
    const fixture = JSON.parse(
      readFileSync(path.join(ROOT, "events/rogue-grant/external-grantee.json"), "utf8"),
    );
    latency = await measureLatency(DIST, fixture);
  } else {
    latency = 'Skipped: moto_server is not on PATH (pip install "moto[server]").';
  }
  let exposure: ExposureReport | string;
  if (motoAvailable()) {
    log("exposure window: the drill's acting scenarios, cold and warm, and a burst");
    exposure = await measureExposure(EXPOSURE_PROCESSES, EXPOSURE_ROUNDS, log);
  } else {
    exposure = 'Skipped: moto_server is not on PATH (pip install "moto[server]").';
  }
  let archive: ArchiveReport | string;
  if (motoAvailable()) {
    log("triage over an archive: S3 on moto vs disk");
    archive = await measureArchive(path.dirname(exported.root), TRIAGE_ROUNDS);
  } else {
    archive = 'Skipped: moto_server is not on PATH (pip install "moto[server]").';
  }

  let sweep: ScanReport | string = 'Skipped: moto_server is not on PATH (pip install "moto[server]").';
  if (motoAvailable()) {
    log("sweep throughput against moto");
    sweep = await measureScan();
  }

  log("burst sizing: simulated bursts against the default quotas");
  const burstSizing = measureBurstSizing(ROOT, work);

  const lines = [
    "# kms-responder performance (npm run bench)",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on Node ${process.versions.node}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "unknown"}), in ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    "",
    "Timings on a shared machine are noisy: every goal is judged on ratios paired within a round (the two sides measured back to back), never on absolute times or on medians taken apart.",
    "",
    ...bundleSection(bundles),
    ...cliStartSection(cliStart),
    ...sizesSection(sizes, TRIAGE_ROUNDS),
    ...triageSection(exported, pairs, memory),
    ...latencySection(latency),
    ...exposureSection(exposure),
    ...archiveSection(archive),
    ...scanSection(sweep),
    ...burstSection(burstSizing),
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
