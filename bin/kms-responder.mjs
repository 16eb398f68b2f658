#!/usr/bin/env node
// The package's command. It runs the TypeScript sources through tsx, so a fresh clone needs only
// `npm ci` (no build step) before `npx kms-responder ...` works.
import { register } from "tsx/esm/api";

register();
await import("../functions/cli/main.ts");
