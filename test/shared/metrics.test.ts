/**
 * Metrics as EMF lines on stdout: the document one metric makes (as CloudWatch's embedded metric
 * format specifies it), which lines a finding writes (findings by severity, actions by status with
 * a roll-up for the alarm, remediation latency only when something changed), that nothing breaks
 * an invocation, and that a handler writes them once per invocation.
 */

import { KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ActionResult } from "../../functions/shared/actions/action.js";
import type { Finding } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import { logger } from "../../functions/shared/logger.js";
import {
  EmfWriter,
  METRICS_NAMESPACE,
  metricsDisabled,
  recordChatFailure,
  recordDeliveryLag,
  recordMetrics,
  remediationLatency,
  SERVICE,
} from "../../functions/shared/metrics.js";
import { coldStart, fakeKey, grantClaimedBy } from "../handlers/harness.js";
import { GRANT_KEY_ARN, loadEvent } from "../helpers/fixtures.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);

const KEY_ARN = GRANT_KEY_ARN;
/** external-grantee.json's eventTime, 2026-11-28T18:22:41Z. */
const EVENT_TIME = Date.parse("2026-11-28T18:22:41Z");

/** An EMF line without its timestamp: what CloudWatch makes a metric of. */
interface EmfLine {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }> };
  [field: string]: unknown;
}

/** Captures what is written to stdout, returning the EMF lines (timestamps dropped). */
function captureEmf(): () => EmfLine[] {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return () =>
    chunks
      .join("")
      .split("\n")
      .filter((l) => l.startsWith('{"_aws"'))
      .map((l) => {
        const line = JSON.parse(l) as EmfLine & { _aws: { Timestamp?: number } };
        delete line._aws.Timestamp;
        return line;
      });
}

/** A line as metrics.ts writes it: one metric, the service dimension, the given ones. */
function emf(metric: string, unit: string, value: number, dimensions: Record<string, string>): EmfLine {
  return {
    _aws: {
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [["service", ...Object.keys(dimensions)]],
          Metrics: [{ Name: metric, Unit: unit }],
        },
      ],
    },
    service: SERVICE,
    ...dimensions,
    [metric]: value,
  };
}

function finding(overrides: Partial<Finding> = {}): Finding {
  const event = normalise(loadEvent("rogue-grant/external-grantee"));
  return {
    kind: "finding",
    incident: "rogue-grant",
    severity: "critical",
    reasons: ["external-grantee"],
    title: "Rogue KMS grant",
    summary: "a grant",
    details: [],
    actions: [],
    event,
    key: event?.key,
    ...overrides,
  };
}

const result = (status: ActionResult["status"]): ActionResult => ({
  type: "revoke-grant",
  target: KEY_ARN,
  keyRef: KEY_ARN,
  status,
  detail: status,
});

/** A writer to stdout, with metrics enabled whatever the environment says. */
function freshMetrics(): EmfWriter {
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
  return new EmfWriter({ namespace: METRICS_NAMESPACE, service: SERVICE });
}

beforeEach(() => {
  kms.reset();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("recordMetrics", () => {
  it("writes a remediated finding as Findings by severity, Actions by status (and the roll-up), and the latency", () => {
    // Prepare
    const out = freshMetrics();
    const lines = captureEmf();

    // Act: the actions ended 2.5 s after the event.
    recordMetrics(finding(), [result("succeeded")], EVENT_TIME + 2500, out);

    // Assess
    expect(lines()).toEqual([
      emf("Findings", "Count", 1, { incident: "rogue-grant", severity: "critical" }),
      emf("Actions", "Count", 1, { incident: "rogue-grant", status: "succeeded" }),
      emf("Actions", "Count", 1, { status: "succeeded" }),
      emf("RemediationLatency", "Milliseconds", 2500, { incident: "rogue-grant" }),
    ]);
  });

  it("counts actions per status and writes no latency when nothing changed", () => {
    const out = freshMetrics();
    const lines = captureEmf();

    recordMetrics(
      finding({ severity: "high" }),
      [result("failed"), result("skipped"), result("failed")],
      EVENT_TIME + 900,
      out,
    );

    expect(lines()).toEqual([
      emf("Findings", "Count", 1, { incident: "rogue-grant", severity: "high" }),
      emf("Actions", "Count", 2, { incident: "rogue-grant", status: "failed" }),
      emf("Actions", "Count", 2, { status: "failed" }),
      emf("Actions", "Count", 1, { incident: "rogue-grant", status: "skipped" }),
      emf("Actions", "Count", 1, { status: "skipped" }),
    ]);
  });

  it("writes only the finding for a notification-only finding, and no latency without an event", () => {
    const out = freshMetrics();
    const lines = captureEmf();

    recordMetrics(
      finding({ incident: "runbook", severity: "medium", event: undefined }),
      [],
      Date.now(),
      out,
    );

    expect(lines()).toEqual([emf("Findings", "Count", 1, { incident: "runbook", severity: "medium" })]);
  });

  it("never throws: a failure to write is logged and the invocation goes on", () => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const broken = new EmfWriter({
      namespace: METRICS_NAMESPACE,
      service: SERVICE,
      write: () => {
        throw new Error("EPIPE: broken pipe");
      },
    });
    const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);

    expect(() => recordMetrics(finding(), [result("succeeded")], EVENT_TIME, broken)).not.toThrow();
    expect(() => recordDeliveryLag("rogue-grant", "2026-11-28T18:22:41Z", EVENT_TIME, broken)).not.toThrow();
    expect(() => recordChatFailure(broken)).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn).toHaveBeenCalledWith("metrics not written", { error: "Error: EPIPE: broken pipe" });
  });
});

describe("recordChatFailure", () => {
  it("counts one failed chat message, by service only", () => {
    const out = freshMetrics();
    const lines = captureEmf();

    recordChatFailure(out);

    expect(lines()).toEqual([emf("ChatFailures", "Count", 1, {})]);
  });
});

describe("EmfWriter", () => {
  const at = Date.parse("2026-12-08T04:00:00Z");

  function writer(env: NodeJS.ProcessEnv = {}): { out: EmfWriter; written: string[] } {
    const written: string[] = [];
    const out = new EmfWriter({
      namespace: METRICS_NAMESPACE,
      service: SERVICE,
      env,
      now: () => at,
      write: (line) => written.push(line),
    });
    return { out, written };
  }

  it("writes one metric as one JSON line: the _aws directive first, then the dimension values and the value", () => {
    const { out, written } = writer();

    out.emit("Actions", "Count", 2, { incident: "rogue-grant", status: "failed" });

    expect(written).toHaveLength(1);
    const [line = ""] = written;
    // One log event per line, and the document is the whole event (nothing before or after it).
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(line.startsWith('{"_aws":')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [
          {
            Namespace: "kms-responder",
            Dimensions: [["service", "incident", "status"]],
            Metrics: [{ Name: "Actions", Unit: "Count" }],
          },
        ],
      },
      service: "kms-responder",
      incident: "rogue-grant",
      status: "failed",
      Actions: 2,
    });
  });

  it("refuses a value CloudWatch would drop: not a finite number, or a dimension without a value", () => {
    const { out, written } = writer();

    expect(() => out.emit("DeliveryLag", "Milliseconds", Number.NaN)).toThrow(RangeError);
    expect(() => out.emit("DeliveryLag", "Milliseconds", Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => out.emit("Findings", "Count", 1, { incident: "" })).toThrow(
      "dimension incident has no value",
    );
    expect(written).toEqual([]);
  });

  it("writes nothing when POWERTOOLS_METRICS_DISABLED is true (read at each line)", () => {
    const env: NodeJS.ProcessEnv = { POWERTOOLS_METRICS_DISABLED: "true" };
    const { out, written } = writer(env);

    out.emit("Findings", "Count", 1, { incident: "rogue-grant" });
    env.POWERTOOLS_METRICS_DISABLED = "false";
    out.emit("Findings", "Count", 1, { incident: "key-disabled" });

    expect(written.map((l) => (JSON.parse(l) as { incident: string }).incident)).toEqual(["key-disabled"]);
  });

  it.each([
    ["true", true],
    ["1", true],
    ["YES", true],
    [" on ", true],
    ["false", false],
    ["0", false],
    ["", false],
    [undefined, false],
  ])("reads POWERTOOLS_METRICS_DISABLED=%j as disabled: %s", (value, disabled) => {
    expect(metricsDisabled(value === undefined ? {} : { POWERTOOLS_METRICS_DISABLED: value })).toBe(disabled);
  });
});

describe("remediationLatency", () => {
  it("is the time from the event to the end of the actions, never negative", () => {
    expect(remediationLatency(finding(), EVENT_TIME + 1234)).toBe(1234);
    // A clock a little behind CloudTrail's: 0, not a negative latency.
    expect(remediationLatency(finding(), EVENT_TIME - 50)).toBe(0);
  });

  it("is undefined without an event time", () => {
    expect(remediationLatency(finding({ event: undefined }), EVENT_TIME)).toBeUndefined();
  });
});

describe("a handler's metrics", () => {
  it("writes the metrics of the invocation before it returns (flushed per invocation)", async () => {
    // Prepare
    const raw = loadEvent("rogue-grant/external-grantee");
    fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(raw)] });
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const handler = await coldStart("rogue-grant");
    const lines = captureEmf();
    // Received 2.5 s after the event (only Date is faked: the handler's promises run as usual).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(EVENT_TIME + 2500);

    // Act
    const outcome = await handler(raw);
    vi.useRealTimers();

    // Assess: the lines are out when the handler returns; first how late the event arrived.
    expect(outcome.outcome).toBe("remediated");
    const written = lines();
    expect(written.slice(0, 5)).toEqual([
      emf("DeliveryLag", "Milliseconds", 2500, { incident: "rogue-grant" }),
      emf("DeliveryLag", "Milliseconds", 2500, {}),
      emf("Findings", "Count", 1, { incident: "rogue-grant", severity: "critical" }),
      emf("Actions", "Count", 1, { incident: "rogue-grant", status: "succeeded" }),
      emf("Actions", "Count", 1, { status: "succeeded" }),
    ]);
    expect(written).toHaveLength(6);
    expect(written[5]?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: "RemediationLatency", Unit: "Milliseconds" },
    ]);
  });

  it("writes only the delivery lag for an ignored event (no finding)", async () => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const handler = await coldStart("rogue-grant");
    const lines = captureEmf();

    const outcome = await handler(loadEvent("rogue-grant/failed-call"));

    expect(outcome.outcome).toBe("ignored");
    expect(
      lines().map((l) => [l._aws.CloudWatchMetrics[0]?.Metrics, l._aws.CloudWatchMetrics[0]?.Dimensions]),
    ).toEqual([
      [[{ Name: "DeliveryLag", Unit: "Milliseconds" }], [["service", "incident"]]],
      [[{ Name: "DeliveryLag", Unit: "Milliseconds" }], [["service"]]],
    ]);
  });

  it("writes no delivery lag for a record without a readable eventTime", async () => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const handler = await coldStart("rogue-grant");
    const lines = captureEmf();
    const raw = structuredClone(loadEvent("rogue-grant/failed-call"));
    raw.detail.eventTime = "yesterday";

    await handler(raw);

    expect(lines()).toEqual([]);
  });
});
