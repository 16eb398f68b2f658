/**
 * Reading principals as they appear in CloudTrail grants and identities.
 *
 * `globMatch` is the config's pattern semantics: `*` matches any run of characters, `:` and `/`
 * included, and nothing else is special. (IAM condition operators have their own matcher in
 * `policy/glob.ts`: `StringLike` adds `?`, `ArnLike` matches field by field.)
 */

/**
 * Glob match where `*` matches any run of characters (including none) and everything else is
 * literal. Iterative, linear in practice: never builds a RegExp from user input.
 */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = v;
    } else if (star !== -1) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

export function matchesAny(patterns: readonly string[], value: string | undefined): boolean {
  return value !== undefined && patterns.some((pattern) => globMatch(pattern, value));
}

/** `dynamodb.us-west-2.amazonaws.com`, `ec2.amazonaws.com`: an AWS service principal. */
export function isServicePrincipal(principal: string): boolean {
  return /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$/.test(principal);
}

/**
 * `111122223333:aws:ec2-infrastructure:i-81e2f56c`: the principal AWS uses for grants that
 * services such as EBS create for their infrastructure (CloudTrail writes it as the grantee).
 */
const INFRASTRUCTURE = /^(\d{12}):aws:[a-z0-9-]+-infrastructure:[A-Za-z0-9._:/-]+$/;
/** Newer records name the same principal as a session: `arn:aws:sts::<acct>:assumed-role/aws:ec2-infrastructure/i-...`. */
const INFRASTRUCTURE_SESSION =
  /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/aws:[a-z0-9-]+-infrastructure\/[A-Za-z0-9._-]+$/;

export function infrastructureAccount(principal: string): string | undefined {
  return INFRASTRUCTURE.exec(principal)?.[1] ?? INFRASTRUCTURE_SESSION.exec(principal)?.[1];
}

/** `invokedBy` names an AWS service (or `AWS Internal`): the call was made by AWS on a principal's behalf. */
export function isAwsInvoker(invokedBy: string | undefined): boolean {
  return invokedBy !== undefined && (invokedBy === "AWS Internal" || isServicePrincipal(invokedBy));
}

export { principalAccount, roleArnOfSession } from "./arn.js";
