/**
 * Bundle size and cold-start import time of every function, beside a floor bundle that only
 * creates the same SDK clients with the same options and the same esbuild settings. The import is
 * timed in a fresh `node` process each time (what a Lambda cold start pays for our code), with
 * `--enable-source-maps` as the stack sets it, median of `runs`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { buildAll, bundleOptions } from "../scripts/build.js";

const run = promisify(execFile);

/** The floor: the three clients of functions/shared/clients.ts, nothing else. */
const FLOOR_SOURCE = `
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
const retry = { maxAttempts: 6, retryMode: "standard" };
export const clients = { kms: new KMSClient(retry), sns: new SNSClient(retry), cloudTrail: new CloudTrailClient({ maxAttempts: 3 }) };
export async function handler() { return Object.keys(clients).length; }
`;

/** scripts/build.ts's options, with a metafile for the module-size analysis. */
function buildOptions(entry: string, outfile: string): BuildOptions & { metafile: true } {
  return { ...bundleOptions(entry, outfile), metafile: true };
}

export interface BundleRow {
  name: string;
  bytes: number;
  importMs: number;
  /** The largest packages in the bundle (KiB), from the esbuild metafile. */
  top: Array<{ module: string; kib: number }>;
}

export interface BundleReport {
  floor: BundleRow;
  functions: BundleRow[];
  runs: number;
  identicalToBuildAll: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function topModules(metafile: Metafile | undefined): BundleRow["top"] {
  const output = Object.values(metafile?.outputs ?? {}).find((o) => o.entryPoint);
  const by = new Map<string, number>();
  for (const [file, input] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split("/").slice(0, 2).join("/");
    by.set(pkg, (by.get(pkg) ?? 0) + input.bytesInOutput);
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([module, bytes]) => ({ module, kib: bytes / 1024 }));
}

/** Import time of one bundle in a fresh process, ms (the process's own clock, around `import()`). */
async function importMs(bundle: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(String(performance.now() - t));`;
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

export async function measureBundles(workDir: string, runs: number): Promise<BundleReport> {
  const dist = path.join(workDir, "dist");
  const built = await buildAll(dist);

  const floorDir = path.join(workDir, "floor");
  mkdirSync(floorDir, { recursive: true });
  // The floor's entry lives in the scratch directory; nodePaths resolves its imports from ours.
  const floorEntry = path.join(workDir, "floor-entry.ts");
  writeFileSync(floorEntry, FLOOR_SOURCE);
  const floorBuild = await build({
    ...buildOptions(floorEntry, path.join(floorDir, "index.mjs")),
    nodePaths: [path.resolve("node_modules")],
  });

  // Metafiles of the real bundles, rebuilt with the same options into a scratch directory.
  const analysed = path.join(workDir, "analysed");
  let identical = true;
  const tops = new Map<string, BundleRow["top"]>();
  for (const { name } of built) {
    const result = await build(
      buildOptions(path.join("functions", name, "index.ts"), path.join(analysed, name, "index.mjs")),
    );
    const same = readFileSync(path.join(analysed, name, "index.mjs")).equals(
      readFileSync(path.join(dist, name, "index.mjs")),
    );
    if (!same) identical = false;
    tops.set(name, topModules(result.metafile));
  }

  // Rounds over every bundle (floor included), so that machine noise hits them all alike.
  const floorBundle = path.join(floorDir, "index.mjs");
  const bundles = [floorBundle, ...built.map(({ name }) => path.join(dist, name, "index.mjs"))];
  const times = new Map<string, number[]>(bundles.map((b) => [b, []]));
  for (let i = 0; i < runs; i++) {
    for (const bundle of bundles) times.get(bundle)?.push(await importMs(bundle));
  }
  return {
    floor: {
      name: "floor (SDK clients only)",
      bytes: statSync(floorBundle).size,
      importMs: median(times.get(floorBundle) ?? []),
      top: topModules(floorBuild.metafile),
    },
    functions: built.map(({ name, bytes }) => ({
      name,
      bytes,
      importMs: median(times.get(path.join(dist, name, "index.mjs")) ?? []),
      top: tops.get(name) ?? [],
    })),
    runs,
    identicalToBuildAll: identical,
  };
}
