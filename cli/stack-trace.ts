/**
 * `kms-responder stack-trace`: turns a stack logged by a deployed function (positions in
 * `/var/task/index.mjs:1:23456`, minified) back into TypeScript files, lines and columns, with the
 * source maps `npm run build` writes beside each bundle (`dist/<function>/index.mjs.map`).
 *
 * The functions run without `--enable-source-maps` (reading the maps at import made every cold
 * start slower), so their logged stacks point into the bundles; the maps are resolved here, after
 * the fact, only when someone reads an error. The maps must come from the same build as the
 * deployed code: the same commit's `npm run build`, or the code package Lambda holds (it ships the
 * maps beside the bundles).
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import type { CliIo } from "./io.js";
import { UsageError } from "./io.js";

/**
 * A position in a deployed bundle: Lambda unpacks the code to /var/task, so a frame reads
 * `file:///var/task/chunks/chunk-X.mjs:1:234` or `/var/task/index.mjs:1:234` (lines and columns from 1).
 */
const FRAME = /(?:file:\/\/)?\/var\/task\/((?:[\w.-]+\/)*[\w.-]+\.mjs):(\d+):(\d+)/g;

/** Reads a bundle's map once; undefined when there is none. */
function mapLoader(folder: string): (file: string) => SourceMap | undefined {
  const cache = new Map<string, SourceMap | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      const mapFile = path.join(folder, `${file}.map`);
      cache.set(
        file,
        existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, "utf8"))) : undefined,
      );
    }
    return cache.get(file);
  };
}

/**
 * The text with every frame in a deployed bundle replaced by its source position, relative to the
 * repository (`functions/shared/notify.ts:12:5`); frames without a map or a mapping stay as they
 * are. `folder` is the function's built folder (`dist/<function>`). Also returns how many frames
 * there were, how many were resolved and which bundles had no map.
 */
export function resolveStack(
  text: string,
  folder: string,
  root = process.cwd(),
): { text: string; frames: number; resolved: number; missing: string[] } {
  const load = mapLoader(folder);
  const missing = new Set<string>();
  let frames = 0;
  let resolved = 0;
  const out = text.replace(FRAME, (frame, file: string, line: string, column: string) => {
    frames++;
    const map = load(file);
    if (!map) {
      missing.add(file);
      return frame;
    }
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!("originalSource" in entry)) return frame;
    resolved++;
    const source = path.relative(root, path.resolve(folder, entry.originalSource));
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
  return { text: out, frames, resolved, missing: [...missing] };
}

async function readInput(file: string | undefined): Promise<string> {
  if (file !== undefined && file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** The command: exit 0 when at least one frame was resolved (or there were none), 1 when none could be. */
export async function stackTraceCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { function: { type: "string" }, dist: { type: "string", default: "dist" } },
  });
  if (!values.function)
    throw new UsageError("stack-trace needs --function NAME (the function that logged it)");
  if (positionals.length > 1) throw new UsageError("stack-trace takes at most one FILE (or - for stdin)");
  const folder = path.resolve(values.dist, values.function);
  if (!existsSync(path.join(folder, "index.mjs")))
    throw new UsageError(
      `no bundle at ${path.join(values.dist, values.function, "index.mjs")}: run npm run build`,
    );
  const { text, frames, resolved, missing } = resolveStack(await readInput(positionals[0]), folder);
  io.out(text.replace(/\n$/, ""));
  for (const file of missing) io.err(`stack-trace: no source map for ${file} in ${folder}`);
  return frames > 0 && resolved === 0 ? 1 : 0;
}
