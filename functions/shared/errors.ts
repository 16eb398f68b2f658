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
 * kept. The SDK's error for an answer it cannot parse (an HTML error page from a proxy, a gateway
 * or an emulator) is the parser's complaint about that page (`Unexpected token '<', "<!doctype "...`):
 * it is said as what happened instead, with the HTTP status, which is what a reader can act on.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (error.name === "SyntaxError" && typeof status === "number")
    return `UnreadableResponse: HTTP ${status}, and the body was not an AWS answer (an error page?)`;
  const first = error.message.split("\n", 1)[0]?.trim() ?? "";
  return first ? `${error.name}: ${first}` : error.name;
}

/** The AWS SDK error name (`NotFoundException`, `KMSInvalidStateException`, ...), if any. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
