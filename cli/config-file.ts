/**
 * The CLI's config file: read and validated with the same schema as the Lambda functions' config,
 * strictly against the registry (incident names, each incident's own options, `scan.enforce`), as
 * the stack checks it at synth.
 */
import { readFile } from "node:fs/promises";
import { type Config, parseConfigText } from "../functions/shared/config.js";
import { ConfigError } from "../functions/shared/errors.js";

/** Why a file could not be read, in words rather than the system's error text. */
function unreadable(error: unknown): string {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory, not a file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

/** The config in `file`, or the defaults when no file is given. */
export async function loadConfigFile(file: string | undefined): Promise<Config> {
  // Loaded here, not at the top: a command that reads no config does not load the incidents.
  const { INCIDENTS } = await import("../functions/registry.js");
  if (!file) return parseConfigText(undefined, "defaults", INCIDENTS);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${unreadable(error)}`);
  }
  return parseConfigText(text, `config file ${file}`, INCIDENTS);
}
