/**
 * A burst: 200 rogue grants on keys of 10 member accounts, delivered at once to the central
 * rogue-grant function (the built bundle, loaded in-process as Lambda loads it, with the drill's
 * organisation config), against moto. moto keeps each account apart by the credentials of the
 * role assumed in it; the function reaches each account through the member role, as deployed.
 *
 * Lambda runs at most the function's reserved concurrency at once and queues the rest (EventBridge
 * retries throttled deliveries): here a pool of that many handlers in one process takes the 200
 * events in order. All 200 arrive at once, so each event's window counts from the burst's start
 * and includes its wait for a free handler. A proxy between the function and moto sees every
 * call: per event, the window ends with the ListGrants that verified its RevokeGrant.
 */
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { BUNDLES, DIST_DIR, loadHandler } from "../cli/drill/bundles.js";
import {
  createDrillKey,
  createGrantAsRecorded,
  DRILL_ORGANIZATION,
  type DrillKey,
  fixtureOf,
  kmsInAccount,
  template,
} from "../cli/drill/scenarios.js";
import { closeProxy, forwardingProxy, operationOf } from "../emulator/proxy.js";
import { rogueGrant } from "../functions/rogue-grant/incident.js";
import { parseConfig } from "../functions/shared/config.js";
import { isObject, type JsonObject } from "../functions/shared/json.js";
import { roundReads } from "../functions/shared/permissions.js";

const REGION = "us-east-1";
const ACCOUNTS = 10;
const EVENTS = 200;
const KEYS_PER_ACCOUNT = 2;
const CONFIG = { mode: "enforce", organization: DRILL_ORGANIZATION, confirmAfterSeconds: 0 };

interface Seen {
  operation: string;
  grantId: string | undefined;
  endedAt: number;
}

/** Forwards to moto; records each call's operation, grant id and when its answer ended. */
function watchingProxy(target: string, seen: Seen[]): ReturnType<typeof forwardingProxy> {
  return forwardingProxy(target, {
    answered(req, body) {
      // KMS calls name their operation in X-Amz-Target; SNS and STS (query protocol) do not.
      const operation = typeof req.headers["x-amz-target"] === "string" ? operationOf(req, body) : "other";
      let grantId: string | undefined;
      try {
        const parsed: unknown = JSON.parse(body.toString("utf8"));
        if (isObject(parsed) && typeof parsed.GrantId === "string") grantId = parsed.GrantId;
      } catch {
        // Not JSON (SNS, STS): no grant id.
      }
      seen.push({ operation, grantId, endedAt: performance.now() });
    },
  });
}

export interface BurstReport {
  events: number;
  accounts: number;
  concurrency: number;
  p50: number;
  p99: number;
  max: number;
  wallMs: number;
  revoked: number;
  /** KMS calls per event (all KMS calls over the events) and the minimum. */
  calls: { perEvent: number; minimum: number };
  outcomes: Record<string, number>;
}

interface Work {
  event: JsonObject;
  grantId: string;
}

/** 200 grants on 20 keys in 10 accounts, and the event CloudTrail would record for each. */
async function stage(endpoint: string): Promise<Work[]> {
  const config = {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
  const fixture = fixtureOf(rogueGrant, "external-grantee");
  const keys: Array<{ kms: Awaited<ReturnType<typeof kmsInAccount>>; key: DrillKey }> = [];
  for (let a = 0; a < ACCOUNTS; a++) {
    const kms = await kmsInAccount(config, `30000000000${a}`.slice(-12), REGION);
    for (let k = 0; k < KEYS_PER_ACCOUNT; k++)
      keys.push({ kms, key: await createDrillKey(kms, `burst-${a}-${k}`) });
  }
  const work: Work[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const slot = keys[i % keys.length];
    if (!slot) continue;
    const { request } = template(fixture, { keyArn: slot.key.arn });
    const grantId = await createGrantAsRecorded(slot.kms, slot.key, request);
    work.push({ event: template(fixture, { keyArn: slot.key.arn, grantId }).event, grantId });
  }
  return work;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export async function measureBurst(motoEndpoint: string): Promise<BurstReport> {
  const work = await stage(motoEndpoint);
  const seen: Seen[] = [];
  const proxy = await watchingProxy(motoEndpoint, seen);
  try {
    const sns = new SNSClient({
      endpoint: motoEndpoint,
      region: REGION,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const topic = await sns.send(new CreateTopicCommand({ Name: "kms-responder-burst" }));
    if (!BUNDLES.includes(rogueGrant.name)) throw new Error("no rogue-grant bundle");
    const handler = await loadHandler(
      rogueGrant.name,
      {
        AWS_ENDPOINT_URL: proxy.endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        NOTIFICATION_TOPIC_ARN: topic.TopicArn ?? "",
        KMS_RESPONDER_CONFIG: JSON.stringify(CONFIG),
        POWERTOOLS_LOG_LEVEL: "SILENT",
        POWERTOOLS_METRICS_DISABLED: "true",
      },
      DIST_DIR,
    );
    const concurrency = rogueGrant.reservedConcurrency ?? EVENTS;
    const outcomes: Record<string, number> = {};
    const queue = [...work];
    const started = performance.now();
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const result = await handler(structuredClone(next.event));
        const outcome = isObject(result) && typeof result.outcome === "string" ? result.outcome : "?";
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const wallMs = performance.now() - started;
    return {
      ...windows(work, seen, started),
      events: work.length,
      accounts: ACCOUNTS,
      concurrency,
      wallMs,
      outcomes,
    };
  } finally {
    await closeProxy(proxy.server);
  }
}

/** Per event: the burst's start to the end of the ListGrants after its RevokeGrant; KMS calls per event. */
function windows(
  work: readonly Work[],
  seen: readonly Seen[],
  started: number,
): Pick<BurstReport, "p50" | "p99" | "max" | "revoked" | "calls"> {
  const times: number[] = [];
  for (const { grantId } of work) {
    const mine = seen.filter((s) => s.grantId === grantId);
    const revoke = mine.findIndex((s) => s.operation === "RevokeGrant");
    const verify = mine.slice(revoke + 1).find((s) => s.operation === "ListGrants");
    if (revoke !== -1 && verify) times.push(verify.endedAt - started);
  }
  times.sort((a, b) => a - b);
  // KMS calls name their operation in X-Amz-Target; SNS and STS (query protocol) do not.
  const kmsCalls = seen.filter((s) => s.operation !== "other").length;
  // One round of reads (the notice reads only ListAliases beside the key's DescribeKey), the revoke, its verification.
  const minimum = roundReads(rogueGrant, parseConfig(CONFIG)).length + 2;
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.at(-1) ?? Number.NaN,
    revoked: times.length,
    calls: { perEvent: kmsCalls / Math.max(1, work.length), minimum },
  };
}

export function burstSection(r: BurstReport): string[] {
  return [
    `## Burst: ${r.events} rogue grants on keys of ${r.accounts} member accounts, delivered at once to the central rogue-grant function (reserved concurrency ${r.concurrency}: that many handlers in one process; moto)`,
    "",
    "| from the burst's start to the verified revoke | ms |",
    "|---|---:|",
    `| p50 | ${r.p50.toFixed(0)} |`,
    `| p99 | ${r.p99.toFixed(0)} |`,
    `| max (the last of the ${r.events}) | ${r.max.toFixed(0)} |`,
    "",
    `Revoked and verified: ${r.revoked}/${r.events}; outcomes: ${Object.entries(r.outcomes)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ", ",
      )}; the whole burst ${(r.wallMs / 1000).toFixed(1)} s. KMS calls per event ${r.calls.perEvent.toFixed(2)} (minimum ${r.calls.minimum}).`,
    "",
  ];
}
