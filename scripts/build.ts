/**
 * `npm run build`: one minified ESM bundle per Lambda function, `dist/<function>/index.mjs`,
 * with the AWS SDK bundled (the version we test is the version that runs) and a source map.
 * A function is any folder under `functions/` with an `index.ts` (not `shared` or `cli`).
 */
import { existsSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { type BuildOptions, build } from "esbuild";

export const LAMBDA_TARGET = "node24";

export function functionNames(root = "functions"): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !["shared", "cli"].includes(d.name))
    .filter((d) => existsSync(path.join(root, d.name, "index.ts")))
    .map((d) => d.name)
    .sort();
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

export async function buildAll(outdir = "dist"): Promise<Array<{ name: string; bytes: number }>> {
  const names = functionNames();
  await Promise.all(
    names.map((name) =>
      build(bundleOptions(path.join("functions", name, "index.ts"), path.join(outdir, name, "index.mjs"))),
    ),
  );
  return Promise.all(
    names.map(async (name) => ({ name, bytes: (await stat(path.join(outdir, name, "index.mjs"))).size })),
  );
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("build.ts")) {
  const built = await buildAll();
  for (const { name, bytes } of built) {
    console.log(`dist/${name}/index.mjs  ${(bytes / 1024).toFixed(1)} KiB`);
  }
}
