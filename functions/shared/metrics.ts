/**
 * Per-incident metrics in CloudWatch's embedded metric format (EMF): JSON lines on stdout that
 * CloudWatch Logs turns into metrics, no API call and no extra permission.
 *
 * Namespace `kms-responder`, every metric with the dimension `service` (`kms-responder`), and:
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
 * own; the roll-up without `incident` is a line of its own too. A finding writes one line, two
 * per action status, and one for the latency, per invocation, from `act`, right after the actions and the notification.
 *
 * The writer is ours (`EmfWriter`), not Powertools Metrics: one line per metric is all the
 * functions write, and the library cost every cold start more than the rest of our shared code.
 * `POWERTOOLS_METRICS_DISABLED=true` still turns the lines off (the command line sets it outside
 * Lambda, where nothing turns them into metrics).
 */
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

/** The CloudWatch units the metrics use. */
export type MetricUnit = "Count" | "Milliseconds";

/**
 * One EMF document: `_aws` (when, and which members of the root are metrics, by which dimensions,
 * in which namespace), then the dimension values and the metric value at the top level, where the
 * directive points.
 */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: MetricUnit }>;
    }>;
  };
  [member: string]: unknown;
}

/** The environment switch's true values (as Powertools reads it: `true`, `1`, `yes`, `on`). */
const TRUE_VALUES: readonly string[] = ["true", "1", "yes", "on"];

/** Whether `POWERTOOLS_METRICS_DISABLED` turns the metric lines off. */
export function metricsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.POWERTOOLS_METRICS_DISABLED;
  return value !== undefined && TRUE_VALUES.includes(value.trim().toLowerCase());
}

export interface EmfWriterOptions {
  namespace: string;
  /** The value of the `service` dimension every metric carries. */
  service: string;
  /** Where a line goes (default: stdout, which Lambda sends to the function's log stream). */
  write?: (line: string) => void;
  /** Read at every line, so a switch set after loading still counts (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The line's timestamp, ms since the epoch (default: now). */
  now?: () => number;
}

/** Writes metrics as EMF log lines, one metric per line. */
export class EmfWriter {
  readonly #options: EmfWriterOptions;

  constructor(options: EmfWriterOptions) {
    this.#options = options;
  }

  /** The EMF document of one metric with the `service` dimension and `dimensions`. */
  document(
    metric: string,
    unit: MetricUnit,
    value: number,
    dimensions: Record<string, string> = {},
  ): EmfDocument {
    // CloudWatch drops a line whose metric is not a number, or whose dimension has no value.
    if (!Number.isFinite(value)) throw new RangeError(`metric ${metric}: ${value} is not a finite number`);
    const empty = Object.keys(dimensions).find((name) => !dimensions[name]);
    if (empty !== undefined) throw new RangeError(`metric ${metric}: dimension ${empty} has no value`);
    const { namespace, service, now = Date.now } = this.#options;
    return {
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [["service", ...Object.keys(dimensions).filter((name) => name !== "service")]],
            Metrics: [{ Name: metric, Unit: unit }],
          },
        ],
      },
      service,
      ...dimensions,
      [metric]: value,
    };
  }

  /**
   * Writes one metric as one line, unless `POWERTOOLS_METRICS_DISABLED` says not to.
   * @throws RangeError for a value that is not a finite number or a dimension without a value
   */
  emit(metric: string, unit: MetricUnit, value: number, dimensions: Record<string, string> = {}): void {
    if (metricsDisabled(this.#options.env)) return;
    const line = `${JSON.stringify(this.document(metric, unit, value, dimensions))}\n`;
    const write = this.#options.write ?? ((text: string) => process.stdout.write(text));
    write(line);
  }
}

/** Module scope: one writer for the function. */
export const metrics = new EmfWriter({ namespace: METRICS_NAMESPACE, service: SERVICE });

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
  out: EmfWriter = metrics,
): void {
  const lag = deliveryLag(eventTime, receivedAt);
  if (lag === undefined) return;
  try {
    out.emit(METRIC.deliveryLag, "Milliseconds", lag, { incident });
    out.emit(METRIC.deliveryLag, "Milliseconds", lag);
  } catch (error) {
    logger.warn("metrics not written", { error: describeError(error) });
  }
}

/**
 * Writes the finding's metrics. Never throws: metrics are an observation, and a failure here must
 * not fail an invocation whose actions and notification went through.
 * @param actedAt when the actions ended (ms since the epoch)
 */
export function recordMetrics(
  finding: Finding,
  results: readonly ActionResult[],
  actedAt: number,
  out: EmfWriter = metrics,
): void {
  try {
    const incident = finding.incident;
    out.emit(METRIC.findings, "Count", 1, { incident, severity: finding.severity });

    const counts = new Map<ActionStatus, number>();
    for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    for (const [status, count] of counts) {
      out.emit(METRIC.actions, "Count", count, { incident, status });
      out.emit(METRIC.actions, "Count", count, { status });
    }

    const latency = remediationLatency(finding, actedAt);
    if (latency !== undefined && counts.has("succeeded")) {
      out.emit(METRIC.latency, "Milliseconds", latency, { incident });
    }
  } catch (error) {
    // Logged, not thrown (see above): the invocation's outcome does not depend on metrics.
    logger.warn("metrics not written", { error: describeError(error) });
  }
}

/** Counts a failed chat publish (never throws, like `recordMetrics`). */
export function recordChatFailure(out: EmfWriter = metrics): void {
  try {
    out.emit(METRIC.chatFailures, "Count", 1);
  } catch (error) {
    logger.warn("metrics not written", { error: describeError(error) });
  }
}
