/**
 * The built Lambda bundles (`dist/<function>/index.mjs`, what the stack deploys), loaded in-process
 * the way Lambda loads them: environment first, then a cold start that reads config and topic.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { INCIDENTS, type IncidentName } from "../../functions/registry.js";

/** The repository root (this file is `cli/drill/bundles.ts`). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DIST_DIR = path.join(REPO_ROOT, "dist");

/** A built function: one per registered incident, the runbook and the sweep. */
export type BundleName = IncidentName | "runbook" | "scan";

/** Every bundle the build makes, from the registry. */
export const BUNDLES: readonly BundleName[] = [...INCIDENTS.map((i) => i.name), "runbook", "scan"];

export type Handler = (event: unknown) => Promise<unknown>;

/** Files under functions/ that no bundle holds: the drill's scenario declarations. */
export function isDrillOnly(file: string): boolean {
  return path.basename(file) === "drill.ts";
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts") && !isDrillOnly(full))
      newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Why the bundles must be (re)built, or undefined when every one is newer than every source file.
 * With `missingOnly`, only a missing bundle counts (the caller built them moments ago).
 */
export function staleBundles(
  names: readonly string[],
  { distDir = DIST_DIR, missingOnly = false }: { distDir?: string; missingOnly?: boolean } = {},
): string | undefined {
  const sources = missingOnly ? 0 : newestSource(path.join(REPO_ROOT, "functions"));
  for (const name of names) {
    let built: number;
    try {
      built = statSync(path.join(distDir, name, "index.mjs")).mtimeMs;
    } catch {
      return `dist/${name}/index.mjs is missing`;
    }
    if (built < sources) return `dist/${name}/index.mjs is older than the sources`;
  }
  return undefined;
}

/**
 * Builds every bundle with the project's build (scripts/build.ts). It resolves `functions/` and
 * `dist/` from the working directory, so the build runs from the repository root.
 */
export async function buildBundles(): Promise<void> {
  const { buildAll } = await import("../../scripts/build.js");
  const cwd = process.cwd();
  const here = path.resolve(cwd) === path.resolve(REPO_ROOT);
  if (!here) process.chdir(REPO_ROOT);
  try {
    await buildAll();
  } finally {
    if (!here) process.chdir(cwd);
  }
}

let generation = 0;

/**
 * Imports a fresh copy of a bundle (a cold start) after setting `env` in `process.env` (values
 * `undefined` are removed): the bundle reads its config and topic at import. The query string
 * makes Node load a new module instance each time.
 * @throws what the cold start throws (an invalid config is a ConfigError, as in Lambda).
 */
export async function loadHandler(
  name: BundleName,
  env: Record<string, string | undefined>,
  distDir = DIST_DIR,
): Promise<Handler> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const url = `${pathToFileURL(path.join(distDir, name, "index.mjs")).href}?cold-start=${++generation}`;
  const mod: unknown = await import(url);
  const handler =
    typeof mod === "object" && mod !== null && "handler" in mod
      ? (mod as { handler: unknown }).handler
      : undefined;
  if (typeof handler !== "function") throw new Error(`dist/${name}/index.mjs exports no handler`);
  return handler as Handler;
}
