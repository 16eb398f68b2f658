#!/usr/bin/env node
// The package's command. It runs the JavaScript that `npm run build` (or `npm ci`, through
// `prepare`) built into dist/cli/, one chunk per command, so a command loads only its own code.
// `preview` and `triage`, run many times during an incident, start from a file of their own
// (dist/cli/commands/, see scripts/build-cli.mjs), compiled here with V8's code cache of the
// previous run. When the build is missing (a checkout that skipped `prepare`), it is built first.
// After editing the sources, `npm run build` (or `npm run kms-responder -- ...`, which rebuilds
// what is stale). npx prints no npm banner on stdout, so `--json` output stays clean.
//
// CommonJS: Node starts a CommonJS file without setting up its ES module loader first (about
// 5 ms of CPU on each start); the loader is set up when a command imports the split build.
"use strict";
const { existsSync, readFileSync, renameSync, rmSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { fileURLToPath, pathToFileURL } = require("node:url");
const { Script } = require("node:vm");

// The SDK warns on every command that its releases from 2027 need Node 22; the CLI runs on Node 20
// by design, and the warning (on stderr) is noise for a responder at 3am.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const here = pathToFileURL(__filename);

/** The code cache, or undefined when there is none (or it cannot be read: then it is compiled). */
function readCache(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Runs a one-file command: a CommonJS script given `require`, its URL and an import relative to
 * it. V8's code cache (`<file>.cache`) skips compiling what the last run compiled; it is written
 * after a run that had none, or whose cache V8 refused (another Node), and never fails the
 * command (a read-only install just compiles every time).
 */
async function runOneFile(url) {
  const file = fileURLToPath(url);
  const cacheFile = `${file}.cache`;
  const cachedData = readCache(cacheFile);
  const wrapper = "(function (exports, require, module, __filename, __dirname, __load, __importMetaUrl) {\n";
  // lineOffset: stack traces give the file's own lines despite the wrapper's.
  const script = new Script(`${wrapper}${readFileSync(file, "utf8")}\n})`, {
    filename: file,
    lineOffset: -1,
    cachedData,
  });
  const module = { exports: {} };
  const load = (specifier) => import(new URL(specifier, url).href);
  script.runInThisContext()(
    module.exports,
    createRequire(url),
    module,
    file,
    fileURLToPath(new URL(".", url)),
    load,
    url.href,
  );
  await module.exports.runCli();
  if (cachedData && !script.cachedDataRejected) return;
  // Written aside, then renamed: a command started meanwhile never reads half a cache.
  const partial = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cacheFile);
  } catch {
    // Not writable: the next run compiles again.
    rmSync(partial, { force: true });
  }
}

async function start() {
  const main = new URL("../dist/cli/main.mjs", here);
  if (!existsSync(main)) {
    process.stderr.write("kms-responder: building the command line (dist/cli/main.mjs is missing)\n");
    const { buildCli } = await import(new URL("../scripts/build-cli.mjs", here).href);
    await buildCli();
  }
  const command = process.argv[2];
  const own =
    command === "preview" || command === "triage"
      ? new URL(`../dist/cli/commands/${command}.cjs`, here)
      : undefined;
  if (own && existsSync(own)) await runOneFile(own);
  else await (await import(main.href)).runCli();
}

start().catch((error) => {
  process.stderr.write(
    `kms-responder: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
