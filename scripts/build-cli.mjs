/**
 * Builds the command line: `cli/main.ts` and the code it loads into `dist/cli/` as ES modules, one
 * chunk per command (main.ts imports each command's module on demand, so `preview` never loads the
 * S3 client, nor `triage` the emulator), with the packages it uses bundled in.
 *
 * The commands on-call runs many times at 3am, `preview` and `triage`, get a build of their own
 * besides: `dist/cli/commands/<command>.cjs`, the whole of main.ts with that command's code in ONE
 * file (the bin starts it for that command, with V8's code cache). Code splitting spreads their
 * code over about 30 files, half of them under 2 KB, and Node pays for each module file it loads.
 * What such a file loads only on demand (the S3 source, the organisation's names, an action's AWS
 * calls, the other commands) stays in the split build: the file loads those chunks through the
 * bin. They hold their own copy of the error classes, so main tells an error's kind by its class
 * or its name.
 *
 * Plain JavaScript, run by `node` itself: `npm ci` runs it (`prepare`) before tsx could,
 * `npm run build` runs it, and `bin/kms-responder.cjs` runs it on first use when the build is
 * missing. `node scripts/build-cli.mjs --if-stale` builds only when a source is newer than the
 * build (the npm scripts that run the CLI use it, and so does the test setup).
 *
 * Code that finds repository files from its own location (`new URL("../../events/",
 * import.meta.url)`) keeps working from a bundle: each source's `import.meta.url` is replaced by
 * that source file's own URL, computed from the bundle's location.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_DIR = path.join(ROOT, "dist", "cli");
export const CLI_ENTRY = path.join(CLI_DIR, "main.mjs");
/** The folders whose TypeScript the CLI is built from. */
const SOURCE_DIRS = ["cli", "functions", "scripts", "emulator", "infra"].map((d) => path.join(ROOT, d));

const SOURCE_URL_ARGUMENT = /(?<!__cr)(\(|,\s*)import\.meta\.url(?=\s*\))/g;

/** Rewrites `import.meta.url` in our own sources to the source file's URL (see above). */
const sourceUrls = (outDir) => ({
  name: "source-urls",
  setup(plugin) {
    plugin.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = readFileSync(args.path, "utf8");
      if (!text.includes("import.meta.url")) return { contents: text, loader: "ts" };
      const fromBundle = path.relative(outDir, args.path).split(path.sep).join("/");
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      // Only where it is an argument (`new URL("..", import.meta.url)`, `fileURLToPath(import.meta.url)`):
      // not in a string that esbuild's own banner option holds (`__cr(import.meta.url)`).
      return { contents: text.replace(SOURCE_URL_ARGUMENT, `$1${url}`), loader: "ts" };
    });
  },
});

/**
 * An action's AWS calls live beside its declaration, in `<action>.run.ts` (the declaration imports
 * its `run` from there). In the command line, that import becomes a wrapper that loads the module
 * on the first call: `preview` and `triage` read the declarations (phrases, undo commands, plans)
 * and never load the AWS SDK's command classes, while `run`, `scan` and the drill load them when
 * they act. The functions' bundles keep the static import. A run module exports only async
 * functions, so a wrapper that awaits the load is the same function.
 */
const lazyCalls = {
  name: "lazy-calls",
  setup(plugin) {
    plugin.onResolve({ filter: /\.run\.js$/ }, (args) => {
      if (args.kind !== "import-statement" || args.importer.endsWith(".run.ts")) return undefined;
      return {
        path: path.resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts")),
        namespace: "lazy-calls",
      };
    });
    plugin.onLoad({ filter: /.*/, namespace: "lazy-calls" }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const exported = [...text.matchAll(/^export\s+(.*)$/gm)].map((m) => m[1] ?? "");
      const names = exported.map((line) => /^async function (\w+)/.exec(line)?.[1]);
      if (names.some((n) => n === undefined)) {
        return { errors: [{ text: `${args.path}: a run module may export only async functions` }] };
      }
      const load = `const load = () => import(${JSON.stringify(`./${path.basename(args.path)}`)});`;
      const wrappers = names.map((n) => `export const ${n} = (...a) => load().then((m) => m.${n}(...a));`);
      return { contents: [load, ...wrappers].join("\n"), loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
};

/** The newest modification time of a TypeScript source below `dir` (0 when there is none). */
function newest(dir) {
  let at = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) at = Math.max(at, newest(full));
    else if (entry.name.endsWith(".ts")) at = Math.max(at, statSync(full).mtimeMs);
  }
  return at;
}

/** Why the CLI must be built (missing, or older than a source), or undefined when it is current. */
export function cliStale() {
  if (!existsSync(CLI_ENTRY)) return "dist/cli/main.mjs is missing";
  const built = statSync(CLI_ENTRY).mtimeMs;
  const sources = Math.max(...SOURCE_DIRS.filter((d) => existsSync(d)).map(newest));
  return sources > built ? "dist/cli is older than the sources" : undefined;
}

/** The commands built as one file each, and the module main.ts loads for each. */
const ONE_FILE_COMMANDS = { preview: "cli/preview.ts", triage: "cli/triage.ts" };

/** What both builds share. */
const COMMON = {
  outExtension: { ".js": ".mjs" },
  bundle: true,
  // The packages are bundled too, tree-shaken and minified: the SDK as node_modules holds it is
  // hundreds of CommonJS files (255 ms to import the KMS client alone), and the commands that
  // call AWS load it at every start. esbuild stays a package: the drill builds the functions
  // with it.
  external: ["esbuild"],
  minify: true,
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  legalComments: "none",
  platform: "node",
  format: "esm",
  target: "node20",
  mainFields: ["module", "main"],
  // Beside the bundles, for a reader of a stack (node --enable-source-maps) and the architecture
  // test; a command never loads them (no --enable-source-maps, no source-map-support at start).
  sourcemap: true,
  sourcesContent: false,
  absWorkingDir: ROOT,
  logLevel: "warning",
};

/** A source path as the resolver sees it: `./x.js` in TypeScript means `./x.ts`. */
const sourceOf = (args) => path.resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));

/**
 * In a one-file command: its own module is bundled in; every other module loaded on demand
 * (`import()`) is loaded from the split build (`chunks` maps a source to the split build's file
 * for it).
 */
const oneFile = (own, chunks) => ({
  name: "one-file",
  setup(plugin) {
    plugin.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      // A package (`import("cli-progress")`) as its file, the way the split build's metafile names it.
      const source = args.path.startsWith(".")
        ? sourceOf(args)
        : (await plugin.resolve(args.path, { kind: "import-statement", resolveDir: args.resolveDir })).path;
      if (source === own) return undefined;
      const file = chunks.get(source);
      if (!file) return { errors: [{ text: `${source}: not loaded on demand by the split build` }] };
      return { path: `../${file}`, external: true };
    });
  },
});

/**
 * A one-file command is a script the bin compiles itself (`vm.Script`), with V8's code cache of
 * its previous run beside it: compiling it is most of what is left of the start, and Node 20's
 * module loader keeps no code cache (Node 22's `module.enableCompileCache` would). So it is
 * CommonJS, its `import.meta.url` is a variable the bin passes, and so is its dynamic import.
 */
const ONE_FILE_FORMAT = {
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  define: { "import.meta.url": "__importMetaUrl" },
  // The bin gives it a `require`.
  banner: {},
  write: false,
};

/**
 * `import("../chunk.mjs")` becomes `__load("../chunk.mjs")`, the bin's import relative to the
 * file: V8 drops a script's dynamic import callback when it runs from a code cache (Node 20).
 * Same length, so the source map's columns still hold. Any other `import(` fails the build.
 */
function loadsThroughBin(text, file) {
  const rewritten = text.replaceAll('import("../', '__load("../');
  const left = /\bimport\s*\(/.exec(rewritten);
  if (left)
    throw new Error(
      `${file}: a dynamic import the bin cannot load (${rewritten.slice(left.index, left.index + 60)})`,
    );
  return rewritten;
}

/** The split build's file for each module it loads on demand or names (from esbuild's metafile). */
function entryFiles(metafile, outDir) {
  const files = new Map();
  for (const [out, meta] of Object.entries(metafile.outputs)) {
    if (meta.entryPoint && !meta.entryPoint.includes(":")) {
      files.set(path.resolve(ROOT, meta.entryPoint), path.relative(outDir, path.resolve(ROOT, out)));
    }
  }
  return files;
}

/**
 * Builds into a folder of its own, then puts it in place, so that a command started meanwhile
 * never reads half a build.
 */
export async function buildCli() {
  const staging = `${CLI_DIR}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  // Loaded here, not at the top: the bin imports this module on every run to check the build.
  const { build } = await import("esbuild");
  const split = await build({
    ...COMMON,
    // The triage threads of a large triage (cli/parallel-read.ts) share the command line's chunks.
    entryPoints: {
      main: path.join(ROOT, "cli", "main.ts"),
      "triage-worker": path.join(ROOT, "cli", "triage-worker.ts"),
    },
    outdir: staging,
    chunkNames: "[name]-[hash]",
    splitting: true,
    metafile: true,
    plugins: [lazyCalls, sourceUrls(CLI_DIR)],
  });
  const chunks = entryFiles(split.metafile, staging);
  for (const [command, file] of Object.entries(ONE_FILE_COMMANDS)) {
    const built = await build({
      ...COMMON,
      entryPoints: { [command]: path.join(ROOT, "cli", "main.ts") },
      outdir: path.join(staging, "commands"),
      ...ONE_FILE_FORMAT,
      plugins: [
        lazyCalls,
        oneFile(path.join(ROOT, file), chunks),
        sourceUrls(path.join(CLI_DIR, "commands")),
      ],
    });
    for (const out of built.outputFiles) {
      mkdirSync(path.dirname(out.path), { recursive: true });
      writeFileSync(out.path, out.path.endsWith(".cjs") ? loadsThroughBin(out.text, out.path) : out.contents);
    }
  }
  rmSync(CLI_DIR, { recursive: true, force: true });
  renameSync(staging, CLI_DIR);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const why = process.argv.includes("--if-stale") ? cliStale() : "on request";
  if (why) {
    await buildCli();
    console.error(`${path.relative(process.cwd(), CLI_ENTRY)}: the command line, built (${why})`);
  }
}
