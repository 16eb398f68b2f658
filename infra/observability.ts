/**
 * What the functions report beyond notifications, wired into the stack:
 *
 *   function -> EMF log lines (functions/shared/metrics.ts) -> metrics `kms-responder/*`
 *     -> dashboard (per incident: findings by severity, actions by status, remediation latency)
 *     -> alarm: any failed action (Actions, status=failed, sum > 0) -> SNS topic
 *   function -> securityhub:BatchImportFindings (only with `securityHub: true`)
 *
 * The metrics cost no permission (they are log lines); the Security Hub import needs one action on
 * one resource: the account's default product in the stack's Region.
 */
import { Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { Config } from "../functions/shared/config.js";
import { METRIC, METRICS_NAMESPACE, SERVICE } from "../functions/shared/metrics.js";
import { ACTION_STATUSES, SEVERITIES } from "../functions/shared/types.js";

export interface ObservabilityProps {
  /** Where the failed-actions alarm publishes (the notification topic). */
  readonly topic: sns.ITopic;
  /**
   * The functions by name (each incident's and the runbook's): the name is the `incident`
   * dimension their metrics carry.
   */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly config: Pick<Config, "securityHub">;
  /** The dashboard's name (default: one CloudFormation generates). */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;
const HEIGHT = 6;

/** A metric of the namespace, with Powertools' `service` dimension and the given ones. */
function metric(name: string, dimensions: Record<string, string>, statistic: string, label?: string) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE, ...dimensions },
    statistic,
    period: PERIOD,
    ...(label !== undefined && { label }),
  });
}

export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Fires on the first failed action of any function. */
  readonly failedActionsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // Any function, any incident: the `status` roll-up (metrics.ts writes it without `incident`).
    // No label: a labelled metric renders as metric math, and the alarm reads better as a plain metric.
    const failed = metric(METRIC.actions, { status: "failed" }, "Sum");
    this.failedActionsAlarm = new cloudwatch.Alarm(this, "FailedActionsAlarm", {
      alarmDescription:
        "kms-responder: an action failed (revoke, cancel, enable, disable...): read the notification with outcome failed",
      metric: failed,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No action in the period is no metric at all: not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedActionsAlarm.addAlarmAction(new cwActions.SnsAction(props.topic));

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      ...(props.dashboardName !== undefined && { dashboardName: props.dashboardName }),
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmWidget({
        title: "Failed actions (all functions)",
        alarm: this.failedActionsAlarm,
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: "Delivery lag (ms, eventTime to the handler, all functions)",
        left: ["p50", "p99"].map((statistic) => metric(METRIC.deliveryLag, {}, statistic, statistic)),
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: "Actions by status (all functions)",
        left: ACTION_STATUSES.map((status) => metric(METRIC.actions, { status }, "Sum", status)),
        stacked: true,
        width: WIDTH * 2,
        height: HEIGHT,
      }),
    );
    for (const incident of props.functions.keys()) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${incident}: findings by severity`,
          left: SEVERITIES.map((severity) =>
            metric(METRIC.findings, { incident, severity }, "Sum", severity),
          ),
          stacked: true,
          width: WIDTH,
          height: HEIGHT,
        }),
        new cloudwatch.GraphWidget({
          title: `${incident}: actions by status`,
          left: ACTION_STATUSES.map((status) => metric(METRIC.actions, { incident, status }, "Sum", status)),
          stacked: true,
          width: WIDTH,
          height: HEIGHT,
        }),
        new cloudwatch.GraphWidget({
          title: `${incident}: remediation latency (ms, event to action)`,
          left: ["p50", "p90", "Maximum"].map((statistic) =>
            metric(METRIC.latency, { incident }, statistic, statistic),
          ),
          width: WIDTH,
          height: HEIGHT,
        }),
      );
    }

    if (props.config.securityHub) {
      // The account's default product in this Region: the only product a custom integration
      // imports into (functions/shared/securityhub.ts).
      const product = stack.formatArn({
        service: "securityhub",
        resource: "product",
        resourceName: `${stack.account}/default`,
      });
      for (const fn of props.functions.values()) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: "ImportFindingsToSecurityHub",
            actions: ["securityhub:BatchImportFindings"],
            resources: [product],
          }),
        );
      }
    }
  }
}
