/**
 * Warm handler latency against the local emulator: the built rogue-grant bundle (what Lambda
 * runs) handles CreateGrant events for real grants in moto, and a counting HTTP proxy between the
 * handler and moto timestamps every AWS call it makes. For each event: the time from the event
 * to the remediating call (RevokeGrant reaching the proxy) and the AWS calls made before it.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CreateGrantCommand, CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { eventForKey } from "../cli/drill/events.js";
import { startMoto } from "../emulator/moto.js";
import { closeProxy, forwardingProxy, operationOf } from "../emulator/proxy.js";
import { rogueGrant } from "../functions/rogue-grant/incident.js";
import type { JsonObject } from "../functions/shared/json.js";

const REGION = "us-east-1";

interface Call {
  at: number;
  operation: string;
}

/** Forwards every request to moto and records which operation it was and when it arrived. */
function countingProxy(target: string, calls: Call[]): ReturnType<typeof forwardingProxy> {
  return forwardingProxy(target, {
    received: (req, body, at) => calls.push({ at, operation: operationOf(req, body) }),
  });
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}

export interface LatencyReport {
  events: number;
  toRemediation: { p50: number; p99: number; max: number };
  invocation: { p50: number; p99: number };
  /** AWS calls before the remediating call, per event: the most seen and what they were. */
  callsBefore: { max: number; typical: string };
  outcomes: Record<string, number>;
}

/**
 * A CreateGrant event for a real key and grant (events/rogue-grant/external-grantee.json, rewritten
 * by the drill's rewriter: key, account, Region, grant id, and a fresh id and time, so the
 * responder's replay and event-age checks treat it as the live event it stands for).
 */
function grantEvent(fixture: JsonObject, keyArn: string, grantId: string): unknown {
  return eventForKey(fixture, { keyArn, grantId });
}

export async function measureLatency(
  distDir: string,
  fixture: JsonObject,
  events = 200,
): Promise<LatencyReport> {
  const moto = await startMoto();
  const calls: Call[] = [];
  const proxy = await countingProxy(moto.endpoint, calls);
  try {
    // The world, built directly against moto (these calls are not counted).
    const direct = {
      endpoint: moto.endpoint,
      region: REGION,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    };
    const kms = new KMSClient(direct);
    const sns = new SNSClient(direct);
    const topic = await sns.send(new CreateTopicCommand({ Name: "kms-responder-notifications" }));
    const keys: string[] = [];
    for (let k = 0; k < 10; k++) {
      const out = await kms.send(new CreateKeyCommand({ Description: `bench key ${k}` }));
      if (out.KeyMetadata?.Arn) keys.push(out.KeyMetadata.Arn);
    }
    const warmup = 5;
    const work: Array<{ keyArn: string; grantId: string }> = [];
    for (let i = 0; i < events + warmup; i++) {
      const keyArn = keys[i % keys.length] ?? "";
      const out = await kms.send(
        new CreateGrantCommand({
          KeyId: keyArn,
          GranteePrincipal: "arn:aws:iam::444455556666:role/exfil",
          Operations: ["Decrypt", "GenerateDataKey"],
        }),
      );
      if (out.GrantId) work.push({ keyArn, grantId: out.GrantId });
    }

    // The bundle, loaded the way Lambda loads it, its clients pointed at the proxy.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      NOTIFICATION_TOPIC_ARN: topic.TopicArn ?? "",
      // Enforce: the default (notify) would decide and change nothing, and there would be no revoke to time.
      KMS_RESPONDER_CONFIG: JSON.stringify({ mode: "enforce" }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      // Metrics go to stdout (EMF); the bench's stdout carries only its figures.
      POWERTOOLS_METRICS_DISABLED: "true",
    });
    const mod = (await import(pathToFileURL(path.join(distDir, rogueGrant.name, "index.mjs")).href)) as {
      handler: (event: unknown) => Promise<{ outcome: string }>;
    };

    const toRemediation: number[] = [];
    const invocation: number[] = [];
    const before = new Map<string, number>();
    const outcomes: Record<string, number> = {};
    let maxBefore = 0;
    for (const [i, { keyArn, grantId }] of work.entries()) {
      const event = grantEvent(fixture, keyArn, grantId);
      const first = calls.length;
      const started = performance.now();
      const result = await mod.handler(event);
      const ended = performance.now();
      if (i < warmup) continue;
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      const mine = calls.slice(first);
      const revoke = mine.findIndex((c) => c.operation === "RevokeGrant");
      const remediating = mine[revoke];
      if (!remediating) continue;
      toRemediation.push(remediating.at - started);
      invocation.push(ended - started);
      const prior = mine.slice(0, revoke).map((c) => c.operation);
      maxBefore = Math.max(maxBefore, prior.length);
      const key = prior.join(" + ") || "(none)";
      before.set(key, (before.get(key) ?? 0) + 1);
    }
    toRemediation.sort((a, b) => a - b);
    invocation.sort((a, b) => a - b);
    const typical = [...before.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "-";
    return {
      events: toRemediation.length,
      toRemediation: {
        p50: percentile(toRemediation, 50),
        p99: percentile(toRemediation, 99),
        max: toRemediation.at(-1) ?? Number.NaN,
      },
      invocation: { p50: percentile(invocation, 50), p99: percentile(invocation, 99) },
      callsBefore: { max: maxBefore, typical },
      outcomes,
    };
  } finally {
    await closeProxy(proxy.server);
    await moto.stop();
  }
}
