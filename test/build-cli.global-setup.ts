/**
 * Before the unit tests: builds the command line (dist/cli/) when a source is newer, so the tests
 * that spawn bin/kms-responder.cjs run the code under test, as a user runs it after `npm run build`.
 */
import { buildCli, cliStale } from "../scripts/build-cli.mjs";

export default async function setup(): Promise<void> {
  if (cliStale()) await buildCli();
}
