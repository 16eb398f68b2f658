#!/usr/bin/env node
// The package's command. It runs the TypeScript sources through tsx, so a fresh clone needs only
// `npm ci` (no build step) before `npm run kms-responder -- ...` (or `kms-responder` after
// `npm link`) works.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../cli/main.ts");
await runCli();
