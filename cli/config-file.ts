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
  // The defaults need no check against the registry (every incident takes them; each incident's
  // options are filled in where they are read), and building the strict schema at every start
  // cost preview and triage about a quarter of their start.
  if (!file) return parseConfigText(undefined, "defaults");
  // Loaded here, not at the top: only a config file is checked against the incidents.
  const { INCIDENTS } = await import("../functions/registry.js");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${unreadable(error)}`);
  }
  return parseConfigText(text, `config file ${file}`, INCIDENTS);
}
