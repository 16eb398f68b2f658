/**
 * What the fault tests share: an incident's Lambda entry (`functions/<name>/index.ts`) cold-started
 * the way Lambda loads it, its module-scope SDK clients pointed at a fresh HTTP fake of AWS; the
 * incident a fixture routes to, read from the registry; and a fake seeded with the key a fixture's
 * event claims, in the state the claim implies (so the handler's re-read confirms it).
 */
import { vi } from "vitest";
import { DETAIL_PARSERS, INCIDENTS, type RegisteredIncident } from "../../functions/registry.js";
import { normalise } from "../../functions/shared/event.js";
import type { HandlerResult } from "../../functions/shared/pipeline.js";
import { incidentFor } from "../../functions/shared/route.js";
import { grantClaimedBy } from "../handlers/harness.js";
import type { FakeKeyInit, FakeKms, FakeKmsKey } from "../helpers/fake-kms.js";
import { loadEvent } from "../helpers/fixtures.js";
import { FakeAws } from "./fake-aws.js";

export const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

export type Handler = (event: unknown) => Promise<HandlerResult>;

/** The incident the registry routes a fixture to; a fixture that routes nowhere fails loudly. */
export function incidentOf(raw: unknown, origin = "the event"): RegisteredIncident {
  const event = normalise(raw);
  const incident = event && incidentFor(INCIDENTS, event);
  if (!incident) throw new Error(`no incident for ${origin}`);
  return incident;
}

/** The environment Lambda gives a deployed function (config and topic are read at import). */
export function stubLambdaEnv(config: object): void {
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "example-secret");
  vi.stubEnv("AWS_SESSION_TOKEN", undefined);
  vi.stubEnv("AWS_ENDPOINT_URL", undefined);
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  // The metrics are tested on their own (test/shared/metrics.test.ts); here they would flood stdout.
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
  // Enforce unless the config sets a mode: the responders are tested acting. The fixtures were
  // recorded days ago: no age limit unless a test sets one (the limit has its own tests).
  vi.stubEnv(
    "KMS_RESPONDER_CONFIG",
    JSON.stringify({ mode: "enforce", maxEventAgeMinutes: 0, confirmAfterSeconds: 0, ...config }),
  );
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
}

/** Points the module-scope clients of the current module registry at the fake. */
async function installClients(aws: FakeAws): Promise<void> {
  const { kms } = await import("../../functions/shared/clients/kms.js");
  const { sns } = await import("../../functions/shared/clients/sns.js");
  const { cloudTrail } = await import("../../functions/shared/clients/cloudtrail.js");
  aws.install({ kms, sns, cloudTrail });
}

/**
 * An incident's Lambda entry from a fresh module registry (a cold start: config and topic are
 * read at import), found by the incident's name as the build finds it (`functions/<name>/index.ts`),
 * with the project's error base class of that same registry (for `instanceof`).
 */
export async function loadEntry(
  incident: { name: string },
  config: object = {},
): Promise<{
  handler: Handler;
  KmsResponderError: typeof import("../../functions/shared/errors.js").KmsResponderError;
}> {
  vi.resetModules();
  stubLambdaEnv(config);
  const entry = `../../functions/${incident.name}/index.js`;
  const { handler } = (await import(/* @vite-ignore */ entry)) as { handler: Handler };
  const { KmsResponderError } = await import("../../functions/shared/errors.js");
  return { handler, KmsResponderError };
}

/**
 * A cold start of an incident's Lambda entry with its clients (and their retry quotas) talking to
 * a fresh fake AWS.
 */
export async function coldStart(
  incident: { name: string },
  config: object = {},
): Promise<{ handler: Handler; aws: FakeAws }> {
  const { handler } = await loadEntry(incident, config);
  const aws = new FakeAws();
  await installClients(aws);
  return { handler, aws };
}

/** A cold start of the runbook function's entry (`functions/runbook/index.ts`). */
export async function coldStartRunbook(config: object = {}): Promise<{
  handler: (event: unknown) => Promise<import("../../functions/runbook/run.js").RunbookResult>;
  aws: FakeAws;
}> {
  vi.resetModules();
  stubLambdaEnv(config);
  const { handler } = await import("../../functions/runbook/index.js");
  const aws = new FakeAws();
  await installClients(aws);
  return { handler, aws };
}

/**
 * Adds the key a fixture's event is about to the fake, in the state the event claims: the grant
 * as ListGrants lists it, a deletion pending (enabled before, by its history), the policy the call
 * set, a key disabled by DisableKey, a key a failed call found pending deletion. Judged by the
 * event's typed detail and name, never by incident.
 */
export function seedFromEvent(kms: FakeKms, raw: unknown): FakeKmsKey | undefined {
  const event = normalise(raw, DETAIL_PARSERS);
  const key = event?.key;
  if (!event || !key) return undefined;
  const init: FakeKeyInit = { arn: key.arn };
  const d = event.detail;
  const before = new Date(new Date(event.eventTime ?? Date.now()).getTime() - 20 * 86_400_000);
  if (d.kind === "grant" && d.grantId && d.grantee) init.grants = [grantClaimedBy(raw)];
  if (d.kind === "deletion" || failedAsPending(event)) {
    init.state =
      d.kind === "deletion" && d.keyState === "PendingReplicaDeletion" ? d.keyState : "PendingDeletion";
    init.history = [{ name: "EnableKey", time: before }];
  }
  if (d.kind === "policy" && d.policy !== undefined) {
    init.policy = typeof d.policy === "string" ? d.policy : JSON.stringify(d.policy);
  }
  if (event.eventName === "DisableKey") init.state = "Disabled";
  if (d.kind === "rotation") {
    // The period the call set, over the one an earlier EnableKeyRotation (the default) had set.
    Object.assign(init, rotationSeed(d.rotationPeriodInDays, before));
  }
  // The tags a TagResource set are on the key now.
  if (d.kind === "tagging") init.tags = { ...d.set };
  if (key.alias) init.aliases = [key.alias];
  return kms.addKey(init);
}

/** A call that failed because the key is pending deletion. */
function failedAsPending(event: { errorCode?: string; errorMessage?: string }): boolean {
  return event.errorCode !== undefined && /pending/i.test(event.errorMessage ?? "");
}

/** Rotation on with the period the call set (the default when it set none), enabled once before. */
function rotationSeed(period: number | undefined, before: Date): Partial<FakeKeyInit> {
  return {
    rotation: true,
    rotationPeriodInDays: period ?? 365,
    history: [{ name: "EnableKeyRotation", time: before, request: {} }],
  };
}

/** A fresh copy of a fixture, and the incident the registry routes it to. */
export function fixture(name: string): { event: () => unknown; incident: RegisteredIncident } {
  return { event: () => loadEvent(name), incident: incidentOf(loadEvent(name), name) };
}
