/**
 * The heartbeat's names, shared by the stack (infra/heartbeat.ts), the sweep function that keeps
 * an alarm on every member account of the organisation (functions/scan/heartbeat.ts) and doctor.
 */

/** The metric the heartbeat's metric filter counts, by `account` and `region`. */
export const HEARTBEAT_METRIC = "Heartbeat";
/** The canary's description, which every beat writes again. */
export const HEARTBEAT_DESCRIPTION =
  "kms-responder heartbeat canary: encrypts nothing, touched by a schedule";
/**
 * The IAM path of every role that beats (the stack's schedule role and each member's): the
 * heartbeat rules count a canary's UpdateKeyDescription only when a role on this path made it, so
 * a principal merely allowed UpdateKeyDescription on the canary cannot keep a quiet account beating.
 */
export const HEARTBEAT_ROLE_PATH = "/kms-responder-heartbeat/";

/**
 * The EventBridge pattern of a beat's caller: the role (its ARN, path included, as CloudTrail's
 * `sessionContext.sessionIssuer.arn` gives it) exactly, or any heartbeat role of any account.
 */
export function heartbeatCaller(roleArn?: string): Record<string, unknown> {
  const arn = roleArn ?? { wildcard: `arn:*:iam::*:role${HEARTBEAT_ROLE_PATH}*` };
  return { userIdentity: { sessionContext: { sessionIssuer: { arn: [arn] } } } };
}

/**
 * The pattern of a canary's UpdateKeyDescription made by anyone but the heartbeat's roles: the
 * role given (exactly), or any role on the heartbeat path; `anything-but` alone does not match an
 * absent field, so a caller without a role session (a user, the root) is matched by `exists: false`.
 */
export function notHeartbeatCaller(roleArn?: string): Record<string, unknown> {
  const issuer = (matcher: unknown) => ({ sessionContext: { sessionIssuer: { arn: [matcher] } } });
  const other = roleArn
    ? { "anything-but": [roleArn] }
    : { "anything-but": { wildcard: `arn:*:iam::*:role${HEARTBEAT_ROLE_PATH}*` } };
  return { userIdentity: { $or: [issuer(other), issuer({ exists: false })] } };
}

/** The metric of canary touches by anyone but the heartbeat's roles (no dimensions: one series). */
export const CANARY_TOUCHED_METRIC = "CanaryTouchedByOthers";

/** The alarm's window: 2 periods of 15 minutes without a beat. */
export const HEARTBEAT_PERIOD_MINUTES = 15;
export const HEARTBEAT_EVALUATION_PERIODS = 2;

/** Where an alarm's name puts its account and Region: `<stack>-heartbeat-[discovered-]<account>-<Region>`. */
export const HEARTBEAT_ALARM_INFIX = "heartbeat-";
/**
 * The alarms the sweep function keeps (accounts not listed in `organization.heartbeatAccounts`)
 * carry this word after the infix, so that the function's role may change those and no other.
 */
export const DISCOVERED = "discovered-";

/** The name of a member account's heartbeat alarm, listed in the config (stack) or discovered (function). */
export function heartbeatAlarmName(
  prefix: string,
  account: string,
  region: string,
  discovered = false,
): string {
  return `${prefix}${HEARTBEAT_ALARM_INFIX}${discovered ? DISCOVERED : ""}${account}-${region}`;
}

/** A member account's alarm's description: the account and Region that went quiet, and where to look. */
export function memberQuietDescription(account: string, region: string): string {
  return `kms-responder: member account ${account} in ${region} went quiet: no heartbeat reached the central bus (its trail, its forwarding rule, the member stack or the delivery to the central bus is broken, or stopped)`;
}
