/**
 * The burst model (test/reliability/burst.test.ts checks the declared concurrency with it; the
 * sizing sweep is in bench/burst-sizing.sim.ts, `npm run bench:burst`).
 *
 * Concurrency and quotas: a burst of 500 rogue-grant and 50 key-deletion events against a fake
 * KMS that throttles like the real one (token buckets at the default request quotas, answering
 * ThrottlingException over HTTP, so the SDK's standard retry with backoff and its retry quota
 * handle it). Time is simulated with fake timers: the 30+ seconds a burst takes cost about one
 * second of test time.
 *
 * Each Lambda execution environment is modelled as it runs: its own SDK clients (own retry quota),
 * one event at a time; reserved concurrency is the number of environments. Lambda queues the
 * asynchronous events an environment is not free for, so a burst waits, it is not dropped.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import { vi } from "vitest";
import type { Config } from "../../functions/shared/config.js";
import type { Incident } from "../../functions/shared/incident.js";
import type { HandlerResult } from "../../functions/shared/pipeline.js";
import { grantClaimedBy } from "../handlers/harness.js";
import { loadEvent } from "../helpers/fixtures.js";
import { FakeAws, keyArnOf } from "./fake-aws.js";

const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

/**
 * KMS's default request quotas per second (AWS KMS Developer Guide, "Request quotas"), and
 * CloudTrail LookupEvents (2/s per account and Region, CloudTrail API reference). ListResourceTags
 * has no published figure there: 100/s assumed,
 * like the other List* calls; it is never the bottleneck here. RevokeGrant's (50/s) is the one
 * rogue-grant's declaration sizes itself from, read with it (`quotas()`).
 */
const QUOTAS = {
  "kms:CancelKeyDeletion": 5,
  "kms:EnableKey": 5,
  "kms:DisableKey": 5,
  "kms:DescribeKey": 2000,
  "kms:ListGrants": 100,
  "kms:ListResourceTags": 100,
  "cloudtrail:LookupEvents": 2,
} as const;
/** Simulated in-Region latency per request, ms. */
const LATENCY = { kms: 15, sns: 20, cloudtrail: 150 } as const;
/** RevokeGrant's quota, as rogue-grant's declaration states it (loaded with the model). */
let revokeGrantQuota = 0;
const quotas = () => ({ ...QUOTAS, "kms:RevokeGrant": revokeGrantQuota });

/** The incident a fixture's event routes to, from the registry (no table of names here). */
export let rogueGrant: Incident;
export let keyDeletion: Incident;
/**
 * The reserved concurrency each declaration sets (its sizing notes cite this simulation): the
 * sweep below checks those figures. rogue-grant is quota-bound at two or three environments
 * already (RevokeGrant 50/s); key-deletion-scheduled is bound by CloudTrail LookupEvents (2/s).
 */
export const reserved = (incident: Incident): number => {
  if (incident.reservedConcurrency === undefined)
    throw new Error(`${incident.name} declares no reservedConcurrency`);
  return incident.reservedConcurrency;
};

let createHandler: typeof import("../../functions/shared/pipeline.js").createHandler;
let cloudTrailHistory: typeof import("../../functions/shared/history.js").cloudTrailHistory;
let config: Config;
/** maxAttempts of the module-scope clients (functions/shared/clients/), so the model matches. */
export let attempts: { kms: number; sns: number; cloudTrail: number };

/** Loads the modules the model runs (after the environment is stubbed); call in beforeAll. */
export async function loadBurstModel(): Promise<void> {
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("AWS_REGION", "us-east-1");
  ({ createHandler } = await import("../../functions/shared/pipeline.js"));
  ({ cloudTrailHistory } = await import("../../functions/shared/history.js"));
  // The burst is of responders acting: enforce, as a deployment that acts sets it.
  config = (await import("../../functions/shared/config.js")).parseConfig({ mode: "enforce" });
  const { INCIDENTS } = await import("../../functions/registry.js");
  const { incidentFor } = await import("../../functions/shared/route.js");
  const { normalise } = await import("../../functions/shared/event.js");
  const routed = (fixture: string): Incident => {
    const event = normalise(loadEvent(fixture));
    const incident = event && incidentFor(INCIDENTS, event);
    if (!incident) throw new Error(`no incident for ${fixture}`);
    return incident;
  };
  rogueGrant = routed("rogue-grant/external-grantee");
  ({ REVOKE_GRANT_QUOTA: revokeGrantQuota } = await import("../../functions/rogue-grant/incident.js"));
  keyDeletion = routed("key-deletion-scheduled/unapproved");
  const { kms } = await import("../../functions/shared/clients/kms.js");
  const { sns } = await import("../../functions/shared/clients/sns.js");
  const { cloudTrail } = await import("../../functions/shared/clients/cloudtrail.js");
  attempts = {
    kms: await kms.config.maxAttempts(),
    sns: await sns.config.maxAttempts(),
    cloudTrail: await cloudTrail.config.maxAttempts(),
  };
}

/** Real timers and Math.random again; call in afterEach. */
export function resetBurstModel(): void {
  vi.useRealTimers();
  vi.restoreAllMocks();
}

/** One Lambda execution environment of an incident: its own clients, like a cold start. */
function environment(aws: FakeAws, incident: Incident): (event: unknown) => Promise<HandlerResult> {
  const common = {
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  };
  const clients = {
    kms: new KMSClient({ ...common, maxAttempts: attempts.kms, retryMode: "standard" }),
    sns: new SNSClient({ ...common, maxAttempts: attempts.sns, retryMode: "standard" }),
    cloudTrail: new CloudTrailClient({ ...common, maxAttempts: attempts.cloudTrail }),
  };
  aws.install(clients);
  // The environment's own CloudTrail client reads the history (its own retry quota).
  const own = incident.history ? { ...incident, history: cloudTrailHistory(clients.cloudTrail) } : incident;
  return createHandler(own, {
    kms: clients.kms,
    sns: clients.sns,
    config,
    topicArn: TOPIC_ARN,
    responder: { region: "us-east-1", account: "111122223333" },
  });
}

function uuid(n: number, prefix: string): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

function grantEvent(keyArn: string, grantId: string, n: number): unknown {
  const event = loadEvent("rogue-grant/external-grantee");
  const detail = event.detail;
  detail.eventID = uuid(n, "e0e0e0e0");
  detail.requestParameters = { ...detail.requestParameters, keyId: keyArn };
  detail.responseElements = { ...detail.responseElements, keyId: keyArn, grantId };
  detail.resources = [{ accountId: "111122223333", type: "AWS::KMS::Key", ARN: keyArn }];
  return event;
}

function deletionEvent(keyId: string, n: number): unknown {
  const event = loadEvent("key-deletion-scheduled/unapproved");
  const detail = event.detail;
  detail.eventID = uuid(n, "d0d0d0d0");
  detail.requestParameters = { ...detail.requestParameters, keyId };
  detail.responseElements = { ...detail.responseElements, keyId: keyArnOf(keyId) };
  detail.resources = [{ accountId: "111122223333", type: "AWS::KMS::Key", ARN: keyArnOf(keyId) }];
  return event;
}

/** Runs the simulation until `work` settles: fake time jumps from timer to timer. */
export async function drive<T>(work: Promise<T>): Promise<T> {
  let settled = false;
  const tracked = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await vi.advanceTimersToNextTimerAsync();
    // A real macrotask turn, so that any real I/O the SDK does (config files) can complete.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return tracked;
}

export interface BurstReport {
  concurrency: { rogue: number; deletion: number };
  events: number;
  simulatedSeconds: number;
  /** Invocations that rejected (ActionError): Lambda would retry them, past the SDK's budget. */
  failedInvocations: number;
  grantsLeft: number;
  keysPendingDeletion: number;
  keysNotEnabled: number;
  /** Requests a token bucket refused, per operation. */
  throttled: Record<string, number>;
  /** The highest SDK attempt number seen per operation (the budget is maxAttempts). */
  maxAttempt: Record<string, number>;
  /** Deletions whose CloudTrail history could not be read, re-enabled by default. */
  historyFallbacks: number;
}

export async function burst(options: {
  rogue: number;
  deletion: number;
  grants?: number;
  deletions?: number;
}): Promise<BurstReport> {
  const grants = options.grants ?? 500;
  const deletions = options.deletions ?? 50;
  // Full jitter from a seeded generator: the SDK's backoff is random, the test is repeatable.
  let seed = 0x2f6e2b1;
  vi.spyOn(Math, "random").mockImplementation(() => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  });
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: new Date("2026-11-28T19:00:00Z") });
  const aws = new FakeAws({ latencyMs: LATENCY, quotas: quotas() });

  // 500 grants on 50 keys (ten each), 50 other keys scheduled for deletion.
  const rogueQueue: unknown[] = [];
  for (let k = 0; k < grants / 10; k++) {
    const key = aws.addKey(uuid(k, "a0a0a0a0"));
    for (let g = 0; g < 10; g++) {
      const grantId = `${k.toString(16).padStart(4, "0")}${g.toString(16).padStart(60, "0")}`;
      const event = grantEvent(key.arn, grantId, k * 10 + g);
      key.grants.push(grantClaimedBy(event));
      rogueQueue.push(event);
    }
  }
  const deletionQueue: unknown[] = [];
  for (let k = 0; k < deletions; k++) {
    const key = aws.addKey(uuid(k, "b0b0b0b0"), {
      state: "PendingDeletion",
      history: [{ name: "EnableKey", time: new Date("2026-11-01T10:00:00Z") }],
    });
    deletionQueue.push(deletionEvent(key.id, k));
  }

  let failedInvocations = 0;
  const worker = async (handler: (event: unknown) => Promise<HandlerResult>, queue: unknown[]) => {
    for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
      try {
        await handler(event);
      } catch {
        failedInvocations++;
      }
    }
  };
  const started = Date.now();
  const workers = [
    ...Array.from({ length: options.rogue }, () => worker(environment(aws, rogueGrant), rogueQueue)),
    ...Array.from({ length: options.deletion }, () => worker(environment(aws, keyDeletion), deletionQueue)),
  ];
  await drive(Promise.all(workers));
  const simulatedSeconds = (Date.now() - started) / 1000;

  const throttled: Record<string, number> = {};
  const maxAttempt: Record<string, number> = {};
  for (const a of aws.attempts) {
    const op = `${a.service}:${a.operation}`;
    if (a.answer === "quota") throttled[op] = (throttled[op] ?? 0) + 1;
    maxAttempt[op] = Math.max(maxAttempt[op] ?? 0, a.attempt);
  }
  const deletionKeys = aws.keys.filter((k) => k.id.startsWith("b0b0b0b0"));
  return {
    concurrency: { rogue: options.rogue, deletion: options.deletion },
    events: grants + deletions,
    simulatedSeconds,
    failedInvocations,
    grantsLeft: aws.keys.reduce((n, k) => n + k.grants.length, 0),
    keysPendingDeletion: deletionKeys.filter((k) => k.state === "PendingDeletion").length,
    keysNotEnabled: deletionKeys.filter((k) => k.state !== "Enabled").length,
    throttled,
    maxAttempt,
    // The restore plan says in the finding's details that it re-enabled without the history.
    historyFallbacks: aws.published.filter((p) =>
      [...p.doc.details, ...p.doc.actions.map((a) => a.detail)].some((line) =>
        /CloudTrail history could not be read/.test(line),
      ),
    ).length,
  };
}

export function line(r: BurstReport): string {
  const t = (op: string) => r.throttled[op] ?? 0;
  const values = [
    r.concurrency.rogue,
    r.concurrency.deletion,
    `${r.simulatedSeconds.toFixed(1)} s`,
    r.failedInvocations,
    r.grantsLeft,
    r.keysPendingDeletion,
    t("kms:RevokeGrant"),
    r.maxAttempt["kms:RevokeGrant"] ?? 0,
    t("kms:CancelKeyDeletion"),
    t("kms:EnableKey"),
    Math.max(r.maxAttempt["kms:CancelKeyDeletion"] ?? 0, r.maxAttempt["kms:EnableKey"] ?? 0),
    t("cloudtrail:LookupEvents"),
    r.historyFallbacks,
  ];
  return values.map((v, i) => String(v).padStart(COLUMNS[i]?.[1] ?? 6)).join(" ");
}

/**
 * RG, KDS: reserved concurrency of rogue-grant and key-deletion-scheduled; sim: simulated time to
 * drain the burst; failed: invocations that rejected after the SDK's retries; grants left and keys
 * still pending deletion; then per operation the throttled requests (Th) and the highest attempt
 * (Mx, budget 6 for KMS); ctTh / ctFb: LookupEvents throttled, and deletions whose history read
 * gave up (after its attempts) so the key was re-enabled without knowing its prior state.
 */
const COLUMNS = [
  ["RG", 4],
  ["KDS", 4],
  ["sim", 8],
  ["failed", 6],
  ["grants", 6],
  ["pendng", 6],
  ["revTh", 6],
  ["rvMx", 4],
  ["canTh", 6],
  ["enaTh", 6],
  ["cMx", 4],
  ["ctTh", 6],
  ["ctFb", 6],
] as const;
export const HEADER = COLUMNS.map(([name, width]) => name.padStart(width)).join(" ");
