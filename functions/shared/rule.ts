/**
 * Building blocks of the incidents' EventBridge patterns, as plain data: the stack deploys them and
 * the tests match fixtures against them (emulator/event-pattern.ts).
 *
 * Every rule matches CloudTrail KMS events and leaves out the responder's own calls (loop
 * prevention; the handlers check again in code).
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export interface EventPattern {
  [field: string]: Json;
}

/** Successful calls only: a failed call changed nothing, so there is nothing to respond to. */
export const SUCCEEDED = { errorCode: [{ exists: false }] } as const satisfies Record<string, Json>;

/**
 * Not made by a responder role. `anything-but` alone does not match an absent field, and IAM
 * users and the root user have no `sessionIssuer`, so the absent case is ORed in explicitly
 * (`{ "exists": false }`). It sits under `userIdentity` so that a rule can use a
 * second `$or` at the `detail` level (event-ruler allows `$or` at several levels).
 */
export function notByResponder(roleArns: readonly string[]): Record<string, Json> {
  if (roleArns.length === 0) return {};
  const issuerArn = (matcher: Json) => ({ sessionContext: { sessionIssuer: { arn: [matcher] } } });
  return {
    userIdentity: { $or: [issuerArn({ "anything-but": [...roleArns] }), issuerArn({ exists: false })] },
  };
}

/** A CloudTrail KMS API call with the given `detail` fields. */
export function kmsApiCall(detail: Record<string, unknown>): EventPattern {
  return {
    source: ["aws.kms"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: { eventSource: ["kms.amazonaws.com"], ...(detail as Record<string, Json>) },
  };
}

/**
 * A CloudTrail API call of another service (`aws.cloudtrail` / `cloudtrail.amazonaws.com`, ...)
 * with the given `detail` fields: EventBridge delivers each service's CloudTrail events under its
 * own `source`.
 */
export function serviceApiCall(
  calls: ReadonlyArray<{ source: string; eventSource: string }>,
  detail: Record<string, unknown>,
): EventPattern {
  return {
    source: [...new Set(calls.map((c) => c.source))],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: [...new Set(calls.map((c) => c.eventSource))],
      ...(detail as Record<string, Json>),
    },
  };
}

/** A successful call of one of `eventNames`, not made by the responder. */
export function successfulCall(eventNames: readonly string[], own: Record<string, unknown>): EventPattern {
  return kmsApiCall({ eventName: [...eventNames], ...SUCCEEDED, ...own });
}
