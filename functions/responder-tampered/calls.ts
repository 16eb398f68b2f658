/**
 * The calls that blind or silence the responder, by service, with where each record names the
 * resource it changed (CloudTrail writes the request as the caller sent it: a name or an ARN).
 * Lambda's event names carry the API version they were made with (`DeleteFunction20150331`).
 */
export interface WatchedCall {
  /** The EventBridge `source` the call arrives under. */
  source: string;
  /** CloudTrail's `eventSource`. */
  eventSource: string;
  kind: "trail" | "rule" | "bus" | "function" | "topic" | "subscription" | "role";
  /** The request field naming the resource. */
  field: string;
  /** How to put it back, with RESOURCE (and REGION) filled in. */
  putBack: string;
}

const REDEPLOY =
  "redeploy the stack (run CloudFormation drift detection first: a deleted resource returns only when the template changes it)";

const trail = (putBack: string, field = "name"): WatchedCall => ({
  source: "aws.cloudtrail",
  eventSource: "cloudtrail.amazonaws.com",
  kind: "trail",
  field,
  putBack,
});
const rule = (putBack: string, field = "name"): WatchedCall => ({
  source: "aws.events",
  eventSource: "events.amazonaws.com",
  kind: "rule",
  field,
  putBack,
});
const fn = (putBack: string): WatchedCall => ({
  source: "aws.lambda",
  eventSource: "lambda.amazonaws.com",
  kind: "function",
  field: "functionName",
  putBack,
});
const sns = (kind: "topic" | "subscription", field: string, putBack: string): WatchedCall => ({
  source: "aws.sns",
  eventSource: "sns.amazonaws.com",
  kind,
  field,
  putBack,
});
const role = (putBack: string): WatchedCall => ({
  source: "aws.iam",
  eventSource: "iam.amazonaws.com",
  kind: "role",
  field: "roleName",
  putBack,
});

export const WATCHED_CALLS: Readonly<Record<string, WatchedCall>> = {
  StopLogging: trail("aws cloudtrail start-logging --name RESOURCE REGION"),
  DeleteTrail: trail(
    "re-create the trail from whatever defined it; nothing reaches the responder until then",
  ),
  UpdateTrail: trail(
    "put the trail's settings back from whatever defined it; kms-responder doctor checks it logs KMS management events",
  ),
  PutEventSelectors: trail(
    "put the event selectors back (management events, KMS included); kms-responder doctor checks them",
    "trailName",
  ),
  DisableRule: rule("aws events enable-rule --name RESOURCE BUS REGION"),
  DeleteRule: rule(REDEPLOY),
  RemoveTargets: rule(REDEPLOY, "rule"),
  PutRule: rule(REDEPLOY),
  PutPermission: {
    source: "aws.events",
    eventSource: "events.amazonaws.com",
    kind: "bus",
    field: "eventBusName",
    putBack:
      "aws events remove-permission --statement-id STATEMENT BUS REGION (anyone it names can now put events on the bus)",
  },
  UpdateFunctionConfiguration20150331v2: fn(REDEPLOY),
  UpdateFunctionCode20150331v2: fn(REDEPLOY),
  DeleteFunction20150331: fn(REDEPLOY),
  PutFunctionConcurrency20171031: fn(
    "aws lambda delete-function-concurrency --function-name RESOURCE REGION, or redeploy if the stack reserves concurrency for it",
  ),
  RemovePermission20150331v2: fn(REDEPLOY),
  Unsubscribe: sns(
    "subscription",
    "subscriptionArn",
    "subscribe the endpoint again: aws sns subscribe --topic-arn TOPIC --protocol PROTOCOL --notification-endpoint ENDPOINT REGION",
  ),
  SetTopicAttributes: sns("topic", "topicArn", REDEPLOY),
  DeleteTopic: sns("topic", "topicArn", REDEPLOY),
  PutRolePolicy: role(
    "aws iam delete-role-policy --role-name RESOURCE --policy-name POLICY (unless the stack defines it)",
  ),
  AttachRolePolicy: role("aws iam detach-role-policy --role-name RESOURCE --policy-arn POLICY"),
  DetachRolePolicy: role(REDEPLOY),
  DeleteRolePolicy: role(REDEPLOY),
  UpdateAssumeRolePolicy: role(REDEPLOY),
};

export const WATCHED_EVENT_NAMES: readonly string[] = Object.keys(WATCHED_CALLS);
export const WATCHED_SOURCES: readonly string[] = [
  ...new Set(Object.values(WATCHED_CALLS).map((c) => c.eventSource)),
];
