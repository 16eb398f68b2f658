/**
 * One process of the exposure benchmark (bench/exposure.ts): runs the drill's acting scenarios
 * `rounds` times against the given emulator with the same handlers, and prints one JSON line per
 * scenario run. The first delivery to each bundle in this process is its cold start.
 *
 *   exposure-child.ts ENDPOINT ROUNDS SCENARIO[,SCENARIO...]
 */
import { runDrill } from "../cli/drill.js";

const [endpoint, rounds, only] = process.argv.slice(2);
if (!endpoint || !rounds || !only) throw new Error("usage: exposure-child.ts ENDPOINT ROUNDS SCENARIOS");
const report = await runDrill({ endpoint, build: "never", rounds: Number(rounds), only: only.split(",") });
for (const s of report.scenarios) process.stdout.write(`${JSON.stringify(s)}\n`);
// The handlers' SDK clients keep idle sockets open; the figures are out.
process.exit(0);
