/**
 * The error classes of the project. Each tells the caller what to do with the failure:
 * - `InvalidEventError`: the input cannot be acted on; drop it (retrying cannot help).
 * - `ConfigError`: the configuration is wrong; fail the cold start / the CLI with exit 2.
 * - `ActionError`: an AWS action failed; the invocation fails so Lambda retries it.
 */

export class KmsResponderError extends Error {
  override name = "KmsResponderError";
}

export class InvalidEventError extends KmsResponderError {
  override name = "InvalidEventError";
}

/** A runbook payload or CLI argument that names a field wrongly: nothing is done. */
export class PayloadError extends InvalidEventError {
  override name = "PayloadError";
}

export class ConfigError extends KmsResponderError {
  override name = "ConfigError";
}

export class ActionError extends KmsResponderError {
  override name = "ActionError";
}

/**
 * A readable one-liner for any thrown value: `Name: message`. Only the message's first line is
 * kept: the SDK's error for an answer it cannot parse (an HTML error page) runs over several lines,
 * and its HTTP status says more than the parser's complaint, so that is added.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const first = error.message.split("\n", 1)[0]?.trim() ?? "";
  const text = first ? `${error.name}: ${first}` : error.name;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return error.name === "SyntaxError" && typeof status === "number" ? `${text} (HTTP ${status})` : text;
}

/** The AWS SDK error name (`NotFoundException`, `KMSInvalidStateException`, ...), if any. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
