/**
 * What every command that calls AWS shares: `--profile`, `--region` and `--endpoint-url` (the
 * AWS CLI's names), and one way to say that the credentials, not the deployment, are the problem.
 *
 * The flags set the environment the SDK's default chains read (`AWS_PROFILE`, `AWS_REGION`,
 * `AWS_ENDPOINT_URL`) before any client exists: every client a command makes, including those of
 * the modules it loads on demand, then agrees without each one being passed the three values.
 */
import { describeError } from "../functions/shared/errors.js";

/** The parseArgs options; `--region` is repeatable in doctor, which declares its own. */
export const AWS_OPTIONS = {
  profile: { type: "string" },
  region: { type: "string" },
  "endpoint-url": { type: "string" },
} as const;

export const AWS_OPTIONS_HELP = `  --profile     the AWS CLI profile to use (else AWS_PROFILE, else the default chain)
  --region      the Region to call (else AWS_REGION, else the profile's)
  --endpoint-url  a custom endpoint for every service (else AWS_ENDPOINT_URL), e.g. a local emulator`;

export interface AwsFlags {
  profile?: string | undefined;
  region?: string | undefined;
  "endpoint-url"?: string | undefined;
}

const REGION_NAME = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/**
 * Validates the flags and sets the environment from them.
 * @throws Error (a usage error for the caller) naming a malformed Region or endpoint.
 */
export function applyAwsFlags(flags: AwsFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  if (flags.region !== undefined && !REGION_NAME.test(flags.region))
    problems.push(`--region ${flags.region} is not a Region name (like eu-west-1)`);
  const endpoint = flags["endpoint-url"];
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint))
    problems.push(`--endpoint-url ${endpoint} is not an http(s) URL`);
  if (flags.profile !== undefined && flags.profile.trim() === "")
    problems.push("--profile must not be empty");
  if (problems.length) return problems;
  if (flags.profile !== undefined) env.AWS_PROFILE = flags.profile;
  if (flags.region !== undefined) {
    env.AWS_REGION = flags.region;
    env.AWS_DEFAULT_REGION = flags.region;
  }
  if (endpoint !== undefined) env.AWS_ENDPOINT_URL = endpoint.replace(/\/+$/, "");
  return [];
}

/**
 * The SDK's errors that mean "who you are" could not be established or was refused: no
 * credentials found, an expired or unknown token, a bad signature. None of them says anything
 * about the deployment, so a command says them once, as such.
 */
const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "ProviderError",
  "TokenProviderError",
  "CredentialsError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "AuthFailure",
  "MissingAuthenticationToken",
]);

/** True when `error` (or its `cause`) is a credentials problem. */
export function isCredentialsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (CREDENTIAL_ERRORS.has(error.name)) return true;
  // A profile whose SSO session expired, or a profile that does not exist.
  if (/SSO session|token has expired|Profile .* could not be found/i.test(error.message)) return true;
  return error.cause !== undefined && error.cause !== error && isCredentialsError(error.cause);
}

/** The SDK's error for a client without a Region. */
export function isMissingRegion(error: unknown): boolean {
  // An empty AWS_REGION is refused as a hostname component: the same problem.
  return error instanceof Error && /^Region is missing|^Region not accepted: region="" /.test(error.message);
}

/** A credentials error thrown through a command: main says it once, with what to do. */
export class CredentialsError extends Error {
  override name = "CredentialsError";
}

/** The one line for a credentials problem. */
export function credentialsMessage(error: unknown): string {
  return `no usable AWS credentials (${describeError(error)}): pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID, or sign in again (aws sso login)`;
}

/** In a check's catch block: a credentials problem stops the command instead of failing one check. */
export function throwIfCredentials(error: unknown): void {
  if (isCredentialsError(error)) throw new CredentialsError(credentialsMessage(error), { cause: error });
}
