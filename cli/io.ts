/**
 * What every command shares: its output channels and the usage error. A module of its own so that
 * `main.ts` and the commands it loads on demand (the drill) import it, never each other.
 */

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
