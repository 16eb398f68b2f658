/**
 * The EventBridge patterns of the seven incident rules, as plain data: the stack deploys them,
 * the tests match fixtures against them (infra/event-pattern.ts) and the drill can reuse them.
 *
 * Every rule matches CloudTrail KMS API calls on the default bus (kms-facts.md "Events") and
 * leaves out the responder's own calls (loop prevention; the handlers check again in code).
 * Filters that need more than a pattern (AWS-service grants, approved deletions) stay in code:
 * those events reach the function, which decides and reports.
 */
import { CRYPTOGRAPHIC_OPERATIONS, type IncidentName } from "../functions/shared/types.js";
import type { EventPattern, Json } from "./event-pattern.js";

/** The rule state that lets failed and read-only management events reach a rule (kms-facts.md). */
export const ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

/** Incidents whose rule needs `ALL_MANAGEMENT_EVENTS`; every other rule is plain `ENABLED`. */
export const RULE_STATES: Partial<Record<IncidentName, typeof ALL_MANAGEMENT_EVENTS>> = {
  // Decrypt, GenerateDataKey, ... on a key pending deletion fail: only this state delivers them.
  "pending-deletion-key-used": ALL_MANAGEMENT_EVENTS,
};

/** Successful calls only: a failed call changed nothing (product.md "Incidents"). */
const SUCCEEDED = { errorCode: [{ exists: false }] };

/**
 * Not made by a responder role. `anything-but` alone does not match an absent field, and IAM
 * users and the root user have no `sessionIssuer`, so the absent case is ORed in explicitly
 * (kms-facts.md "EventBridge patterns"). It sits under `userIdentity` so that a rule can use a
 * second `$or` at the `detail` level (event-ruler allows `$or` at several levels).
 */
function notByResponder(roleArns: readonly string[]): Record<string, Json> {
  if (roleArns.length === 0) return {};
  const issuerArn = (matcher: Json) => ({ sessionContext: { sessionIssuer: { arn: [matcher] } } });
  return {
    userIdentity: { $or: [issuerArn({ "anything-but": [...roleArns] }), issuerArn({ exists: false })] },
  };
}

function kmsApiCall(detail: Record<string, Json>): EventPattern {
  return {
    source: ["aws.kms"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: { eventSource: ["kms.amazonaws.com"], ...detail },
  };
}

/**
 * The pattern of each incident's rule.
 * @param responderRoleArns the responder's own role ARNs (CDK tokens in the stack); their calls
 *   never match. With none, no loop-prevention clause is added.
 */
export function incidentPatterns(responderRoleArns: readonly string[]): Record<IncidentName, EventPattern> {
  const own = notByResponder(responderRoleArns);
  const successfulCall = (eventNames: string[]) =>
    kmsApiCall({ eventName: eventNames, ...SUCCEEDED, ...own });
  return {
    "rogue-grant": successfulCall(["CreateGrant"]),
    "key-deletion-scheduled": successfulCall(["ScheduleKeyDeletion"]),
    // PutKeyPolicy always carries a policy; CreateKey and ReplicateKey only when the caller set one
    // (without it the key gets the default policy, which is no finding).
    "key-policy-violation": kmsApiCall({
      $or: [
        { eventName: ["PutKeyPolicy"] },
        { eventName: ["CreateKey", "ReplicateKey"], requestParameters: { policy: [{ exists: true }] } },
      ],
      ...SUCCEEDED,
      ...own,
    }),
    "key-disabled": successfulCall(["DisableKey"]),
    "key-material-deleted": successfulCall(["DeleteImportedKeyMaterial"]),
    "key-rotation-disabled": successfulCall(["DisableKeyRotation"]),
    // A cryptographic operation that failed because its key is pending deletion: something still
    // uses the key. KMS answers KMSInvalidStateException with "<key ARN> is pending deletion." (the
    // message AWS's own CloudWatch recipe filters on). Administrative calls fail the same way but
    // prove nothing, so the event names keep the rule (and its volume) narrow. Own calls are left
    // out too: a responder touching a key pending deletion must not cancel its deletion.
    "pending-deletion-key-used": kmsApiCall({
      eventName: [...CRYPTOGRAPHIC_OPERATIONS].sort(),
      errorCode: ["KMSInvalidStateException"],
      errorMessage: [{ wildcard: "*is pending deletion." }],
      ...own,
    }),
  };
}
