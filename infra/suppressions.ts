/**
 * Every cdk-nag (AwsSolutions) suppression in the stack, each with its reason, in one place.
 * cdk-nag 3 reads CDK's own acknowledgements (`Validations.of(construct).acknowledge`), which
 * cover the construct and its children; each is scoped to one resource and, for IAM5, to the
 * exact wildcard finding it accepts (`AwsSolutions-IAM5[Resource::...]`).
 */
import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/** cdk-nag's id for the IAM5 finding on `key/*` of this account and Region. */
export const KEY_WILDCARD_FINDING =
  "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]";
export const STAR_RESOURCE_FINDING = "AwsSolutions-IAM5[Resource::*]";
/** cdk-nag's id for the IAM5 finding on this account's and Region's automation executions. */
export const AUTOMATION_EXECUTION_FINDING =
  "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-execution/*]";

export function suppressFailureQueueDlq(queue: IConstruct): void {
  Validations.of(queue).acknowledge({
    id: "AwsSolutions-SQS3",
    reason:
      "This queue is itself the dead-letter queue: Lambda's on-failure destination and the rule " +
      "target's DLQ. Messages stay 14 days and an alarm fires on the first one; a DLQ for it would " +
      "only move the same messages.",
  });
}

export function suppressKeyWildcard(role: IConstruct): void {
  Validations.of(role).acknowledge({
    id: KEY_WILDCARD_FINDING,
    reason:
      "A responder acts on whichever customer managed key the CloudTrail event names, and keys " +
      "are created at any time, so no list of key ARNs exists at deploy time. The grant is " +
      "limited to this account's and Region's keys (key/*, no aliases), to the few actions this " +
      "incident needs (never kms:*), and the notification key is explicitly denied.",
  });
}

export function suppressRunbookKeyWildcard(role: IConstruct): void {
  Validations.of(role).acknowledge({
    id: KEY_WILDCARD_FINDING,
    reason:
      "The runbook acts on whichever key the on-call engineer names in the middle of an incident, " +
      "and keys are created at any time, so no list of key ARNs exists at deploy time. The grant is " +
      "limited to this account's and Region's keys (key/*, no aliases), to the KMS actions of the " +
      "seven runbook actions (never kms:*, nothing that schedules deletion or changes a policy), and " +
      "the notification key is explicitly denied. People invoke it synchronously, with a reason.",
  });
}

/** Why each read-only action without resource-level permissions is granted on `*`. */
const RESOURCELESS_REASONS: Readonly<Record<string, string>> = {
  "cloudtrail:LookupEvents":
    'cloudtrail:LookupEvents supports no resource-level permissions, so "*" is the only valid resource; ' +
    "read-only: the deletion handlers and the runbook's cancel-key-deletion read the key's last " +
    "DisableKey/EnableKey to restore its prior state.",
  "organizations:DescribeOrganization":
    'organizations:DescribeOrganization supports no resource-level permissions, so "*" is the only valid resource; ' +
    "read-only: the key-policy responder learns its own organisation once per cold start, to trust a statement pinned to it.",
  "kms:ListAliases":
    'kms:ListAliases supports no resource-level permissions, so "*" is the only valid resource; ' +
    "read-only: the notification names the key by its aliases (called with the key's KeyId).",
};

/** Acknowledges the `*` resource of the role's read-only actions that support no resource ARN. */
export function suppressResourcelessReads(role: IConstruct, actions: readonly string[]): void {
  Validations.of(role).acknowledge({
    id: STAR_RESOURCE_FINDING,
    reason: actions
      .map((a) => RESOURCELESS_REASONS[a] ?? `${a}: read-only, no resource-level permissions.`)
      .join(" "),
  });
}

export function suppressAutomationExecutionRead(role: IConstruct): void {
  Validations.of(role).acknowledge({
    id: AUTOMATION_EXECUTION_FINDING,
    reason:
      "The runbook reads the automation execution that invoked it (ssm:GetAutomationExecution, " +
      "read-only) to learn who started it (ExecutedBy); execution ids are created per run, so no " +
      "list exists at deploy time. Limited to this account's and Region's automation executions.",
  });
}

export function suppressSweepBucketLogs(bucket: IConstruct): void {
  Validations.of(bucket).acknowledge({
    id: "AwsSolutions-S1",
    reason:
      "The sweep's bucket holds its own record of what it notified and the organisation's item lists " +
      "and results, written and read only by the sweep and its state machine (whose calls CloudTrail " +
      "records); server access logs would log the stack's own reads in a second bucket.",
  });
}

export function suppressSweepRole(role: IConstruct, bucketId: string, organization: boolean): void {
  Validations.of(role).acknowledge({
    id: KEY_WILDCARD_FINDING,
    reason:
      "The sweep reads every customer managed key of the account and Region, and keys are created at " +
      "any time, so no list of key ARNs exists at deploy time. Limited to this account's keys (key/*, " +
      "no aliases), to read actions plus the executors of the incidents scan.enforce lists; the " +
      "notification key is explicitly denied.",
  });
  Validations.of(role).acknowledge({
    id: STAR_RESOURCE_FINDING,
    reason:
      'kms:ListKeys, kms:ListAliases and cloudtrail:LookupEvents support no resource-level permissions, so "*" is the only valid ' +
      "resource; read-only: the sweep lists the keys and aliases of the account and Region, and reads an exempt-tagged key's history for who set the tag." +
      (organization
        ? " organizations:ListAccountsForParent and ListOrganizationalUnitsForParent are read-only and list the configured units' accounts; organizations:DescribeOrganization names the management account, which has no heartbeat canary."
        : ""),
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/notified/*]`,
    reason:
      "One record object per account and Region the sweep covers (notified/<account>/<region>.json), " +
      "in the stack's own bucket: the accounts are the organisation's, known only when it runs.",
  });
  if (organization) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/scan/results/*]`,
      reason:
        "The summary reads the distributed Map's result files, which Step Functions names per execution " +
        "under this prefix of the stack's own bucket.",
    });
  }
}

/**
 * The sweep function's member heartbeat alarms (organisation mode): alarms of accounts that join
 * at any time, so known only by their names' prefix.
 */
export function suppressHeartbeatAlarms(role: IConstruct, prefix: string, discovered: string): void {
  const alarm = (name: string) =>
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:${name}*]`;
  Validations.of(role).acknowledge({
    id: alarm(prefix),
    reason:
      "cloudwatch:DescribeAlarms, read-only, on the stack's own heartbeat alarms (listed and discovered), " +
      "whose names carry the member account and Region: the function needs to know which pairs have one.",
  });
  Validations.of(role).acknowledge({
    id: alarm(`${prefix}${discovered}`),
    reason:
      "cloudwatch:PutMetricAlarm and DeleteAlarms only on the heartbeat alarms the function itself keeps " +
      "(named <stack>-heartbeat-discovered-<account>-<Region>), one per member account and Region: the " +
      "accounts join the organisation at any time, so no list exists at deploy time.",
  });
}

/**
 * What CDK grants a state machine with a distributed Map that reads its items from and writes its
 * results to the stack's bucket, invokes the sweep function, traces and logs.
 */
export function suppressSweepStateMachine(
  machine: IConstruct,
  ids: { machine: string; bucket: string; function: string },
): void {
  const execution = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${ids.machine}"}]}]}`;
  const reasons: Record<string, string> = {
    [`<${ids.function}.Arn>:*`]:
      "Invoking the sweep function's versions and aliases (lambda:InvokeFunction on the function ARN with :*): one function the stack owns.",
    [`arn:<AWS::Partition>:s3:::<${ids.bucket}>/*`]:
      "The distributed Map reads its item list and writes its results in the stack's own bucket.",
    [`${execution}:*`]: "The distributed Map starts and stops its own child executions, named per run.",
    [`${execution}/*:*`]: "The distributed Map reads its own child executions, named per run.",
    "*": 'X-Ray tracing and log delivery (xray:PutTraceSegments, logs:CreateLogDelivery, ...) support no resource-level permissions, so "*" is the only valid resource.',
  };
  for (const [resource, reason] of Object.entries(reasons)) {
    Validations.of(machine).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  }
}
