/**
 * Reading principals as they appear in CloudTrail grants and identities. Config patterns are
 * matched with `arnLike` (functions/shared/arn-pattern.ts), field by field.
 */
import { matchesAnyArn } from "./arn-pattern.js";

/**
 * Whether a principal matches one of the configured patterns. The principal is normalised first
 * (CloudTrail records some service principals with surrounding whitespace).
 */
export function matchesAny(patterns: readonly string[], value: string | undefined): boolean {
  return matchesAnyArn(patterns, normalisePrincipal(value));
}

/** A principal as judged: trimmed. Quote the original text, judge this one. */
export function normalisePrincipal(value: string | undefined): string | undefined {
  return value?.trim();
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
