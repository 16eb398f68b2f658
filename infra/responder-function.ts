/**
 * One responder function with the defaults every function shares: runtime, arm64, memory,
 * timeout, its own log group, the permissions to publish to the encrypted topic (and to change its
 * key only to repair it), and alarms. Functions invoked asynchronously (the incidents, by EventBridge)
 * also get Lambda's retries and an SQS on-failure destination with an alarm; the runbook, invoked
 * synchronously by people, gets neither (see `invocation`).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { type CfnResource, Duration, RemovalPolicy, Tags } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { RESERVED_CONCURRENCY_TAG } from "../functions/shared/actions/restore-function-concurrency.js";
import { nodeOptionsEnvironment } from "./node-options.js";
import { suppressFailureQueueDlq } from "./suppressions.js";

/** The newest Node.js runtime aws-cdk-lib 2.276 offers. */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Measured on the built bundles (Node 20, run with `--enable-source-maps`, which only adds to it): importing one takes RSS from
 * 41 MB to 76-89 MB (heap 15 MB) in 135-185 ms; a full invocation against the local emulator
 * (DescribeKey, ListResourceTags, the action, read-back, SNS publish) peaks at 93-100 MB RSS in a
 * process that also holds the test harness's own SDK clients. 256 MB leaves 2.5x headroom and
 * more CPU than 128 MB for the cold start.
 */
export const MEMORY_MB = 256;

/**
 * Measured against the local emulator: first invocations took 22-167 ms, warm ones 7-100 ms (the
 * deletion handlers are the slowest: cancel, enable, read-back). On AWS each call adds in-Region
 * latency, and the SDK retries throttled KMS calls up to 6 attempts with backoff (up to ~6 s per
 * call); a deletion handler makes up to ~10 calls (LookupEvents pages included), so 60 s covers a
 * throttled worst case with room to spare.
 */
export const TIMEOUT = Duration.seconds(60);

/** Lambda's asynchronous retries; then the event goes to the failure queue. */
export const ASYNC_RETRY_ATTEMPTS = 2;
/** Throttled events wait in Lambda's queue this long (the maximum): a burst is delayed, not lost. */
export const MAX_EVENT_AGE = Duration.hours(6);
export const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/**
 * Changes the responder must never make to its own notification key (it is also in `ignoredKeys`):
 * everything that could silence it or weaken it. Re-enabling it and cancelling its deletion are
 * not here: they are the repair (NOTIFICATION_KEY_REPAIR_ACTIONS).
 */
export const NOTIFICATION_KEY_PROTECTED_ACTIONS = [
  "kms:DisableKey",
  "kms:ScheduleKeyDeletion",
  "kms:PutKeyPolicy",
  "kms:CreateGrant",
  "kms:RevokeGrant",
  "kms:RetireGrant",
  "kms:DisableKeyRotation",
  "kms:EnableKeyRotation",
  "kms:DeleteImportedKeyMaterial",
] as const;

/**
 * The one change every responder may make to the notification key: bring it back when someone
 * disabled it or scheduled its deletion (anyone who can silence the topic silences every alarm
 * too), reading its state first. The key policy grants the same to exactly these roles.
 */
export const NOTIFICATION_KEY_REPAIR_ACTIONS = [
  "kms:DescribeKey",
  "kms:EnableKey",
  "kms:CancelKeyDeletion",
] as const;

/** Lambda's limit on a function name. */
const FUNCTION_NAME_LIMIT = 64;

export interface ResponderFunctionProps {
  /** The function's folder name, bundled by `npm run build` to `<distDir>/<name>/index.mjs`. */
  readonly name: string;
  /** The deployed function's name (default: one CloudFormation generates). */
  readonly functionName?: string;
  readonly distDir: string;
  readonly topic: sns.ITopic;
  readonly notificationKey: kms.IKey;
  /** The incident's own permissions. */
  readonly statements: readonly iam.PolicyStatement[];
  readonly reservedConcurrency?: number;
  /**
   * How the function is invoked (default `event`).
   * - `event`: asynchronously, by an EventBridge rule. Lambda retries a failed invocation
   *   ASYNC_RETRY_ATTEMPTS times, then sends the event to the failure queue, which has an alarm.
   * - `request-response`: synchronously, by people (the CLI, SSM Automation), who get the result
   *   or the error in the response. No failure queue: nothing would ever land in it, and an alarm
   *   on it would promise a safety net that does not exist. No asynchronous retries either: if
   *   someone invokes it with `--invocation-type Event` anyway, a manual action runs once and is
   *   never repeated (and notified again) unseen.
   */
  readonly invocation?: "event" | "request-response";
  /** Default TIMEOUT; the sweep reads every key of an account and Region in one invocation. */
  readonly timeout?: Duration;
}

export class ResponderFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  /** Lambda's on-failure destination and the rule target's dead-letter queue (`event` functions only). */
  readonly failureQueue: sqs.Queue | undefined;

  constructor(scope: Construct, id: string, props: ResponderFunctionProps) {
    super(scope, id);
    const { name, topic, notificationKey } = props;
    const asynchronous = (props.invocation ?? "event") === "event";
    if (props.functionName !== undefined && props.functionName.length > FUNCTION_NAME_LIMIT) {
      throw new Error(
        `the function name ${props.functionName} is longer than Lambda's ${FUNCTION_NAME_LIMIT} characters: use a shorter stack name`,
      );
    }

    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `kms-responder ${name}: only the KMS actions this ${asynchronous ? "incident" : "function"} needs`,
    });
    for (const statement of props.statements) this.role.addToPolicy(statement);
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid: "Notify", actions: ["sns:Publish"], resources: [topic.topicArn] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "EncryptNotifications",
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [notificationKey.keyArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "RepairTheNotificationKey",
        actions: [...NOTIFICATION_KEY_REPAIR_ACTIONS],
        resources: [notificationKey.keyArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "NeverChangeTheNotificationKey",
        effect: iam.Effect.DENY,
        actions: [...NOTIFICATION_KEY_PROTECTED_ACTIONS],
        resources: [notificationKey.keyArn],
      }),
    );

    // An explicit log group (retention, and no AWSLambdaBasicExecutionRole managed policy).
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );

    if (asynchronous) {
      this.failureQueue = new sqs.Queue(this, "Failures", {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      suppressFailureQueueDlq(this.failureQueue);
    } else {
      this.failureQueue = undefined;
    }

    this.function = new lambda.Function(this, "Function", {
      ...(props.functionName !== undefined && { functionName: props.functionName }),
      description: `kms-responder: ${name}`,
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(bundleDir(props.distDir, name)),
      handler: "index.handler",
      memorySize: MEMORY_MB,
      timeout: props.timeout ?? TIMEOUT,
      role: this.role,
      logGroup,
      ...(this.failureQueue
        ? {
            retryAttempts: ASYNC_RETRY_ATTEMPTS,
            maxEventAge: MAX_EVENT_AGE,
            onFailure: new destinations.SqsDestination(this.failureQueue),
          }
        : { retryAttempts: 0 }),
      environment: {
        NOTIFICATION_TOPIC_ARN: topic.topicArn,
        ...nodeOptionsEnvironment(),
      },
      ...(props.reservedConcurrency !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrency,
      }),
    });

    // What the stack reserves, where the repair of a tampered function can read it back
    // (GetFunction returns the tags): it puts that value back rather than guessing.
    if (props.reservedConcurrency !== undefined) {
      Tags.of(this.function).add(RESERVED_CONCURRENCY_TAG, String(props.reservedConcurrency));
    }

    // cfn-lint W3005 flags the function's DependsOn on its role as redundant with the GetAtt. CDK
    // adds it on purpose, together with the DependsOn on the role's policy (which no GetAtt
    // covers), so the function is never created before its permissions exist.
    (this.function.node.defaultChild as CfnResource).addMetadata("cfn-lint", {
      config: { ignore_checks: ["W3005"] },
    });

    const alarmOn = (alarmId: string, what: string, metric: cloudwatch.IMetric) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `kms-responder ${name}: ${what}`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new cwActions.SnsAction(topic));
    };
    const period = Duration.minutes(5);
    alarmOn("ErrorsAlarm", "invocations failed", this.function.metricErrors({ period, statistic: "Sum" }));
    alarmOn(
      "ThrottlesAlarm",
      "invocations throttled",
      this.function.metricThrottles({ period, statistic: "Sum" }),
    );
    if (this.failureQueue) {
      alarmOn(
        "FailuresAlarm",
        "events that failed all retries wait in the failure queue",
        this.failureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: "Maximum" }),
      );
    }
  }
}

/** `<distDir>/<name>`, after checking the bundle is there: synth fails clearly when it is not. */
function bundleDir(distDir: string, name: string): string {
  const dir = path.resolve(distDir, name);
  if (!existsSync(path.join(dir, "index.mjs"))) {
    throw new Error(
      `${path.join(distDir, name, "index.mjs")} is missing: run "npm run build" first ("npm run synth" and "npm run deploy" do)`,
    );
  }
  return dir;
}
