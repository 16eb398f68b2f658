/**
 * `npm run build`: one minified ESM bundle per Lambda function, `dist/<function>/index.mjs`,
 * with the AWS SDK bundled (the version we test is the version that runs) and a source map.
 * The functions are the registry's incidents (functions/registry.ts) and the runbook: the build
 * reads the registry, not the folders, so what is built is exactly what the stack deploys.
 *
 * Each bundle must hold only the AWS clients its function uses (one module per client,
 * functions/shared/clients/): esbuild's metafile says which `@aws-sdk/client-*` packages went
 * in, and a bundle with a client its function does not use fails `npm run build`.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { INCIDENTS } from "../functions/registry.js";
import type { Incident } from "../functions/shared/incident.js";

export const LAMBDA_TARGET = "node24";

/** The repository root: the build works from any working directory. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The runbook function: invoked by people, not by a rule, so it is not in the registry. */
export const RUNBOOK = "runbook";

/** Every function the stack deploys, in the registry's order, the runbook last. */
export function functionNames(): string[] {
  return [...INCIDENTS.map((i) => i.name), RUNBOOK];
}

/**
 * The AWS clients a function uses: every function reads KMS, notifies through SNS, imports
 * findings into Security Hub when `securityHub` is on and, as a central responder of an
 * organisation, assumes member-account roles through STS (the shared pipeline; loaded only
 * then, functions/shared/clients/member.ts); an incident that reads key history (it declares a
 * history reader) also uses CloudTrail; the runbook uses CloudTrail (the restore after a cancelled
 * deletion) and SSM (who started the automation).
 */
export function expectedClients(name: string): string[] {
  if (name === RUNBOOK) return ["cloudtrail", "kms", "securityhub", "sns", "ssm", "sts"];
  const incident: Incident | undefined = INCIDENTS.find((i) => i.name === name);
  if (!incident) throw new Error(`${name} is neither a registered incident nor the runbook`);
  const shared = ["kms", "securityhub", "sns", "sts"];
  return incident.history ? ["cloudtrail", ...shared] : shared;
}

/** The esbuild options of one function's bundle (the benchmark builds its floor with the same). */
export function bundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
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

const CLIENT_PACKAGE = /(?:^|\/)node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//;

/** The `@aws-sdk/client-*` packages (by service: `kms`, `cloudtrail`, ...) a bundle's inputs hold. */
export function clientsIn(metafile: Metafile): string[] {
  const clients = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const service = CLIENT_PACKAGE.exec(input)?.[1];
    if (service) clients.add(service);
  }
  return [...clients].sort();
}

export interface BuiltFunction {
  name: string;
  bytes: number;
  /** The AWS SDK clients bundled in. */
  clients: string[];
}

/** Builds every function into `<outdir>/<name>/index.mjs` (`outdir` relative to the working directory). */
export async function buildAll(outdir = "dist"): Promise<BuiltFunction[]> {
  return Promise.all(
    functionNames().map(async (name): Promise<BuiltFunction> => {
      const outfile = path.resolve(outdir, name, "index.mjs");
      const { metafile } = await build({
        ...bundleOptions(path.join(ROOT, "functions", name, "index.ts"), outfile),
        absWorkingDir: ROOT,
        metafile: true,
      });
      return { name, bytes: (await stat(outfile)).size, clients: clientsIn(metafile) };
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
  for (const { name, bytes, clients } of built) {
    console.log(`dist/${name}/index.mjs  ${(bytes / 1024).toFixed(1)} KiB  (${clients.join(", ")})`);
  }
  const problems = unusedClients(built);
  if (problems.length) {
    console.error(`bundles hold AWS clients their functions do not use:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
}
