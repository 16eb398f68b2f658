/**
 * Cold start of every function beside a floor: the CPU time (user + system) of a fresh `node`
 * process that imports the bundle. Whole-process CPU includes Node's own start, as a Lambda cold
 * start does, and unlike a wall clock it is not inflated by other work on the machine.
 *
 * The floor is the smallest program a user could deploy for this job: one minified ESM file that
 * only creates a KMS client and an SNS client (what any responder needs to act and tell), no source
 * map, no code splitting, run with no Node options. Each function is run as deployed: its built
 * folder, with the stack's own NODE_OPTIONS (infra/node-options.ts). The ratio says what our code,
 * its other dependencies and the way we build and run it cost on top of the floor.
 *
 * The ratio is paired: each round imports the floor and then every function, and a function's
 * ratio is the median over rounds of its time divided by the floor's time in the same round. On a
 * shared or virtual machine the CPU time of the same import swings by a third from one process to
 * the next, mostly in bursts; a ratio taken within a round cancels what the burst does to both,
 * where a ratio of two separate medians does not (measured: the same bundle read 1.03x and 1.26x
 * in two runs of 11 medians, and 1.07x-1.13x in repeated runs of 25 paired rounds).
 *
 * The functions are what scripts/build.ts's buildAll built, each `<dist>/<function>/index.mjs`;
 * what a cold start reads comes from its metafile, the largest packages from the source map.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { FUNCTION_NODE_OPTIONS } from "../infra/node-options.js";
import { type BuiltFunction, bundleOptions, coldFiles, LAMBDA_TARGET } from "../scripts/build.js";

const run = promisify(execFile);

/** The floor: a KMS client and an SNS client, created at module scope as the functions do. */
const FLOOR_SOURCE = `
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
export const kms = new KMSClient({});
export const sns = new SNSClient({});
`;

/** The floor's key among the bundles (parentheses: no folder of dist/ is named so). */
const FLOOR = "(floor)";

export interface BundleRow {
  name: string;
  /** What a cold start reads: the entry and the chunks it imports statically, transitively. */
  bytes: number;
  /** How many files that is. */
  files: number;
  /** Median whole-process CPU time (user + system) of importing the bundle in a fresh `node`, ms. */
  cpuMs: number;
  /** Median over rounds of this bundle's CPU time over the floor's in the same round (1 for the floor). */
  ratio: number;
  /** The first and third quartiles of those per-round ratios: how much the machine moved them. */
  ratioQuartiles: [number, number];
  /** The largest packages in the bundle (KiB of output), from its source map. */
  top: Array<{ module: string; kib: number }>;
}

export interface BundleReport {
  floor: BundleRow;
  functions: BundleRow[];
  runs: number;
}

/** The value at fraction `q` of the sorted values, interpolated (`q` 0.5 is the median). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = sorted[Math.floor(at)] ?? 0;
  const high = sorted[Math.ceil(at)] ?? low;
  return low + (high - low) * (at - Math.floor(at));
}

const median = (values: number[]) => quantile(values, 0.5);

const BASE64 = new Map(
  [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]),
);

/** The numbers of one source-map segment (base64 VLQ). */
function decodeSegment(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.get(char) ?? 0;
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value % 2 ? -Math.floor(value / 2) : value / 2);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** The package (or our own top-level folder) a source of the map belongs to. */
function packageOf(source: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
  if (pkg) return pkg;
  return source
    .replace(/^(\.\.\/)+/, "")
    .split("/")
    .slice(0, 2)
    .join("/");
}

/**
 * Output characters per package, from the bundle's source map: each mapped segment owns the text
 * up to the next segment of its line. Text no segment maps (the banner, esbuild's glue) is left out.
 */
function topModules(bundle: string): BundleRow["top"] {
  const mapFile = `${bundle}.map`;
  if (!existsSync(mapFile)) return [];
  const map = JSON.parse(readFileSync(mapFile, "utf8")) as { sources: string[]; mappings: string };
  const lines = readFileSync(bundle, "utf8").split("\n");
  const by = new Map<string, number>();
  let source = 0;
  map.mappings.split(";").forEach((mapped, lineNo) => {
    const lineLength = lines[lineNo]?.length ?? 0;
    let column = 0;
    const starts: Array<{ column: number; source: number | undefined }> = [];
    for (const segment of mapped ? mapped.split(",") : []) {
      const [dColumn = 0, dSource] = decodeSegment(segment);
      column += dColumn;
      if (dSource !== undefined) source += dSource;
      starts.push({ column, source: dSource === undefined ? undefined : source });
    }
    starts.forEach((start, i) => {
      if (start.source === undefined) return;
      const end = starts[i + 1]?.column ?? lineLength;
      const name = packageOf(map.sources[start.source] ?? "?");
      by.set(name, (by.get(name) ?? 0) + Math.max(0, end - start.column));
    });
  });
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([module, chars]) => ({ module, kib: chars / 1024 }));
}

/** Whole-process CPU time (user + system, ms) of a fresh `node`, run with `options`, that imports the bundle. */
async function importCpuMs(bundle: string, options: readonly string[]): Promise<number> {
  const script = `await import(${JSON.stringify(pathToFileURL(bundle).href)}); const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000));`;
  const { stdout } = await run(process.execPath, [...options, "--input-type=module", "-e", script], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      KMS_RESPONDER_CONFIG: "{}",
      NOTIFICATION_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications",
      // The sweep's bucket, which the stack sets on the sweep function (its cold start needs one).
      SCAN_BUCKET: "kms-responder-sweep-111122223333",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
  });
  return Number(stdout);
}

/** Builds the floor bundle into `workDir`: one minified file, no map, no splitting; its path and size. */
async function buildFloor(workDir: string): Promise<{ bundle: string; bytes: number; files: number }> {
  // The entry lives in the scratch directory; nodePaths resolves its imports from our node_modules.
  const entry = path.join(workDir, "floor-entry.ts");
  writeFileSync(entry, FLOOR_SOURCE);
  const outfile = path.join(workDir, "floor", "index.mjs");
  const { banner, platform, format, logLevel } = bundleOptions({}, workDir);
  const { metafile } = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    target: LAMBDA_TARGET,
    legalComments: "none",
    banner,
    platform,
    format,
    logLevel,
    nodePaths: [path.resolve("node_modules")],
    metafile: true,
  });
  const cold = coldFiles(metafile, outfile);
  const bytes = [...cold].reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0);
  return { bundle: outfile, bytes, files: cold.size };
}

/**
 * Measures the `built` functions (scripts/build.ts's buildAll into `distDir`) and the floor, in
 * rounds over all of them (floor included) so that machine noise hits them alike.
 * @throws Error when nothing was built.
 */
export async function measureBundles(
  workDir: string,
  built: readonly BuiltFunction[],
  distDir: string,
  runs: number,
): Promise<BundleReport> {
  if (built.length === 0) throw new Error(`no bundles in ${distDir}`);
  const floor = await buildFloor(workDir);
  const bundles = new Map([
    [FLOOR, floor.bundle],
    ...built.map(({ name }): [string, string] => [name, path.join(distDir, name, "index.mjs")]),
  ]);
  const times = new Map<string, number[]>([...bundles.keys()].map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, bundle] of bundles) {
      const options = name === FLOOR ? [] : FUNCTION_NODE_OPTIONS;
      times.get(name)?.push(await importCpuMs(bundle, options));
    }
  }
  const floorTimes = times.get(FLOOR) ?? [];
  const row = (name: string, read: { bytes: number; files: number }, label = name): BundleRow => {
    const own = times.get(name) ?? [];
    const ratios = own.map((ms, round) => ms / (floorTimes[round] ?? Number.NaN));
    return {
      name: label,
      bytes: read.bytes,
      files: read.files,
      cpuMs: median(own),
      ratio: median(ratios),
      ratioQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
      top: topModules(bundles.get(name) ?? ""),
    };
  };
  return {
    floor: row(FLOOR, floor, "floor (KMSClient + SNSClient only)"),
    functions: built.map((b) => row(b.name, b)),
    runs,
  };
}
