/**
 * What every command shares: its output channels and the usage error. A module of its own so that
 * `main.ts` and the commands it loads on demand (the drill) import it, never each other.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../functions/shared/errors.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  isTty: boolean;
  /** Resolves once `out` can take more; triage waits on it so a slow reader of a pipe bounds memory. */
  drain?: () => Promise<void>;
}

/**
 * Keeps the responders' CloudWatch metric lines (EMF, JSON on stdout that only Lambda's log stream
 * turns into metrics) out of a command's output when it runs their code in this process (`run
 * --direct`). Call before that code is loaded: the metrics read the environment once. An explicit
 * `POWERTOOLS_METRICS_DISABLED` wins.
 */
export function quietMetricsOutsideLambda(env: NodeJS.ProcessEnv = process.env): void {
  if (env.AWS_LAMBDA_FUNCTION_NAME === undefined) env.POWERTOOLS_METRICS_DISABLED ??= "true";
}

/**
 * Fails now, naming the path, when `file` could not be written later: its folder is missing or
 * not writable, or the path is a folder.
 * @throws ConfigError (exit 2)
 */
export async function checkWritable(file: string, flag: string): Promise<void> {
  const folder = dirname(resolve(file));
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory())
    throw new ConfigError(`${flag} ${file}: the folder ${folder} does not exist (create it first)`);
  if ((await stat(file).catch(() => undefined))?.isDirectory())
    throw new ConfigError(`${flag} ${file}: it is a folder; name a file`);
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new ConfigError(`${flag} ${file}: the folder ${folder} is not writable`);
  }
}
