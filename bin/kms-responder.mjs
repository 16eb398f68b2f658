#!/usr/bin/env node
// The package's command. It runs the TypeScript sources through tsx, so a fresh clone needs only
// `npm ci` (no build step) before `npx kms-responder ...` works (npx prints no npm banner on
// stdout, so `--json` output stays clean).
import { register } from "tsx/esm/api";

// The SDK warns on every command that its releases from 2027 need Node 22; the CLI runs on Node 20
// by design, and the warning (on stderr) is noise for a responder at 3am.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
const { runCli } = await import("../cli/main.ts");
await runCli();
