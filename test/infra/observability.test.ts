/**
 * The observability construct in a small stack of its own: the failed-actions alarm (the metric
 * functions/shared/metrics.ts writes, sum > 0, to the topic), a dashboard row per function, the
 * Security Hub permission only when `securityHub` is on and only on the account's default
 * product, and no cdk-nag finding.
 */
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { Observability } from "../../infra/observability.js";
import { RUNTIME } from "../../infra/responder-function.js";

const NAMES = ["rogue-grant", "key-deletion-scheduled", "runbook"] as const;

/** A stack with an encrypted topic, three functions (roles without managed policies) and the construct. */
function build(securityHub: boolean) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, "observability");
  const key = new kms.Key(stack, "TopicKey", { enableKeyRotation: true });
  const topic = new sns.Topic(stack, "Topic", { masterKey: key, enforceSSL: true });
  const functions = new Map<string, lambda.Function>();
  for (const name of NAMES) {
    const role = new iam.Role(stack, `${name}-role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    functions.set(
      name,
      new lambda.Function(stack, name, {
        runtime: RUNTIME,
        handler: "index.handler",
        code: lambda.Code.fromInline("export const handler = async () => ({});"),
        role,
      }),
    );
  }
  const observability = new Observability(stack, "Observability", {
    topic,
    functions,
    config: { securityHub },
  });
  return { app, stack, topic, functions, observability, template: Template.fromStack(stack) };
}

/** The dashboard body with its tokens (Region, alarm ARN) reduced to placeholders, parsed. */
function dashboardBody(template: Template): { widgets: Array<Record<string, unknown>> } {
  const [dashboard] = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
  if (!dashboard) throw new Error("no dashboard");
  const body = (dashboard.Properties as { DashboardBody: unknown }).DashboardBody;
  const text = JSON.stringify(body);
  const join = JSON.parse(text) as { "Fn::Join": [string, unknown[]] };
  const flat = join["Fn::Join"][1].map((part) => (typeof part === "string" ? part : "TOKEN")).join("");
  return JSON.parse(flat) as { widgets: Array<Record<string, unknown>> };
}

describe("Observability", () => {
  it("alarms on any failed action (Actions, status=failed, sum > 0 in 5 minutes) through the topic", () => {
    const { template, stack, topic } = build(false);
    template.resourceCountIs("AWS::CloudWatch::Alarm", 1);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "kms-responder",
      MetricName: "Actions",
      Dimensions: [
        { Name: "service", Value: "kms-responder" },
        { Name: "status", Value: "failed" },
      ],
      Statistic: "Sum",
      Period: 300,
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      EvaluationPeriods: 1,
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }],
    });
  });

  it("shows, per function, findings by severity, actions by status and the latency, with the metrics' dimensions", () => {
    const { template } = build(false);
    const { widgets } = dashboardBody(template);
    const titles = widgets.map((w) => (w.properties as { title: string }).title);
    expect(titles).toEqual([
      "Failed actions (all functions)",
      "Delivery lag (ms, eventTime to the handler, all functions)",
      "Actions by status (all functions)",
      ...NAMES.flatMap((n) => [
        `${n}: findings by severity`,
        `${n}: actions by status`,
        `${n}: remediation latency (ms, event to action)`,
      ]),
    ]);
    const metricsOf = (title: string) => {
      const widget = widgets.find((w) => (w.properties as { title: string }).title === title);
      if (!widget) throw new Error(`no widget ${title}`);
      return (widget.properties as { metrics: unknown[][] }).metrics.map((m) => m.slice(0, 8));
    };
    expect(metricsOf("rogue-grant: findings by severity")).toEqual(
      ["critical", "high", "medium", "low", "info"].map((severity) => [
        "kms-responder",
        "Findings",
        "incident",
        "rogue-grant",
        "service",
        "kms-responder",
        "severity",
        severity,
      ]),
    );
    expect(metricsOf("runbook: actions by status")[2]).toEqual([
      "kms-responder",
      "Actions",
      "incident",
      "runbook",
      "service",
      "kms-responder",
      "status",
      "failed",
    ]);
    expect(metricsOf("key-deletion-scheduled: remediation latency (ms, event to action)")).toEqual(
      ["p50", "p90", "Maximum"].map(() => [
        "kms-responder",
        "RemediationLatency",
        "incident",
        "key-deletion-scheduled",
        "service",
        "kms-responder",
        expect.objectContaining({}),
      ]),
    );
  });

  it("shows the delivery lag's p50 and p99 over every function (the service dimension alone)", () => {
    const { template } = build(false);
    const widget = dashboardBody(template).widgets.find(
      (w) =>
        (w.properties as { title: string }).title ===
        "Delivery lag (ms, eventTime to the handler, all functions)",
    );
    if (!widget) throw new Error("no delivery lag widget");
    const metrics = (widget.properties as { metrics: unknown[][] }).metrics;
    expect(metrics.map((m) => m.slice(0, 4))).toEqual([
      ["kms-responder", "DeliveryLag", "service", "kms-responder"],
      ["kms-responder", "DeliveryLag", "service", "kms-responder"],
    ]);
    expect(metrics.map((m) => (m[4] as { stat: string }).stat)).toEqual(["p50", "p99"]);
  });

  it("grants no Security Hub action when securityHub is off", () => {
    const { template } = build(false);
    const policies = JSON.stringify(template.findResources("AWS::IAM::Policy"));
    expect(policies).not.toContain("securityhub");
  });

  it("grants each function's role BatchImportFindings on the account's default product only, when on", () => {
    const { template, stack, functions } = build(true);
    const product = {
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":securityhub:",
          { Ref: "AWS::Region" },
          ":",
          { Ref: "AWS::AccountId" },
          ":product/",
          { Ref: "AWS::AccountId" },
          "/default",
        ],
      ],
    };
    for (const fn of functions.values()) {
      const role = fn.role as iam.Role;
      template.hasResourceProperties("AWS::IAM::Policy", {
        Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: "ImportFindingsToSecurityHub",
              Effect: "Allow",
              Action: "securityhub:BatchImportFindings",
              Resource: product,
            },
          ]),
        },
      });
    }
    const statements = Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
      (p) =>
        (p.Properties as { PolicyDocument: { Statement: Array<{ Action: unknown }> } }).PolicyDocument
          .Statement,
    );
    expect(statements.filter((s) => JSON.stringify(s.Action).includes("securityhub"))).toHaveLength(
      NAMES.length,
    );
  });

  it.each([false, true])("leaves cdk-nag AwsSolutions without a finding (securityHub %s)", (securityHub) => {
    const { app, stack } = build(securityHub);
    const { violations } = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    expect(violations).toEqual([]);
  });
});
