/**
 * `npm run build`: one minified ESM bundle per Lambda function, `dist/<function>/index.mjs`,
 * with the AWS SDK bundled (the version we test is the version that runs) and a source map.
 * The functions are the registry's incidents (functions/registry.ts) and the runbook: the build
 * reads the registry, not the folders, so what is built is exactly what the stack deploys.
 *
 * Each bundle must hold only the AWS clients its function uses (one module per client,
 * functions/shared/clients/): esbuild's metafile says which `@aws-sdk/client-*` packages went
 * in, and a bundle with a client its function does not use fails `npm run build`.
 *
 * Two builds per function. What a cold start loads is `index.mjs` and the few chunks the SDK's
 * own dynamic imports make. Every dynamic `import()` of our own code (the CloudTrail history
 * reader, the member roles' STS client, the Security Hub, Organizations and SSM clients) becomes a
 * bundle of its own under `lazy/`, built second, with its own copy of the SDK code it needs. Built
 * in one graph, esbuild would put each module the cold path shares with one of them (the ARN
 * parser, the errors, the retry settings, the KMS client) in a chunk of its own, and a cold start
 * would read nine files instead of three: measured, that cost more than the bytes they hold. So
 * an on-demand module shares no state with the cold path: it gets plain values (credentials, ASFF
 * documents) and gives plain values back, and a KMS client for a member account is made with the
 * cold path's own class (clients/member.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Metafile, type Plugin } from "esbuild";
import { INCIDENTS } from "../functions/registry.js";
import type { Incident } from "../functions/shared/incident.js";

export const LAMBDA_TARGET = "node24";

/** The repository root: the build works from any working directory. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The runbook function: invoked by people, not by a rule, so it is not in the registry. */
export const RUNBOOK = "runbook";

/** The scheduled sweep of every key's state: run by a schedule or a state machine, not by a rule. */
export const SCAN = "scan";

/** Every function the stack deploys, in the registry's order, then the runbook and the sweep. */
export function functionNames(): string[] {
  return [...INCIDENTS.map((i) => i.name), RUNBOOK, SCAN];
}

/**
 * The AWS clients a function loads at cold start: KMS and SNS, nothing else. What only some
 * invocations need is loaded on demand from a chunk beside index.mjs: CloudTrail (the key history
 * read by the restore after a cancelled deletion), SSM (who started a runbook automation), STS (a
 * central responder's member roles), Security Hub (findings, when configured) and, in the sweep,
 * S3 (its record of what it notified, read once the keys are judged).
 */
export function expectedClients(name: string): string[] {
  if (name !== SCAN && name !== RUNBOOK && !INCIDENTS.some((i: Incident) => i.name === name)) {
    throw new Error(`${name} is neither a registered incident, the runbook nor the sweep`);
  }
  return ["kms", "sns"];
}

/**
 * The esbuild options of a function's bundles: `entryPoints` (output name to source) written to
 * `<outdir>/<name>.mjs`, with the chunks they share in `<outdir>/chunks/`. The benchmark builds
 * its floor with the same; the stack deploys a function's whole folder.
 */
export function bundleOptions(entryPoints: Record<string, string>, outdir: string): BuildOptions {
  return {
    entryPoints,
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    bundle: true,
    minify: true,
    sourcemap: true,
    // The maps ship beside the bundles, for `kms-responder stack-trace` to resolve a logged stack;
    // the functions run without --enable-source-maps, so no cold start reads them. Stack traces
    // need the mappings, not the sources: without them the maps are a third of the size.
    sourcesContent: false,
    platform: "node",
    format: "esm",
    target: LAMBDA_TARGET,
    // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    legalComments: "none",
    logLevel: "warning",
  };
}

/** The folder beside `index.mjs` that holds a function's on-demand bundles. */
const LAZY_DIR = "lazy";

/**
 * Makes every dynamic `import()` of our own code an import of `./lazy/<module>.mjs`, a bundle of
 * its own, and records each module so imported (by name) in `found`.
 */
function onDemand(found: Map<string, string>): Plugin {
  return {
    name: "on-demand",
    setup(plugin) {
      plugin.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind !== "dynamic-import" || args.importer.includes(`${path.sep}node_modules${path.sep}`)) {
          return undefined;
        }
        const source = path.resolve(args.resolveDir, args.path).replace(/\.js$/, ".ts");
        const name = path.basename(source, ".ts");
        const known = found.get(name);
        if (known !== undefined && known !== source) {
          return { errors: [{ text: `two on-demand modules named ${name}: ${known} and ${source}` }] };
        }
        found.set(name, source);
        return { path: `./${LAZY_DIR}/${name}.mjs`, external: true };
      });
    },
  };
}

const CLIENT_PACKAGE = /(?:^|\/)node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//;

/** The output files a cold start loads: the entry and what it imports statically, transitively. */
function staticClosure(metafile: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) todo.push(imported.path);
    }
  }
  return seen;
}

/**
 * The `@aws-sdk/client-*` packages (by service: `kms`, `cloudtrail`, ...) whose code is in the given
 * output files (tree-shaken inputs contribute no bytes and do not count).
 */
function clientsOf(metafile: Metafile, files: Iterable<string>): string[] {
  const clients = new Set<string>();
  for (const file of files) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file]?.inputs ?? {})) {
      const service = CLIENT_PACKAGE.exec(input)?.[1];
      if (service && bytesInOutput > 0) clients.add(service);
    }
  }
  return [...clients].sort();
}

/** The output files a cold start of `entry` reads (as the metafile names them): it and its static imports. */
export function coldFiles(metafile: Metafile, entry: string): Set<string> {
  const key = Object.keys(metafile.outputs).find((f) => path.resolve(f) === path.resolve(entry)) ?? entry;
  return staticClosure(metafile, key);
}

/** The clients a cold start loads, those only loaded on demand (dynamic imports), and the bytes a cold start loads. */
export function clientsIn(
  metafile: Metafile,
  entry: string,
): { cold: string[]; lazy: string[]; coldBytes: number } {
  const cold = coldFiles(metafile, entry);
  const all = Object.keys(metafile.outputs).filter((f) => f.endsWith(".mjs"));
  const coldClients = clientsOf(metafile, cold);
  const lazy = clientsOf(
    metafile,
    all.filter((f) => !cold.has(f)),
  ).filter((c) => !coldClients.includes(c));
  const coldBytes = [...cold].reduce((sum, f) => sum + (metafile.outputs[f]?.bytes ?? 0), 0);
  return { cold: coldClients, lazy, coldBytes };
}

export interface BuiltFunction {
  name: string;
  /** Bytes a cold start loads: `index.mjs` and the chunks it imports statically. */
  bytes: number;
  /** How many files that is. */
  files: number;
  /** The AWS SDK clients in `index.mjs` (loaded at cold start). */
  clients: string[];
  /** The clients in chunks loaded only on demand. */
  lazyClients: string[];
}

/**
 * The output files other than the entry that import an on-demand bundle: `./lazy/...` resolves
 * from `index.mjs` only, so any such file is a broken bundle.
 */
export function misplacedLazyImports(metafile: Metafile, entry: string): string[] {
  return Object.entries(metafile.outputs)
    .filter(([file]) => path.resolve(file) !== path.resolve(entry) && !file.endsWith(".map"))
    .filter(([, out]) => out.imports.some((i) => i.external && i.path.startsWith(`./${LAZY_DIR}/`)))
    .map(([file]) => file);
}

/** Builds every function into `<outdir>/<name>/index.mjs` (`outdir` relative to the working directory). */
export async function buildAll(outdir = "dist"): Promise<BuiltFunction[]> {
  return Promise.all(
    functionNames().map(async (name): Promise<BuiltFunction> => {
      const outfile = path.resolve(outdir, name, "index.mjs");
      const found = new Map<string, string>();
      const { metafile } = await build({
        ...bundleOptions({ index: path.join(ROOT, "functions", name, "index.ts") }, path.dirname(outfile)),
        absWorkingDir: ROOT,
        metafile: true,
        plugins: [onDemand(found)],
      });
      const entry = path.relative(ROOT, outfile);
      const misplaced = misplacedLazyImports(metafile, entry);
      if (misplaced.length) {
        throw new Error(
          `${name}: on-demand imports outside index.mjs, where ./${LAZY_DIR}/ does not resolve: ${misplaced.join(", ")}`,
        );
      }
      const c = clientsIn(metafile, entry);
      // Resolved is not used: tree shaking may have dropped the code that imported it.
      const used = new Set(
        Object.values(metafile.outputs).flatMap((o) =>
          o.imports.filter((i) => i.external && i.path.startsWith(`./${LAZY_DIR}/`)).map((i) => i.path),
        ),
      );
      const wanted = [...found].filter(([module]) => used.has(`./${LAZY_DIR}/${module}.mjs`));
      let lazyClients: string[] = c.lazy;
      if (wanted.length) {
        const lazy = await build({
          ...bundleOptions(Object.fromEntries(wanted), path.join(path.dirname(outfile), LAZY_DIR)),
          absWorkingDir: ROOT,
          metafile: true,
        });
        const all = Object.keys(lazy.metafile.outputs).filter((f) => f.endsWith(".mjs"));
        lazyClients = [...new Set([...lazyClients, ...clientsOf(lazy.metafile, all)])]
          .filter((client) => !c.cold.includes(client))
          .sort();
      }
      return {
        name,
        bytes: c.coldBytes,
        files: coldFiles(metafile, entry).size,
        clients: c.cold,
        lazyClients,
      };
    }),
  );
}

/** What is wrong with the bundles' clients: one line per bundle holding a client its function does not use. */
export function unusedClients(built: readonly BuiltFunction[]): string[] {
  return built.flatMap(({ name, clients }) => {
    const unused = clients.filter((c) => !expectedClients(name).includes(c));
    return unused.length ? [`${name} bundles ${unused.map((c) => `@aws-sdk/client-${c}`).join(", ")}`] : [];
  });
}

// `npm run build` fails on a bundle with a client its function does not use (every cold start
// would pay for it); the drill and the benchmark call buildAll and judge the bundles themselves.
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("build.ts")) {
  const built = await buildAll();
  for (const { name, bytes, clients, lazyClients } of built) {
    const lazy = lazyClients.length ? `; on demand: ${lazyClients.join(", ")}` : "";
    console.log(`dist/${name}/index.mjs  ${(bytes / 1024).toFixed(1)} KiB  (${clients.join(", ")}${lazy})`);
  }
  const problems = unusedClients(built);
  if (problems.length) {
    console.error(`bundles hold AWS clients their functions do not use:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
}
