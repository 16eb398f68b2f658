/**
 * Per-incident metrics in CloudWatch's embedded metric format (Powertools Metrics): JSON lines on
 * stdout that CloudWatch Logs turns into metrics, no API call and no extra permission.
 *
 * Namespace `kms-responder`, every metric with the dimension `service` (Powertools' default,
 * `kms-responder`), and:
 * - `Findings` (Count) by `incident` and `severity`: one per finding acted on;
 * - `Actions` (Count) by `incident` and `status` (`succeeded`, `already-done`, `failed`, `skipped`,
 *   `dry-run`), and by `status` alone, so one alarm on `status=failed` covers every function;
 * - `RemediationLatency` (Milliseconds) by `incident`: from the event's time to the end of the actions, for a
 *   finding from an event whose actions changed something (`succeeded`);
 * - `DeliveryLag` (Milliseconds) by `incident`, and with `service` alone for every function: from
 *   the record's `eventTime` to the moment the handler received it, for every event with a time
 *   (ignored ones too): how late CloudTrail and EventBridge deliver (docs/performance.md).
 *
 * - `ChatFailures` (Count): a chat message that could not be published (the notification went out).
 *
 * An EMF line gives one value per dimension, so each severity and each status is a line of its
 * own; the roll-up without `incident` is a line of its own too (Powertools 2.36 warns on every
 * dimension set that shares a key with another in the same line). A finding writes one line, two
 * per action status, and one for the latency, per invocation, from `act`, right after the actions and the notification.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ActionResult } from "./actions/action.js";
import type { Finding } from "./decision.js";
import { describeError } from "./errors.js";
import { logger } from "./logger.js";
import type { ActionStatus } from "./types.js";

export const METRICS_NAMESPACE = "kms-responder";
export const SERVICE = "kms-responder";

export const METRIC = {
  findings: "Findings",
  actions: "Actions",
  latency: "RemediationLatency",
  chatFailures: "ChatFailures",
  deliveryLag: "DeliveryLag",
} as const;

/** Module scope, as Powertools recommends: the constructor only reads the environment. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });

/** Milliseconds from the event to `actedAt`, or undefined when there is no event time. */
export function remediationLatency(finding: Finding, actedAt: number): number | undefined {
  const eventTime = finding.event?.eventTime;
  if (!eventTime) return undefined;
  const at = Date.parse(eventTime);
  return Number.isNaN(at) ? undefined : Math.max(0, actedAt - at);
}

/** Milliseconds from an event's `eventTime` to `receivedAt`, or undefined without a readable time. */
export function deliveryLag(eventTime: string | undefined, receivedAt: number): number | undefined {
  const at = eventTime ? Date.parse(eventTime) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, receivedAt - at);
}

/**
 * Writes how late the event arrived, by incident and for every function. Never throws (as
 * recordMetrics).
 */
export function recordDeliveryLag(
  incident: string,
  eventTime: string | undefined,
  receivedAt: number,
  out: Metrics = metrics,
): void {
  const lag = deliveryLag(eventTime, receivedAt);
  if (lag === undefined) return;
  try {
    out
      .singleMetric()
      .addDimensions({ incident })
      .addMetric(METRIC.deliveryLag, MetricUnit.Milliseconds, lag);
    out.singleMetric().addMetric(METRIC.deliveryLag, MetricUnit.Milliseconds, lag);
  } catch (error) {
    logger.warn("metrics not written", { error: describeError(error) });
  }
}

/**
 * Writes the finding's metrics. Never throws: metrics are an observation, and a failure here must
 * not fail an invocation whose actions and notification went through (Powertools refuses invalid
 * dimension values with a warning, not an error).
 * @param actedAt when the actions ended (ms since the epoch)
 */
export function recordMetrics(
  finding: Finding,
  results: readonly ActionResult[],
  actedAt: number,
  out: Metrics = metrics,
): void {
  try {
    const incident = finding.incident;
    const line = (dimensions: Record<string, string>) => out.singleMetric().addDimensions(dimensions);
    line({ incident, severity: finding.severity }).addMetric(METRIC.findings, MetricUnit.Count, 1);

    const counts = new Map<ActionStatus, number>();
    for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    for (const [status, count] of counts) {
      line({ incident, status }).addMetric(METRIC.actions, MetricUnit.Count, count);
      line({ status }).addMetric(METRIC.actions, MetricUnit.Count, count);
    }

    const latency = remediationLatency(finding, actedAt);
    if (latency !== undefined && counts.has("succeeded")) {
      line({ incident }).addMetric(METRIC.latency, MetricUnit.Milliseconds, latency);
    }
  } catch (error) {
    // Logged, not thrown (see above): the invocation's outcome does not depend on metrics.
    logger.warn("metrics not written", { error: describeError(error) });
  }
}

/** Counts a failed chat publish (never throws, like `recordMetrics`). */
export function recordChatFailure(out: Metrics = metrics): void {
  try {
    out.singleMetric().addMetric(METRIC.chatFailures, MetricUnit.Count, 1);
  } catch (error) {
    logger.warn("metrics not written", { error: describeError(error) });
  }
}
