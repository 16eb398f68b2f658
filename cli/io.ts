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
