/**
 * The config the CDK app deploys: the file named by the CDK context `config`
 * (`npx cdk deploy -c config=kms-responder.config.json`), else `kms-responder.config.json` at
 * the root when it exists, else the defaults. Validated with the same schema the functions use,
 * strictly against the registry (incident names and options), so a bad file fails the synth with
 * the name of the wrong field.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { INCIDENTS } from "../functions/registry.js";
import { type Config, parseConfigText } from "../functions/shared/config.js";
import { ConfigError, describeError } from "../functions/shared/errors.js";

export const DEFAULT_CONFIG_FILE = "kms-responder.config.json";

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or `defaults`. */
  source: string;
}

/** @throws ConfigError when the file cannot be read or is invalid (the message names the field). */
export function loadConfig(file: string | undefined, cwd = process.cwd()): LoadedConfig {
  const chosen =
    file ?? (existsSync(path.resolve(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  if (chosen === undefined)
    return { config: parseConfigText(undefined, "defaults", INCIDENTS), source: "defaults" };
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, chosen), "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${chosen}: ${describeError(error)}`);
  }
  return { config: parseConfigText(text, `config file ${chosen}`, INCIDENTS), source: chosen };
}
