/**
 * The heartbeat: proof, every few minutes, that a KMS call still travels the whole path the
 * responders depend on (the trail, EventBridge's CloudTrail delivery, a rule), and an alarm when it
 * stops.
 *
 *   schedule (EventBridge Scheduler) -> kms:UpdateKeyDescription on the canary key
 *     -> CloudTrail -> EventBridge -> rule (that key's UpdateKeyDescription, by the schedule's role)
 *     -> log group -> metric filter -> `Heartbeat` (by account and Region)
 *     -> alarm (missing data is breaching: 2 x 15 minutes without one) -> topic
 *   anyone else's UpdateKeyDescription on a canary -> rule -> the Touches log group
 *     -> `CanaryTouchedByOthers` -> alarm at the first -> topic
 *
 * In an organisation each member account and Region has its own canary (the member template,
 * infra/member-template.ts), whose events its forwarding rule sends to the central bus; a rule there
 * writes the beats (made by a role on the heartbeat path) to the same log group, and every member
 * account and Region has an alarm named after it: in the template for the accounts listed in
 * `organization.heartbeatAccounts`, and kept by the sweep function for every other one
 * (functions/scan/heartbeat.ts):
 *
 *   member: schedule -> its canary key -> its trail -> its default bus -> forwarding rule
 *     -> central bus -> rule (the canary's description, a heartbeat role) -> log group
 *     -> `Heartbeat` (account, Region) -> alarm `<stack>-heartbeat-[discovered-]<account>-<Region>`
 *     -> topic
 *
 * Why one alarm per pair rather than one alarm over a query (Metrics Insights, Contributor
 * Insights): those see only the time series that report, so an account that goes quiet drops out
 * of the result instead of showing as zero, and nothing names it. An alarm on the pair's own
 * metric treats its missing data as breaching and is named after the account and Region.
 *
 * UpdateKeyDescription is a cheap management write that CloudTrail records and EventBridge
 * delivers like the calls the incidents watch, and changes nothing anyone uses: the canary key
 * encrypts nothing. The metric is recorded by a metric filter on the rule's log group: no function
 * to run, throttle or break.
 */
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import {
  CANARY_TOUCHED_METRIC,
  HEARTBEAT_DESCRIPTION,
  HEARTBEAT_EVALUATION_PERIODS,
  HEARTBEAT_METRIC,
  HEARTBEAT_PERIOD_MINUTES,
  HEARTBEAT_ROLE_PATH,
  heartbeatAlarmName,
  heartbeatCaller,
  memberQuietDescription,
  notHeartbeatCaller,
} from "../functions/shared/heartbeat.js";
import { METRICS_NAMESPACE } from "../functions/shared/metrics.js";

export { HEARTBEAT_DESCRIPTION, HEARTBEAT_METRIC };
/** The canary is touched every 5 minutes: three beats per 15-minute period. */
export const HEARTBEAT_RATE_MINUTES = 5;

export interface HeartbeatProps {
  topic: sns.ITopic;
  /** The alarm's period in minutes and how many empty periods in a row alarm (default 15 and 2). */
  periodMinutes?: number;
  evaluationPeriods?: number;
}

export class Heartbeat extends Construct {
  readonly canaryKey: kms.Key;
  readonly schedule: scheduler.CfnSchedule;
  /** The role the schedule beats as: the only caller the heartbeat rule counts. */
  readonly scheduleRole: iam.Role;
  readonly rule: events.Rule;
  readonly alarm: cloudwatch.Alarm;
  /** The member accounts' alarms, by `<account> <Region>` (central responder only). */
  readonly memberAlarms = new Map<string, cloudwatch.Alarm>();
  /** The canary touched by anyone but the schedule: the rule, and the alarm on the first touch. */
  readonly touchRule: events.Rule;
  readonly touchAlarm: cloudwatch.Alarm;
  private readonly log: logs.LogGroup;
  private readonly touches: logs.LogGroup;
  private readonly props: HeartbeatProps;

  constructor(scope: Construct, id: string, props: HeartbeatProps) {
    super(scope, id);
    this.props = props;
    this.canaryKey = new kms.Key(this, "CanaryKey", {
      description: HEARTBEAT_DESCRIPTION,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });

    // The schedule calls KMS directly (a universal target): exactly one action, on exactly this key.
    const role = new iam.Role(this, "ScheduleRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com"),
      path: HEARTBEAT_ROLE_PATH,
      description: "kms-responder heartbeat: touch the canary key's description",
    });
    this.scheduleRole = role;
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ["kms:UpdateKeyDescription"], resources: [this.canaryKey.keyArn] }),
    );
    this.schedule = new scheduler.CfnSchedule(this, "Schedule", {
      description: "kms-responder heartbeat: one recorded KMS write on the canary key",
      scheduleExpression: `rate(${HEARTBEAT_RATE_MINUTES} minutes)`,
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: "arn:aws:scheduler:::aws-sdk:kms:updateKeyDescription",
        roleArn: role.roleArn,
        input: JSON.stringify({ KeyId: this.canaryKey.keyArn, Description: HEARTBEAT_DESCRIPTION }),
      },
    });

    const log = new logs.LogGroup(this, "Beats", {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.rule = new events.Rule(this, "Rule", {
      description: "kms-responder heartbeat: the canary key's UpdateKeyDescription came through",
      eventPattern: {
        source: ["aws.kms"],
        detailType: ["AWS API Call via CloudTrail"],
        detail: {
          eventSource: ["kms.amazonaws.com"],
          eventName: ["UpdateKeyDescription"],
          errorCode: [{ exists: false }],
          requestParameters: { keyId: [this.canaryKey.keyArn] },
          // Only the schedule's beat counts: anyone else touching the canary proves nothing.
          ...heartbeatCaller(role.roleArn),
        },
      },
      // The log group as a plain target with a native resource policy: CDK's CloudWatchLogGroup
      // target would add a custom-resource function (with a managed policy) to write the policy.
      targets: [{ bind: () => ({ arn: log.logGroupArn }) }],
    });
    // A touch of the canary by anyone else is no beat, and suspicious: a forged beat can keep a
    // blind path looking alive. Those go to a log group of their own (never counted as beats),
    // and an alarm tells the topic of the first.
    const touches = new logs.LogGroup(this, "Touches", {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.touchRule = new events.Rule(this, "TouchRule", {
      description: "kms-responder heartbeat: the canary key touched by someone other than its schedule",
      eventPattern: {
        source: ["aws.kms"],
        detailType: ["AWS API Call via CloudTrail"],
        detail: {
          eventSource: ["kms.amazonaws.com"],
          eventName: ["UpdateKeyDescription"],
          // The record's resources name the key by ARN however the caller named it (id, alias).
          resources: { ARN: [this.canaryKey.keyArn] },
          ...notHeartbeatCaller(role.roleArn),
        },
      },
      targets: [{ bind: () => ({ arn: touches.logGroupArn }) }],
    });
    new logs.ResourcePolicy(this, "EventsWriteBeats", {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [
            new iam.ServicePrincipal("events.amazonaws.com"),
            new iam.ServicePrincipal("delivery.logs.amazonaws.com"),
          ],
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [log.logGroupArn, touches.logGroupArn],
        }),
      ],
    });
    this.log = log;
    this.touches = touches;
    new logs.MetricFilter(this, "TouchFilter", {
      logGroup: touches,
      filterPattern: logs.FilterPattern.stringValue("$.detail.eventName", "=", "UpdateKeyDescription"),
      metricNamespace: METRICS_NAMESPACE,
      metricName: CANARY_TOUCHED_METRIC,
      metricValue: "1",
    });
    this.touchAlarm = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: CANARY_TOUCHED_METRIC,
      statistic: "Sum",
      period: Duration.minutes(5),
    }).createAlarm(this, "TouchAlarm", {
      alarmDescription: `kms-responder: a heartbeat canary key was touched (UpdateKeyDescription) by someone other than the heartbeat's schedule: not counted as a beat, but a forged beat can keep a blind path looking alive. The record (account, Region, caller) is in the stack's heartbeat Touches log group.`,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.touchAlarm.addAlarmAction(new actions.SnsAction(this.props.topic));
    new logs.MetricFilter(this, "BeatFilter", {
      logGroup: log,
      filterPattern: logs.FilterPattern.stringValue("$.detail.eventName", "=", "UpdateKeyDescription"),
      metricNamespace: METRICS_NAMESPACE,
      metricName: HEARTBEAT_METRIC,
      metricValue: "1",
      // The CloudTrail record's own account and Region: a member's event forwarded to the central
      // bus keeps them whatever its envelope says.
      dimensions: { account: "$.detail.recipientAccountId", region: "$.detail.awsRegion" },
    });

    this.alarm = this.quietAlarm(
      "Alarm",
      this.canaryKey.stack.account,
      this.canaryKey.stack.region,
      "kms-responder went quiet: no heartbeat from this account and Region (the trail, EventBridge's delivery or the rule is broken, or stopped)",
    );
  }

  /**
   * The members' beats: a rule on the organisation bus for any canary's UpdateKeyDescription by a
   * role on the heartbeat path (the member's forwarding rule already matched its own canary key),
   * one for anyone else's (to the Touches log group), and one alarm per account and Region listed.
   */
  watchOrganization(bus: events.IEventBus, accounts: readonly string[], regions: readonly string[]): void {
    new events.Rule(this, "OrganizationRule", {
      description: "kms-responder heartbeat: a member's canary UpdateKeyDescription came through",
      eventBus: bus,
      eventPattern: {
        source: ["aws.kms"],
        detailType: ["AWS API Call via CloudTrail"],
        detail: {
          eventSource: ["kms.amazonaws.com"],
          eventName: ["UpdateKeyDescription"],
          errorCode: [{ exists: false }],
          requestParameters: { description: [HEARTBEAT_DESCRIPTION] },
          // Made by a member's schedule role (the heartbeat path), not by whoever may touch the key.
          ...heartbeatCaller(),
        },
      },
      targets: [{ bind: () => ({ arn: this.log.logGroupArn }) }],
    });
    new events.Rule(this, "OrganizationTouchRule", {
      description: "kms-responder heartbeat: a member's canary touched by someone other than its schedule",
      eventBus: bus,
      eventPattern: {
        source: ["aws.kms"],
        detailType: ["AWS API Call via CloudTrail"],
        detail: {
          eventSource: ["kms.amazonaws.com"],
          eventName: ["UpdateKeyDescription"],
          // Nothing but the members' canary forwards sends UpdateKeyDescription to this bus (no
          // incident watches it), so any description: a forger need not keep the canary's.
          ...notHeartbeatCaller(),
        },
      },
      targets: [{ bind: () => ({ arn: this.touches.logGroupArn }) }],
    });
    const stack = Stack.of(this);
    for (const account of accounts) {
      for (const region of regions) {
        // The central account's own Region beats through the stack's own canary (the alarm above).
        if (account === stack.account && region === stack.region) continue;
        const alarm = this.quietAlarm(
          `Member${account}${region}`,
          account,
          region,
          memberQuietDescription(account, region),
          heartbeatAlarmName(`${stack.stackName}-`, account, region),
        );
        this.memberAlarms.set(`${account} ${region}`, alarm);
      }
    }
  }

  /** An alarm on one account and Region's beats: missing data is breaching, the topic is told. */
  private quietAlarm(
    id: string,
    account: string,
    region: string,
    description: string,
    alarmName?: string,
  ): cloudwatch.Alarm {
    const beats = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: HEARTBEAT_METRIC,
      dimensionsMap: { account, region },
      statistic: "Sum",
      period: Duration.minutes(this.props.periodMinutes ?? HEARTBEAT_PERIOD_MINUTES),
    });
    const alarm = beats.createAlarm(this, id, {
      ...(alarmName && { alarmName }),
      alarmDescription: description,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: this.props.evaluationPeriods ?? HEARTBEAT_EVALUATION_PERIODS,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.props.topic));
    return alarm;
  }
}
