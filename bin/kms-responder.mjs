#!/usr/bin/env node
// The package's command. It runs the JavaScript that `npm run build` (or `npm ci`, through
// `prepare`) built into dist/cli/, one chunk per command, so a command loads only its own code;
// `preview` and `triage`, run many times during an incident, start from a file of their own
// (dist/cli/commands/), which loads faster than the same code spread over chunks.
// When that build is missing (a checkout that skipped `prepare`), it is built first. After editing
// the sources, `npm run build` (or `npm run kms-responder -- ...`, which rebuilds what is stale).
// npx prints no npm banner on stdout, so `--json` output stays clean.
import { existsSync } from "node:fs";

// The SDK warns on every command that its releases from 2027 need Node 22; the CLI runs on Node 20
// by design, and the warning (on stderr) is noise for a responder at 3am.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const main = new URL("../dist/cli/main.mjs", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("kms-responder: building the command line (dist/cli/main.mjs is missing)\n");
  const { buildCli } = await import("../scripts/build-cli.mjs");
  await buildCli();
}
const command = process.argv[2];
const own =
  command === "preview" || command === "triage"
    ? new URL(`../dist/cli/commands/${command}.mjs`, import.meta.url)
    : undefined;
const { runCli } = await import((own && existsSync(own) ? own : main).href);
await runCli();
