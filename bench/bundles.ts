/**
 * Cold start of every function beside a floor: the CPU time (user + system) of a fresh `node`
 * process that imports the bundle, median of `runs`. Whole-process CPU includes Node's own start,
 * as a Lambda cold start does, and unlike a wall clock it is not inflated by other work on the
 * machine. The floor is a bundle that only creates a KMS client and an SNS client (what any
 * responder needs to act and tell), built with the same esbuild options as the functions: the
 * ratio says what our own code and its other dependencies cost on top of that.
 *
 * The functions are whatever `dist/` holds (scripts/build.ts decides what is a function), each
 * `dist/<function>/index.mjs`; the largest packages in each come from its source map.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { bundleOptions } from "../scripts/build.js";

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
  bytes: number;
  /** Median whole-process CPU time (user + system) of importing the bundle in a fresh `node`, ms. */
  cpuMs: number;
  /** The largest packages in the bundle (KiB of output), from its source map. */
  top: Array<{ module: string; kib: number }>;
}

export interface BundleReport {
  floor: BundleRow;
  functions: BundleRow[];
  runs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The function bundles `dist/` holds, by folder name. */
export function distFunctions(distDir: string): string[] {
  if (!existsSync(distDir)) return [];
  return readdirSync(distDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(distDir, d.name, "index.mjs")))
    .map((d) => d.name)
    .sort();
}

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

/** Whole-process CPU time (user + system, ms) of a fresh `node` that imports the bundle. */
async function importCpuMs(bundle: string): Promise<number> {
  const script = `await import(${JSON.stringify(pathToFileURL(bundle).href)}); const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000));`;
  const { stdout } = await run(
    process.execPath,
    ["--enable-source-maps", "--input-type=module", "-e", script],
    {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "us-east-1",
        KMS_RESPONDER_CONFIG: "{}",
        NOTIFICATION_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications",
        POWERTOOLS_LOG_LEVEL: "SILENT",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    },
  );
  return Number(stdout);
}

/** Builds the floor bundle into `workDir` with scripts/build.ts's options; returns its path. */
async function buildFloor(workDir: string): Promise<string> {
  // The entry lives in the scratch directory; nodePaths resolves its imports from our node_modules.
  const entry = path.join(workDir, "floor-entry.ts");
  writeFileSync(entry, FLOOR_SOURCE);
  const outfile = path.join(workDir, "floor", "index.mjs");
  await build({ ...bundleOptions(entry, outfile), nodePaths: [path.resolve("node_modules")] });
  return outfile;
}

/**
 * Measures every bundle in `distDir` and the floor, in rounds over all of them (floor included)
 * so that machine noise hits them alike.
 * @throws Error when `distDir` holds no bundles.
 */
export async function measureBundles(workDir: string, distDir: string, runs: number): Promise<BundleReport> {
  const names = distFunctions(distDir);
  if (names.length === 0) throw new Error(`no bundles in ${distDir}: run npm run build first`);
  const floorBundle = await buildFloor(workDir);
  const bundles = new Map([
    [FLOOR, floorBundle],
    ...names.map((name): [string, string] => [name, path.join(distDir, name, "index.mjs")]),
  ]);
  const times = new Map<string, number[]>([...bundles.keys()].map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, bundle] of bundles) times.get(name)?.push(await importCpuMs(bundle));
  }
  const row = (name: string, bundle: string, label = name): BundleRow => ({
    name: label,
    bytes: statSync(bundle).size,
    cpuMs: median(times.get(name) ?? []),
    top: topModules(bundle),
  });
  return {
    floor: row(FLOOR, floorBundle, "floor (KMSClient + SNSClient only)"),
    functions: names.map((name) => row(name, path.join(distDir, name, "index.mjs"))),
    runs,
  };
}
