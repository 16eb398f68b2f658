/**
 * The scheduled sweep, as a wiring diagram:
 *
 *   single account:  schedule -> sweep function (this account and Region) -> topic, Security Hub
 *   organisation:    schedule -> state machine: list pairs -> distributed Map over (account, Region)
 *                    pairs (items and results in the bucket, MaxConcurrency bounded) -> sweep
 *                    function per pair, through the member role -> summary notification
 *
 * The function keeps what it notified in the bucket (notified/<account>/<region>.json); the state
 * machine's items and results live there too (scan/). Reads every key; changes a key only for the
 * incidents `scan.enforce` lists, with exactly their executors' permissions.
 */
import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2 } from "aws-cdk-lib/cx-api";
import { Construct } from "constructs";
import { INCIDENTS } from "../functions/registry.js";
import { ITEMS_KEY, RESULTS_PREFIX } from "../functions/scan/organization.js";
import { permissionsOf } from "../functions/shared/actions/action.js";
import type { Config } from "../functions/shared/config.js";
import { incidentMode } from "../functions/shared/decision.js";
import { factPermissions } from "../functions/shared/facts.js";
import { DISCOVERED, HEARTBEAT_ALARM_INFIX } from "../functions/shared/heartbeat.js";
import type { Incident } from "../functions/shared/incident.js";
import {
  ASSUME_MEMBER_ROLE,
  DESCRIBE_ACCOUNT,
  type RolePermissions,
} from "../functions/shared/permissions.js";
import { STATE_READ_PERMISSIONS, SWEEP_PERMISSIONS } from "../functions/shared/state.js";
import {
  acknowledgeDescribeAccount,
  assumeMemberRoleStatement,
  describeAccountStatement,
  type Organization,
} from "./organization.js";
import { ResponderFunction } from "./responder-function.js";
import {
  suppressHeartbeatAlarms,
  suppressSweepBucketLogs,
  suppressSweepRole,
  suppressSweepStateMachine,
} from "./suppressions.js";

/** Reads without a resource ARN: granted on `*`. */
const LISTINGS = ["kms:ListKeys", "kms:ListAliases"] as const;
/** CloudTrail's event history: supports no resource ARN, so granted on `*`. */
const TAG_HISTORY = "cloudtrail:LookupEvents";
/** Organizations reads that list the organisation's accounts (organisation mode only). */
const ORGANIZATION_READS = [
  "organizations:ListAccountsForParent",
  "organizations:ListOrganizationalUnitsForParent",
  // The management account, which has no canary (functions/scan/heartbeat.ts).
  "organizations:DescribeOrganization",
] as const;

/** How often the sweep function puts an alarm on the heartbeat of accounts that have none. */
export const HEARTBEAT_ALARMS_SCHEDULE = "rate(1 hour)";

/**
 * What the sweep calls on keys: the reads every incident's state judgement needs, the key's name
 * for the notification, and the executors of the incidents `scan.enforce` opts in (in enforce mode).
 */
export function sweepPermissions(config: Config): RolePermissions {
  const reads = [
    ...SWEEP_PERMISSIONS,
    ...Object.values(STATE_READ_PERMISSIONS).flat(),
    ...factPermissions("notice"),
  ].filter((a) => !(LISTINGS as readonly string[]).includes(a));
  const acts = INCIDENTS.filter(
    (i) => config.scan.enforce.includes(i.name) && incidentMode(config, i.name) === "enforce",
  ).flatMap((i: Incident) => permissionsOf(i.executors, i.plans(config)));
  const kmsActions = [...new Set([...reads, ...acts])].sort();
  return {
    kms: kmsActions,
    other: [
      ...LISTINGS,
      // Who set an exempt tag, from the key's CloudTrail history (functions/scan/exemption-origin.ts).
      TAG_HISTORY,
      ...(config.organization ? [ASSUME_MEMBER_ROLE, DESCRIBE_ACCOUNT] : []),
    ],
  };
}

export interface ScheduledScanProps {
  readonly config: Config;
  readonly distDir: string;
  readonly topic: sns.ITopic;
  readonly notificationKey: kms.IKey;
  /** The keys this account's role may read and act on (this account, the organisation's Regions). */
  readonly keys: readonly string[];
}

/** The longest a sweep of one account and Region may take (Lambda's maximum). */
const SWEEP_TIMEOUT = Duration.minutes(15);

export class ScheduledScan extends Construct {
  readonly bucket: s3.Bucket;
  readonly function: ResponderFunction;
  readonly permissions: RolePermissions;
  /** Organisation mode: the state machine the schedule starts. */
  stateMachine: sfn.StateMachine | undefined;

  constructor(scope: Construct, id: string, props: ScheduledScanProps) {
    super(scope, id);
    const { config } = props;
    this.bucket = new s3.Bucket(this, "Bucket", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // The organisation's item lists and Map results are for the summary; a quarter keeps a history.
      lifecycleRules: [{ prefix: "scan/", expiration: Duration.days(90) }],
    });
    suppressSweepBucketLogs(this.bucket);
    this.permissions = sweepPermissions(config);
    const statements = [
      new iam.PolicyStatement({
        sid: "SweepKeys",
        actions: this.permissions.kms,
        resources: [...props.keys],
      }),
      new iam.PolicyStatement({ sid: "ListKeysAndAliases", actions: [...LISTINGS], resources: ["*"] }),
      new iam.PolicyStatement({ sid: "ReadTagHistory", actions: [TAG_HISTORY], resources: ["*"] }),
      new iam.PolicyStatement({
        sid: "KeepWhatWasNotified",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [this.bucket.arnForObjects("notified/*"), this.bucket.arnForObjects(`${ITEMS_KEY}`)],
      }),
      // Without it a first sweep's missing record reads as AccessDenied instead of NoSuchKey.
      new iam.PolicyStatement({
        sid: "ListTheBucket",
        actions: ["s3:ListBucket"],
        resources: [this.bucket.bucketArn],
      }),
      ...organizationStatements(this, config.organization, this.bucket),
      ...securityHubStatements(this, config),
    ];
    this.function = new ResponderFunction(this, "scan", {
      name: "scan",
      distDir: props.distDir,
      topic: props.topic,
      notificationKey: props.notificationKey,
      statements,
      timeout: SWEEP_TIMEOUT,
      // The state machine calls it and sees each result; the schedule of a single account invokes
      // it asynchronously (failures to its failure queue).
      invocation: config.organization ? "request-response" : "event",
      // One sweep at a time per pair is what keeps the notified record consistent; the Map's
      // MaxConcurrency bounds the organisation's.
    });
    this.function.function.addEnvironment("SCAN_BUCKET", this.bucket.bucketName);
    suppressSweepRole(this.function.role, logicalIdOf(this.bucket), config.organization !== undefined);
    if (config.organization) {
      acknowledgeDescribeAccount(this.function.role, config.organization);
      suppressHeartbeatAlarms(
        this.function.role,
        `${Stack.of(this).stackName}-${HEARTBEAT_ALARM_INFIX}`,
        DISCOVERED,
      );
    }
    this.stateMachine = undefined;
  }

  /** Starts the sweep on the schedule: the function (single account) or the state machine. */
  schedule(config: Config): void {
    if (config.organization) this.heartbeatAlarms();
    const expression = config.scan.schedule;
    if (expression === "off") return;
    const schedule = events.Schedule.expression(expression);
    if (!config.organization) {
      new events.Rule(this, "Schedule", {
        description: "kms-responder: sweep every key's current state",
        schedule,
        targets: [
          new targets.LambdaFunction(this.function.function, {
            ...(this.function.failureQueue && { deadLetterQueue: this.function.failureQueue }),
            retryAttempts: 2,
          }),
        ],
      });
      return;
    }
    this.stateMachine = this.organizationStateMachine(config.scan.maxConcurrency);
    new events.Rule(this, "Schedule", {
      description: "kms-responder: sweep every account and Region of the organisation",
      schedule,
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });
  }

  /**
   * Organisation mode: every hour the function puts an alarm on the heartbeat of each member
   * account and Region that has none (an account that joined after the deploy, or one not listed
   * in `organization.heartbeatAccounts`), whatever the sweep's own schedule says.
   */
  private heartbeatAlarms(): void {
    new events.Rule(this, "HeartbeatAlarms", {
      description: "kms-responder: an alarm on the heartbeat of every member account and Region",
      schedule: events.Schedule.expression(HEARTBEAT_ALARMS_SCHEDULE),
      targets: [
        new targets.LambdaFunction(this.function.function, {
          event: events.RuleTargetInput.fromObject({ action: "heartbeat-alarms" }),
          retryAttempts: 2,
        }),
      ],
    });
  }

  private organizationStateMachine(maxConcurrency: number): sfn.StateMachine {
    const fn = this.function.function;
    const listPairs = new tasks.LambdaInvoke(this, "ListPairs", {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({ action: "items" }),
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    // The V2 result writer renders only under its feature flag: set for this one construct, so the
    // app's other flags stay as they are.
    const scope = new Construct(this, "Engine");
    scope.node.setContext(STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const map = new sfn.DistributedMap(scope, "SweepEachPair", {
      itemReader: new sfn.S3JsonItemReader({ bucket: this.bucket, key: ITEMS_KEY }),
      itemSelector: {
        action: "sweep",
        account: sfn.JsonPath.stringAt("$$.Map.Item.Value.account"),
        region: sfn.JsonPath.stringAt("$$.Map.Item.Value.region"),
      },
      maxConcurrency,
      // A pair that cannot be swept (its member role missing, a Region disabled) is reported in the
      // summary, not a reason to stop the others.
      toleratedFailurePercentage: 100,
      resultWriterV2: new sfn.ResultWriterV2({ bucket: this.bucket, prefix: RESULTS_PREFIX }),
      mapExecutionType: sfn.StateMachineType.STANDARD,
    });
    map.itemProcessor(
      new tasks.LambdaInvoke(this, "SweepOnePair", {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      }),
    );
    const summary = new tasks.LambdaInvoke(this, "NotifySummary", {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({
        action: "summary",
        ResultWriterDetails: sfn.JsonPath.objectAt("$.ResultWriterDetails"),
      }),
      retryOnServiceExceptions: true,
    });
    const logGroup = new logs.LogGroup(this, "StateMachineLogs", {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const machine = new sfn.StateMachine(this, "Sweep", {
      comment: "kms-responder: sweep every account and Region of the organisation",
      definitionBody: sfn.DefinitionBody.fromChainable(listPairs.next(map).next(summary)),
      logs: { destination: logGroup, level: sfn.LogLevel.ALL },
      tracingEnabled: true,
    });
    suppressSweepStateMachine(machine, {
      machine: logicalIdOf(machine),
      bucket: logicalIdOf(this.bucket),
      function: logicalIdOf(fn),
    });
    // CDK makes the machine depend on its role and the role's policy; the role is already a
    // dependency through the machine's RoleArn (cfn-lint W3005), so only the policy stays.
    const policy = machine.role.node.tryFindChild("DefaultPolicy")?.node.defaultChild;
    if (policy instanceof iam.CfnPolicy) {
      (machine.node.defaultChild as sfn.CfnStateMachine).addOverride("DependsOn", [policy.logicalId]);
    }
    return machine;
  }
}

/** The CloudFormation logical id of a construct's resource (cdk-nag names findings by it). */
function logicalIdOf(construct: Construct): string {
  return Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

function organizationStatements(
  scope: Construct,
  organization: Organization | undefined,
  bucket: s3.IBucket,
): iam.PolicyStatement[] {
  if (!organization) return [];
  return [
    new iam.PolicyStatement({
      sid: "ListTheOrganisation",
      actions: [...ORGANIZATION_READS],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "ReadTheMapResults",
      actions: ["s3:GetObject"],
      resources: [bucket.arnForObjects(`${RESULTS_PREFIX}/*`)],
    }),
    assumeMemberRoleStatement(Stack.of(scope), organization),
    // The sweep's notifications name the account (account-names.ts).
    describeAccountStatement(Stack.of(scope), organization),
    ...heartbeatAlarmStatements(Stack.of(scope)),
  ];
}

/**
 * The member heartbeat alarms (functions/scan/heartbeat.ts): read the stack's heartbeat alarms,
 * write and delete only those whose names say the function discovered them.
 */
function heartbeatAlarmStatements(stack: Stack): iam.PolicyStatement[] {
  const alarms = (name: string) =>
    stack.formatArn({
      service: "cloudwatch",
      resource: "alarm",
      resourceName: `${name}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  const prefix = `${stack.stackName}-${HEARTBEAT_ALARM_INFIX}`;
  return [
    new iam.PolicyStatement({
      sid: "ReadHeartbeatAlarms",
      actions: ["cloudwatch:DescribeAlarms"],
      resources: [alarms(prefix)],
    }),
    new iam.PolicyStatement({
      sid: "KeepDiscoveredHeartbeatAlarms",
      actions: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
      resources: [alarms(`${prefix}${DISCOVERED}`)],
    }),
  ];
}

function securityHubStatements(scope: Construct, config: Config): iam.PolicyStatement[] {
  if (!config.securityHub) return [];
  const stack = Stack.of(scope);
  return [
    new iam.PolicyStatement({
      sid: "ImportAndResolveFindings",
      actions: ["securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"],
      resources: [
        stack.formatArn({
          service: "securityhub",
          resource: "product",
          resourceName: `${stack.account}/default`,
        }),
        stack.formatArn({ service: "securityhub", resource: "hub", resourceName: "default" }),
      ],
    }),
  ];
}
