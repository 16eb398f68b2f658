/**
 * The organisation burst model (test/reliability/burst-org.test.ts checks the declared
 * concurrency with it; the sizing rule is measured in bench/burst-sizing.sim.ts,
 * `npm run bench:burst`).
 *
 * Sizing a central responder: KMS quotas are per account and Region, so one central function
 * serves many quota buckets at once. A burst of rogue grants from many member accounts runs
 * against one fake AWS per account (each with its own token buckets at the default quotas, over
 * HTTP, so the SDK's standard retry and backoff run as in Lambda). Each Lambda environment of the
 * central function has one KMS client that sends each request to the fake of the account its key
 * names (the deployed code has one member-role client per account: environmentKms says why the
 * model is the stricter one). Time is simulated with fake timers (test/reliability/burst-sim.ts
 * explains the model).
 *
 * What it shows (docs/organization.md "Sizing"): events spread over many accounts drain faster
 * with more environments, because each account's quota is a bucket of its own; but every
 * environment can land on one account at once (a burst in a single account), and then the
 * single-account ceiling holds: above it RevokeGrant runs out of its retry budget.
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import { vi } from "vitest";
import type { Config } from "../../functions/shared/config.js";
import type { Incident } from "../../functions/shared/incident.js";
import type { HandlerResult } from "../../functions/shared/pipeline.js";
import { grantClaimedBy } from "../handlers/harness.js";
import { loadEvent } from "../helpers/fixtures.js";
import { drive } from "./burst-sim.js";
import { FakeAws } from "./fake-aws.js";

const TOPIC_ARN = "arn:aws:sns:us-east-1:999988887777:kms-responder-notifications";
/** The default quotas (burst-sim.ts says where from); RevokeGrant's as rogue-grant's declaration states it. */
const QUOTAS = {
  "kms:DescribeKey": 2000,
  "kms:ListGrants": 100,
  "kms:ListResourceTags": 100,
};
const LATENCY = { kms: 15, sns: 20, cloudtrail: 150 } as const;
let revokeGrantQuota = 0;
const quotas = () => ({ ...QUOTAS, "kms:RevokeGrant": revokeGrantQuota });

const accounts = new Map<string, FakeAws>();
export let kmsAttempts = 6;

/** A stand-in for a client the fake must attach to but nobody calls. */
const unused = () => ({ config: {} as Record<string, unknown> });

interface RequestLike {
  body?: unknown;
}
interface HandlerLike {
  handle(request: RequestLike): Promise<unknown>;
}

/** The request handler a FakeAws attaches to a KMS client (its HTTP transport for that account). */
function transportOf(aws: FakeAws): HandlerLike {
  const probe = unused();
  aws.install({ kms: probe, sns: unused(), cloudTrail: unused() });
  return probe.config.requestHandler as HandlerLike;
}

/**
 * One environment's KMS client: every request goes to the fake of the account its KeyId names,
 * so each account's token buckets are its own (per account and Region, like KMS's quotas). The
 * environment keeps one SDK client (one retry quota) for all accounts, where the deployed code
 * keeps one per account: if anything, the model runs out of retries sooner.
 */
function environmentKms(transports: ReadonlyMap<string, HandlerLike>): KMSClient {
  const client = new KMSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: kmsAttempts,
    retryMode: "standard",
  });
  const route: HandlerLike & Record<string, unknown> = {
    handle(request) {
      const raw = request.body;
      const body =
        typeof raw === "string" ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString("utf8") : "";
      const account = /arn:aws:kms:[a-z0-9-]+:(\d{12}):key/.exec(body)?.[1] ?? "";
      const transport = transports.get(account);
      if (!transport) throw new Error(`no fake account ${account}`);
      return transport.handle(request);
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
  (client as unknown as { config: { requestHandler: unknown } }).config.requestHandler = route;
  return client;
}

let createHandler: typeof import("../../functions/shared/pipeline.js").createHandler;
export let rogueGrant: Incident;
let config: Config;

/** Loads the modules the model runs (after the environment is stubbed); call in beforeAll. */
export async function loadOrgBurstModel(): Promise<void> {
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("AWS_REGION", "us-east-1");
  ({ createHandler } = await import("../../functions/shared/pipeline.js"));
  ({ rogueGrant, REVOKE_GRANT_QUOTA: revokeGrantQuota } = await import(
    "../../functions/rogue-grant/incident.js"
  ));
  const { parseConfig } = await import("../../functions/shared/config.js");
  config = parseConfig({
    maxEventAgeMinutes: 0,
    confirmAfterSeconds: 0,
    mode: "enforce",
    organization: { id: "o-a1b2c3d4e5", regions: ["us-east-1"], organizationalUnitIds: ["ou-ab12-cdefgh34"] },
  });
  const { kms } = await import("../../functions/shared/clients/kms.js");
  kmsAttempts = await kms.config.maxAttempts();
}

/** Real timers and Math.random again, no accounts; call in afterEach. */
export function resetOrgBurstModel(): void {
  vi.useRealTimers();
  vi.restoreAllMocks();
  accounts.clear();
}

const uuid = (n: number, prefix: string) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const accountId = (a: number) => String(210000000000 + a);

function grantEvent(keyArn: string, account: string, grantId: string, n: number): unknown {
  const event = loadEvent("rogue-grant/external-grantee");
  const detail = event.detail;
  detail.eventID = uuid(n, "e0e0e0e0");
  // Forwarded from the member account: EventBridge's envelope and CloudTrail's record both name it.
  event.account = account;
  detail.recipientAccountId = account;
  detail.requestParameters = { ...detail.requestParameters, keyId: keyArn };
  detail.responseElements = { ...detail.responseElements, keyId: keyArn, grantId };
  detail.resources = [{ accountId: account, type: "AWS::KMS::Key", ARN: keyArn }];
  return event;
}

export interface OrgBurst {
  accounts: number;
  concurrency: number;
  events: number;
  simulatedSeconds: number;
  failedInvocations: number;
  grantsLeft: number;
  /** The highest RevokeGrant attempt in any account (the budget is maxAttempts). */
  maxRevokeAttempt: number;
  throttled: number;
}

/**
 * `grants` rogue grants spread round-robin over `accountCount` member accounts (the order
 * EventBridge would interleave them), drained by `concurrency` environments of the central
 * rogue-grant function.
 */
export async function orgBurst(accountCount: number, grants: number, concurrency: number): Promise<OrgBurst> {
  let seed = 0x2f6e2b1;
  vi.spyOn(Math, "random").mockImplementation(() => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  });
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: new Date("2026-11-28T19:00:00Z") });
  accounts.clear();
  const central = new FakeAws({ latencyMs: LATENCY, quotas: quotas() });
  const queue: unknown[] = [];
  const perAccount: unknown[][] = [];
  for (let a = 0; a < accountCount; a++) {
    const account = accountId(a);
    const aws = new FakeAws({ latencyMs: LATENCY, quotas: quotas() });
    accounts.set(account, aws);
    const events: unknown[] = [];
    for (let k = 0; k < Math.ceil(grants / accountCount / 10); k++) {
      const key = aws.addKey(uuid(a * 1000 + k, "a0a0a0a0"));
      // The fake names keys in its own account: move the key to the member account.
      key.arn = key.arn.replace(/:\d{12}:/, `:${account}:`);
      key.account = account;
      for (let g = 0; g < 10 && events.length < grants / accountCount; g++) {
        const grantId = `${a.toString(16).padStart(4, "0")}${k.toString(16).padStart(4, "0")}${g.toString(16).padStart(56, "0")}`;
        const event = grantEvent(key.arn, account, grantId, a * 100_000 + k * 10 + g);
        key.grants.push(grantClaimedBy(event));
        events.push(event);
      }
    }
    perAccount.push(events);
  }
  for (let i = 0; perAccount.some((e) => i < e.length); i++) {
    for (const events of perAccount) if (i < events.length) queue.push(events[i]);
  }

  const transports = new Map([...accounts].map(([account, aws]) => [account, transportOf(aws)] as const));
  let failedInvocations = 0;
  const worker = async () => {
    const sns = new SNSClient({
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    });
    central.install({ kms: unused(), sns, cloudTrail: unused() });
    // No responder account: every key is reached with this environment's routing client, which
    // stands for the member-role clients (one per account) of a deployed environment.
    const handler = createHandler(rogueGrant, {
      kms: environmentKms(transports),
      sns,
      config,
      topicArn: TOPIC_ARN,
      responder: { region: "us-east-1", account: undefined },
    });
    for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
      try {
        const result: HandlerResult = await handler(event);
        if (result.outcome !== "remediated") failedInvocations++;
      } catch {
        // ActionError after notifying: Lambda would retry the event, then the failure queue.
        failedInvocations++;
      }
    }
  };
  const events = queue.length;
  const started = Date.now();
  await drive(Promise.all(Array.from({ length: concurrency }, () => worker())));
  const attempts = [...accounts.values()].flatMap((aws) => aws.attemptsOf("kms", "RevokeGrant"));
  return {
    accounts: accountCount,
    concurrency,
    events,
    simulatedSeconds: (Date.now() - started) / 1000,
    failedInvocations,
    grantsLeft: [...accounts.values()].reduce(
      (n, aws) => n + aws.keys.reduce((m, k) => m + k.grants.length, 0),
      0,
    ),
    maxRevokeAttempt: Math.max(0, ...attempts.map((a) => a.attempt)),
    throttled: attempts.filter((a) => a.answer === "quota").length,
  };
}

export const line = (r: OrgBurst) =>
  [
    r.accounts,
    r.concurrency,
    r.events,
    `${r.simulatedSeconds.toFixed(1)} s`,
    r.failedInvocations,
    r.grantsLeft,
    r.throttled,
    r.maxRevokeAttempt,
  ]
    .map((v) => String(v).padStart(8))
    .join(" ");
export const HEADER = ["accounts", "envs", "events", "sim", "failed", "left", "revTh", "revMx"]
  .map((h) => h.padStart(8))
  .join(" ");
