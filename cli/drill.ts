/**
 * `kms-responder drill`: a game day on the laptop. Against a local emulator (moto) it builds a small
 * world, performs each attack with the SDK as an attacker would, builds the CloudTrail-shaped
 * EventBridge event AWS would deliver for that call, delivers it through the rule patterns the
 * stack deploys (an event that matches no rule is not delivered, so a pattern bug shows up here),
 * runs the matched incident's *built* bundle in-process, and reads the end state back.
 *
 * Every scenario states its promise; the drill passes only when every scenario keeps it.
 */

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { KMSClient } from "@aws-sdk/client-kms";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { type EventPattern, matchesPattern } from "../emulator/event-pattern.js";
import { type MotoServer, motoAvailable, startMoto, waitForMoto } from "../emulator/moto.js";
import { type MotoShim, motoShim } from "../emulator/moto-shim.js";
import {
  createQueue,
  drainNotifications,
  type QueueRef,
  type ReceivedNotification,
} from "../emulator/sqs.js";
import { INCIDENTS, type IncidentName } from "../functions/registry.js";
import { parseKeyArn } from "../functions/shared/arn.js";
import type { ConfigInput } from "../functions/shared/config.js";
import { KMS_SOURCE } from "../functions/shared/decision.js";
import { describeError } from "../functions/shared/errors.js";
import { ALL_MANAGEMENT_EVENTS, type Incident } from "../functions/shared/incident.js";
import { isObject, type JsonObject, str } from "../functions/shared/json.js";
import { type NotificationDocument, notificationText } from "../functions/shared/notify.js";
import { sourcesOf } from "../functions/shared/route.js";
import { notByResponder } from "../functions/shared/rule.js";
import {
  BUNDLES,
  type BundleName,
  buildBundles,
  type Handler,
  loadHandler,
  staleBundles,
} from "./drill/bundles.js";
import { MUTATING_KMS_CALLS, type ObservedCall, recordCalls } from "./drill/calls.js";
import { EVENTS_DIR, eventForKey, readFixture } from "./drill/events.js";
import { gatherScenarios } from "./drill/gather.js";
import {
  type Check,
  createDrillKey,
  DRILL_ORGANIZATION,
  type DrillWorld,
  type Expectation,
  kmsInAccount,
  type Scenario,
  type StagedAttack,
  type StagedSweep,
  type StepResult,
} from "./drill/scenarios.js";
import { type CliIo, UsageError } from "./io.js";

const REGION = "us-east-1";
/**
 * Fixtures whose caller is a responder role (`events/<incident>/own-call.json`, for the incidents
 * that have one): their session issuers are the roles the rules leave out.
 */
// Only incidents about KMS calls: the drill rewrites a fixture for a real key, and the callers of the
// other own-call fixtures (trail, rules, functions) are the same responder roles.
const OWN_CALL_FIXTURES = INCIDENTS.filter((i) => sourcesOf(i).every((source) => source === KMS_SOURCE))
  .map((i) => `${i.name}/own-call`)
  .filter((name) => existsSync(`${EVENTS_DIR}${name}.json`));

/** An incident's rule as the stack deploys it: its pattern (with the loop-prevention clause) and state. */
export interface DrillRule {
  incident: IncidentName;
  pattern: EventPattern;
  state: string | undefined;
}

/** The registry's declarations, read through the `Incident` interface (its optional fields included). */
const DECLARED: readonly Incident<IncidentName>[] = INCIDENTS;

/** The rules of every registered incident, leaving out the calls of `responderRoles`. */
export function drillRules(responderRoles: readonly string[]): DrillRule[] {
  const own = notByResponder(responderRoles);
  return DECLARED.map((i) => ({ incident: i.name, pattern: i.pattern(own), state: i.ruleState }));
}

export interface DrillOptions {
  /** An emulator that is already running; by default the drill starts moto and stops it after. */
  endpoint?: string;
  /** `auto` builds the bundles when dist/ is missing or older than the sources. */
  build?: "auto" | "always" | "never";
  /** Scenario ids to run (all by default). */
  only?: readonly string[];
  /** Progress lines (starting moto, building), not the report. */
  progress?: (line: string) => void;
  /** Keep the handlers' structured logs (silenced by default). */
  verbose?: boolean;
  /**
   * How many times to run the scenarios, in order, with the same handlers (default 1). The first
   * delivery to each bundle is its cold start; every later one is warm (the exposure benchmark).
   */
  rounds?: number;
}

export interface ScenarioReport {
  scenario: string;
  title: string;
  promise: string;
  passed: boolean;
  /** Why the scenario did not keep its promise (empty when it did). */
  failures: string[];
  attack: string;
  /** False when the emulator could not perform the attack and only its event was emitted. */
  performed: boolean;
  note?: string;
  event: { fixture: string; eventName?: string; eventId?: string };
  /** The rule whose pattern matched the event; null when none did (the event is not delivered). */
  rule: IncidentName | null;
  decision: {
    outcome: string;
    incident?: string;
    severity?: string;
    reasons?: string[];
    skipped?: string;
    why?: string;
    /** How the current state compared with the event's claim (`grant-gone`, ...). */
    verdicts?: string[];
    error?: string;
  };
  actions: Array<{ type: string; status: string; verified?: boolean; detail?: string }>;
  endState: Check[];
  notification: {
    subject?: string;
    attributes: Record<string, string>;
    outcome?: string;
    /** The text body email subscribers get (printed with --verbose). */
    text?: string;
  } | null;
  timing: {
    /** From delivery to the end of the last key-changing KMS call; undefined when nothing was changed. */
    remediationMs?: number;
    /** From delivery to the end of the KMS read that verified that call; undefined when none followed it. */
    verifiedMs?: number;
    /** From delivery to the handler's return (actions, verification and notification). */
    handlerMs?: number;
    /** Every AWS call the handler made, in order, with its duration and HTTP status. */
    calls: Array<{ operation: string; ms: number; status?: number }>;
  };
}

export interface DrillReport {
  endpoint: string;
  passed: boolean;
  scenarios: ScenarioReport[];
  totalMs: number;
}

interface Delivery {
  result: JsonObject | undefined;
  error?: string;
  handlerMs: number;
  remediationMs?: number;
  verifiedMs?: number;
  calls: ScenarioReport["timing"]["calls"];
}

/** The environment the bundles run with: the emulator, fake credentials, nothing that could reach AWS. */
function drillEnv(endpoint: string, topicArn: string, config: ConfigInput, verbose: boolean) {
  const env: Record<string, string | undefined> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    NOTIFICATION_TOPIC_ARN: topicArn,
    KMS_RESPONDER_CONFIG: JSON.stringify(config),
    POWERTOOLS_LOG_LEVEL: verbose ? "INFO" : "SILENT",
    // The handlers' CloudWatch metric lines (EMF) are for Lambda's log stream; here they would go
    // to stdout, before the report or into --json.
    POWERTOOLS_METRICS_DISABLED: "true",
  };
  // A service-specific endpoint (AWS_ENDPOINT_URL_KMS, ...) would win over AWS_ENDPOINT_URL.
  for (const name of Object.keys(process.env))
    if (name.startsWith("AWS_ENDPOINT_URL_")) env[name] = undefined;
  return env;
}

function restoreEnv(saved: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/**
 * The rules that receive the event, as EventBridge would judge them: the pattern matches, and a
 * read-only management event (Decrypt, Describe*, ...) reaches only a rule in the state
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS; a rule in the default state sees successful
 * write events only.
 */
export function matchingRules(rules: readonly DrillRule[], event: unknown): IncidentName[] {
  const detail = isObject(event) && isObject(event.detail) ? event.detail : {};
  const readOnly = detail.readOnly === true || detail.readOnly === "true";
  return rules
    .filter(
      (rule) => matchesPattern(rule.pattern, event) && (!readOnly || rule.state === ALL_MANAGEMENT_EVENTS),
    )
    .map((rule) => rule.incident);
}

async function deliver(handler: Handler, event: JsonObject): Promise<Delivery> {
  const recorder = recordCalls();
  let result: JsonObject | undefined;
  let error: string | undefined;
  try {
    const out = await handler(structuredClone(event));
    result = isObject(out) ? out : undefined;
  } catch (e) {
    error = describeError(e);
  }
  const handlerMs = recorder.now();
  recorder.stop();
  // Remediation ends with the last key-changing call that succeeded (an already-done answer such as
  // RevokeGrant's NotFoundException changed nothing).
  const mutating = recorder.calls.filter(
    (c) => MUTATING_KMS_CALLS.has(c.operation) && c.endMs !== undefined && (c.status ?? 0) < 300,
  );
  const last = mutating.at(-1)?.endMs;
  const delivery: Delivery = {
    result,
    handlerMs: Math.round(handlerMs),
    calls: recorder.calls.map((c) => {
      const call: { operation: string; ms: number; status?: number } = {
        operation: c.operation,
        ms: Math.round((c.endMs ?? handlerMs) - c.startMs),
      };
      if (c.status !== undefined) call.status = c.status;
      return call;
    }),
  };
  if (error !== undefined) delivery.error = error;
  if (last !== undefined) {
    delivery.remediationMs = Math.round(last);
    const verified = verifyingRead(recorder.calls, last);
    if (verified !== undefined) delivery.verifiedMs = Math.round(verified);
  }
  return delivery;
}

/**
 * When the read verifying the remediation ended: the first KMS call sent after the last key change
 * (KMS operations are named bare, other services `service:Operation` or by the service alone).
 */
function verifyingRead(calls: readonly ObservedCall[], changedAt: number): number | undefined {
  return calls.find(
    (c) => c.startMs >= changedAt && /^[A-Z]/.test(c.operation) && !MUTATING_KMS_CALLS.has(c.operation),
  )?.endMs;
}

function actionsOf(result: JsonObject | undefined): ScenarioReport["actions"] {
  const actions = result && Array.isArray(result.actions) ? result.actions.filter(isObject) : [];
  return actions.map((a) => {
    const out: ScenarioReport["actions"][number] = { type: str(a.type) ?? "?", status: str(a.status) ?? "?" };
    if (typeof a.verified === "boolean") out.verified = a.verified;
    const detail = str(a.detail);
    if (detail) out.detail = detail;
    return out;
  });
}

function decisionOf(delivery: Delivery | undefined): ScenarioReport["decision"] {
  if (!delivery) return { outcome: "not-delivered" };
  const r = delivery.result ?? {};
  const decision: ScenarioReport["decision"] = {
    outcome: delivery.error ? "error" : (str(r.outcome) ?? "?"),
  };
  const incident = str(r.incident);
  if (incident) decision.incident = incident;
  const severity = str(r.severity);
  if (severity) decision.severity = severity;
  if (Array.isArray(r.reasons))
    decision.reasons = r.reasons.filter((x): x is string => typeof x === "string");
  if (Array.isArray(r.verdicts))
    decision.verdicts = r.verdicts.filter((x): x is string => typeof x === "string");
  const skipped = str(r.skipped);
  if (skipped) decision.skipped = skipped;
  const why = str(r.why);
  if (why) decision.why = why;
  if (delivery.error) decision.error = delivery.error;
  return decision;
}

/** What one delivery of a scenario's event led to, as the judge compares it with the promise. */
export interface Observed {
  rule: IncidentName | null;
  matched: readonly IncidentName[];
  decision: ScenarioReport["decision"];
  /** The directly called handler's decision (a scenario whose event no rule delivers). */
  direct: ScenarioReport["decision"] | undefined;
  actions: ScenarioReport["actions"];
  calls: ScenarioReport["timing"]["calls"];
  notifications: readonly ReceivedNotification[];
  endState: readonly Check[];
}

function routeFailures(want: Expectation, seen: Observed): string[] {
  const failures: string[] = [];
  if (seen.matched.length > 1)
    failures.push(
      `the event matched ${seen.matched.length} rules (${seen.matched.join(", ")}); exactly one expected`,
    );
  if (seen.rule !== want.rule)
    failures.push(`rule: expected ${want.rule ?? "no rule"} to match, got ${seen.rule ?? "none"}`);
  return failures;
}

function decisionFailures(want: Expectation, seen: ScenarioReport["decision"] | undefined): string[] {
  const failures: string[] = [];
  if (want.outcome && seen?.outcome !== want.outcome) {
    const error = seen?.error ? ` (${seen.error})` : "";
    failures.push(`outcome: expected ${want.outcome}, got ${seen?.outcome ?? "none"}${error}`);
  }
  if (want.skipped && seen?.skipped !== want.skipped)
    failures.push(`skipped: expected ${want.skipped}, got ${seen?.skipped ?? "none"}`);
  const verdicts = (seen?.verdicts ?? []).join(", ") || "none";
  const expectedVerdicts = (want.verdicts ?? []).join(", ") || "none";
  if (verdicts !== expectedVerdicts) failures.push(`verdicts: expected ${expectedVerdicts}, got ${verdicts}`);
  return failures;
}

function actionFailures(want: Expectation, seen: Observed): string[] {
  const failures: string[] = [];
  if (want.actions) {
    const got = seen.actions.map((a) => `${a.type}:${a.status}`).join(", ") || "none";
    const expected = want.actions.map((a) => `${a.type}:${a.status}`).join(", ") || "none";
    if (got !== expected) failures.push(`actions: expected ${expected}, got ${got}`);
  }
  if (want.noChange) {
    const changed = seen.calls.filter((c) => MUTATING_KMS_CALLS.has(c.operation)).map((c) => c.operation);
    if (changed.length) failures.push(`calls: expected no key-changing KMS call, got ${changed.join(", ")}`);
  }
  return failures;
}

function notificationFailures(want: Expectation, seen: Observed): string[] {
  const { notifications, decision } = seen;
  if (!want.severity) {
    return notifications.length
      ? [`notifications: expected none, got ${notifications.length} (${notifications[0]?.subject ?? ""})`]
      : [];
  }
  const note = notifications[0];
  if (notifications.length !== 1 || !note)
    return [`notifications: expected 1 on the queue, got ${notifications.length}`];
  if (!note.subject?.startsWith(`[${want.severity}]`))
    return [`notification subject: expected [${want.severity}] first, got ${note.subject ?? "none"}`];
  if (note.attributes.outcome !== decision.outcome || note.attributes.incident !== want.rule) {
    return [
      `notification attributes: incident ${note.attributes.incident}/outcome ${note.attributes.outcome} do not match the handler's ${want.rule}/${decision.outcome}`,
    ];
  }
  const text = notificationOf(note)?.text ?? "";
  const subject = note.subject;
  return [
    ...(want.subjectIncludes ?? [])
      .filter((part) => !subject.includes(part))
      .map((part) => `notification subject: expected it to contain ${JSON.stringify(part)}`),
    ...(want.notificationIncludes ?? [])
      .filter((part) => !text.includes(part))
      .map((part) => `notification text: expected it to contain ${JSON.stringify(part)}`),
  ];
}

function endStateFailures(endState: readonly Check[]): string[] {
  return endState.filter((c) => !c.ok).map((c) => `end state: ${c.what}: ${c.observed}`);
}

/** Compares what happened with what the scenario promised; returns the differences. */
export function judge(want: Expectation, seen: Observed): string[] {
  return [
    ...routeFailures(want, seen),
    ...decisionFailures(want, want.rule === null ? seen.direct : seen.decision),
    ...actionFailures(want, seen),
    ...notificationFailures(want, seen),
    ...endStateFailures(seen.endState),
  ];
}

interface Runtime {
  world: DrillWorld;
  endpoint: string;
  queue: QueueRef;
  rules: readonly DrillRule[];
  handler(incident: BundleName): Promise<Handler>;
}

/** The report of a scenario that ended before its event: nothing was delivered. */
function undelivered(
  base: Pick<ScenarioReport, "scenario" | "title" | "promise">,
  failures: string[],
  staged?: Pick<StagedSweep, "attack" | "performed" | "note">,
): ScenarioReport {
  return {
    ...base,
    passed: failures.length === 0,
    failures,
    attack: staged?.attack ?? "(not staged)",
    performed: staged?.performed ?? false,
    ...(staged?.note ? { note: staged.note } : {}),
    event: { fixture: "" },
    rule: null,
    decision: { outcome: "not-delivered" },
    actions: [],
    endState: [],
    notification: null,
    timing: { calls: [] },
  };
}

async function readEndState(verify: () => Promise<Check[]>): Promise<Check[]> {
  try {
    return await verify();
  } catch (error) {
    return [{ what: "end state readable", ok: false, observed: describeError(error) }];
  }
}

/** The outcome of a sweep scenario: nothing was delivered, the sweep read the keys. */
export const SWEPT = "swept";

/** A sweep scenario: no event; the sweep's findings are its end state. */
async function runSweep(
  base: Pick<ScenarioReport, "scenario" | "title" | "promise">,
  staged: StagedSweep,
  rt: Runtime,
): Promise<ScenarioReport> {
  await drainNotifications(rt.queue);
  const endState = await readEndState(staged.verify);
  const notifications = await drainNotifications(rt.queue);
  const failures = [
    ...endStateFailures(endState),
    ...(notifications.length ? [`notifications: expected none, got ${notifications.length}`] : []),
  ];
  return {
    ...undelivered(base, failures, staged),
    event: { fixture: "" },
    decision: { outcome: SWEPT },
    endState,
  };
}

interface Deliveries {
  matched: IncidentName[];
  rule: IncidentName | null;
  delivery: Delivery | undefined;
  direct: ScenarioReport["decision"] | undefined;
  notifications: ReceivedNotification[];
}

/** Delivers the staged event through the rules (twice for a duplicate), and to a direct handler if named. */
async function deliverStaged(staged: StagedAttack, rt: Runtime): Promise<Deliveries> {
  const matched = matchingRules(rt.rules, staged.event);
  const rule = matched[0] ?? null;
  await drainNotifications(rt.queue);
  let delivery: Delivery | undefined;
  if (rule) {
    // Cold start before delivery, as Lambda does: the timing starts when the event arrives.
    const handler = await rt.handler(rule);
    if (staged.deliverTwice) {
      await deliver(handler, staged.event);
      await drainNotifications(rt.queue);
    }
    delivery = await deliver(handler, staged.event);
  }
  const direct = staged.directHandler
    ? decisionOf(await deliver(await rt.handler(staged.directHandler), staged.event))
    : undefined;
  return { matched, rule, delivery, direct, notifications: await drainNotifications(rt.queue) };
}

function notificationOf(note: ReceivedNotification | undefined): ScenarioReport["notification"] {
  if (!note) return null;
  const outcome = str(note.document.outcome);
  return {
    ...(note.subject ? { subject: note.subject } : {}),
    attributes: note.attributes,
    ...(outcome ? { outcome } : {}),
    // SQS subscribers get the JSON member; the text body is rendered from it the same way.
    ...(note.subject && note.document.schema
      ? { text: notificationText(note.subject, note.document as unknown as NotificationDocument) }
      : {}),
  };
}

function timingOf(delivery: Delivery | undefined): ScenarioReport["timing"] {
  return {
    ...(delivery?.remediationMs !== undefined ? { remediationMs: delivery.remediationMs } : {}),
    ...(delivery?.verifiedMs !== undefined ? { verifiedMs: delivery.verifiedMs } : {}),
    ...(delivery ? { handlerMs: delivery.handlerMs } : {}),
    calls: delivery?.calls ?? [],
  };
}

/** The reported decision: the direct handler's when no rule delivered the event. */
function reportedDecision(staged: StagedAttack, d: Deliveries): ScenarioReport["decision"] {
  const { direct, delivery } = d;
  if (!direct || delivery) return decisionOf(delivery);
  return {
    ...direct,
    outcome: "not-delivered",
    skipped: direct.skipped ?? "?",
    why: `no rule delivers it; the ${staged.directHandler} handler, called directly, says: ${direct.why ?? direct.outcome}`,
  };
}

function eventOf(staged: StagedAttack): ScenarioReport["event"] {
  const detail = isObject(staged.event.detail) ? staged.event.detail : {};
  const eventName = str(detail.eventName);
  const eventId = str(detail.eventID);
  return {
    fixture: `events/${staged.fixture}.json`,
    ...(eventName ? { eventName } : {}),
    ...(eventId ? { eventId } : {}),
  };
}

async function runScenario(scenario: Scenario, rt: Runtime): Promise<ScenarioReport> {
  const base = { scenario: scenario.id, title: scenario.title, promise: scenario.promise };
  let staged: StagedAttack | StagedSweep;
  try {
    staged = await scenario.stage(rt.world);
  } catch (error) {
    return undelivered(base, [`the attack could not be staged: ${describeError(error)}`]);
  }
  if ("sweep" in staged) return runSweep(base, staged, rt);
  const d = await deliverStaged(staged, rt);
  const endState = await readEndState(staged.verify);
  const actions = actionsOf(d.delivery?.result);
  const failures = judge(staged.expect, {
    rule: d.rule,
    matched: d.matched,
    decision: decisionOf(d.delivery),
    direct: d.direct,
    actions,
    calls: d.delivery?.calls ?? [],
    notifications: d.notifications,
    endState,
  });
  return {
    ...base,
    passed: failures.length === 0,
    failures,
    attack: staged.attack,
    performed: staged.performed,
    ...(staged.note ? { note: staged.note } : {}),
    event: eventOf(staged),
    rule: d.rule,
    decision: reportedDecision(staged, d),
    actions,
    endState,
    notification: notificationOf(d.notifications[0]),
    timing: timingOf(d.delivery),
  };
}

/**
 * An earlier step of a multi-step attack: the event goes through the rules to the handler of the
 * rule that matched, as in a scenario, and what came of it is returned for the scenario to check.
 */
async function deliverStep(event: JsonObject, rt: Runtime): Promise<StepResult> {
  const rules = matchingRules(rt.rules, event);
  await drainNotifications(rt.queue);
  const rule = rules[0];
  const delivery = rule ? await deliver(await rt.handler(rule), event) : undefined;
  const notifications = await drainNotifications(rt.queue);
  return {
    rules,
    outcome: decisionOf(delivery).outcome,
    actions: actionsOf(delivery?.result).map((a) => `${a.type}:${a.status}`),
    subjects: notifications.map((n) => n.subject ?? "(no subject)"),
  };
}

/** The responder role ARNs the drill's rules leave out: the callers of the own-call fixtures, in the emulator's account. */
function responderRoles(keyArn: string): string[] {
  const roles = OWN_CALL_FIXTURES.map((name) => {
    const event = eventForKey(readFixture(name), { keyArn });
    const detail = isObject(event.detail) ? event.detail : {};
    const identity = isObject(detail.userIdentity) ? detail.userIdentity : {};
    const session = isObject(identity.sessionContext) ? identity.sessionContext : {};
    return isObject(session.sessionIssuer) ? str(session.sessionIssuer.arn) : undefined;
  });
  return [...new Set(roles.filter((r): r is string => r !== undefined))];
}

/** The scenarios `only` names (all by default). @throws naming the ids that are not scenarios. */
async function selectScenarios(only: readonly string[] | undefined): Promise<readonly Scenario[]> {
  const all = await gatherScenarios();
  if (!only?.length) return all;
  const scenarios = all.filter((s) => only.includes(s.id));
  if (scenarios.length !== only.length) {
    const known = new Set(all.map((s) => s.id));
    throw new Error(
      `unknown scenario ${only.filter((id) => !known.has(id)).join(", ")}; known: ${[...known].join(", ")}`,
    );
  }
  return scenarios;
}

/** Builds the bundles when `build` asks for it (or they are stale); @throws when `never` finds one missing. */
async function ensureBundles(build: DrillOptions["build"], progress: (line: string) => void): Promise<void> {
  if (build === "never") {
    const missing = staleBundles(BUNDLES, { missingOnly: true });
    if (missing) throw new Error(`the bundles are not built: ${missing}; run npm run build`);
    return;
  }
  const stale = build === "always" ? "--build always" : staleBundles(BUNDLES);
  if (stale) {
    progress(`building the bundles (${stale})`);
    await buildBundles();
  }
}

/** The emulator to run against: the given endpoint, or a moto_server started here (stopped by the caller). */
async function emulator(
  endpoint: string | undefined,
  progress: (line: string) => void,
): Promise<{ endpoint: string; moto?: MotoServer }> {
  if (endpoint) {
    await waitForMoto(endpoint, 5_000);
    return { endpoint };
  }
  if (!motoAvailable())
    throw new Error('moto_server is not on PATH: pip install "moto[server]", or pass --endpoint URL');
  progress("starting moto_server");
  const moto = await startMoto();
  progress(`moto_server ${moto.endpoint} (pid ${moto.pid})`);
  return { endpoint: moto.endpoint, moto };
}

function clientConfigFor(endpoint: string) {
  return {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  };
}

/** The topic the handlers publish to, and the queue subscribed to it that the drill reads. */
async function notificationChannel(
  endpoint: string,
  sns: SNSClient,
): Promise<{ topicArn: string; queue: QueueRef }> {
  const run = `${Date.now().toString(36)}`;
  const topic = await sns.send(new CreateTopicCommand({ Name: `kms-responder-drill-${run}` }));
  const topicArn = topic.TopicArn;
  if (!topicArn) throw new Error("CreateTopic returned no topic ARN");
  const queue = await createQueue(endpoint, REGION, `kms-responder-drill-${run}`);
  // Raw message delivery stays off: subscribers get the SNS envelope with Subject and attributes.
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queue.arn }));
  return { topicArn, queue };
}

function drillConfig(account: string, roles: readonly string[]): ConfigInput {
  return {
    // The drill shows the responders acting: the default mode only notifies.
    mode: "enforce",
    approvedDeletionPrincipals: [`arn:aws:iam::${account}:role/KeyAdmin`],
    requireMfa: true,
    // Exact role ARNs, as the stack passes them (the config refuses patterns here).
    responderRoleArns: [...roles],
    // The emulator's reads are consistent at once: a negative read is confirmed without waiting.
    confirmAfterSeconds: 0,
    // A central responder: the member-account scenarios act through the member role.
    organization: DRILL_ORGANIZATION,
  };
}

/** The drill's world on the emulator: clients, the config the handlers get, and the runtime that delivers. */
async function setUp(
  shim: MotoShim,
  verbose: boolean,
  saved: Record<string, string | undefined>,
): Promise<Runtime> {
  const endpoint = shim.endpoint;
  const clientConfig = clientConfigFor(endpoint);
  const kms = new KMSClient(clientConfig);
  const { topicArn, queue } = await notificationChannel(endpoint, new SNSClient(clientConfig));
  const probe = await createDrillKey(kms, "account-probe");
  const account = parseKeyArn(probe.arn)?.account ?? "";
  const roles = responderRoles(probe.arn);
  const config = drillConfig(account, roles);
  const env = drillEnv(endpoint, topicArn, config, verbose);
  for (const k of Object.keys(env)) if (!(k in saved)) saved[k] = process.env[k];
  const handlers = new Map<BundleName, Handler>();
  const rt: Runtime = {
    endpoint,
    queue,
    rules: drillRules(roles),
    world: {
      kms,
      account,
      region: REGION,
      config,
      clientConfig,
      createKey: (name, input) => createDrillKey(kms, name, input),
      kmsIn: (other, region) => kmsInAccount(clientConfig, other, region),
      deliver: (event) => deliverStep(event, rt),
      addToHistory: (event) => shim.addToHistory(event),
    },
    async handler(incident) {
      let handler = handlers.get(incident);
      if (!handler) {
        handler = await loadHandler(incident, env);
        handlers.set(incident, handler);
      }
      return handler;
    },
  };
  return rt;
}

/** Every scenario in order, `rounds` times, with the same handlers (cold first, warm after). */
async function runRounds(
  scenarios: readonly Scenario[],
  rt: Runtime,
  rounds: number,
): Promise<ScenarioReport[]> {
  const reports: ScenarioReport[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) reports.push(await runScenario(scenario, rt));
  }
  return reports;
}

/**
 * The shim in front of each emulator, one per endpoint for the life of the process: every client
 * and handler reaches moto through it, which adds the rotation period and the CloudTrail history
 * moto lacks (emulator/moto-shim.ts). One per endpoint, because the loaded bundles keep their SDK
 * clients (with the endpoint they started with) from one run to the next.
 */
const shims = new Map<string, Promise<MotoShim>>();

function shimFor(endpoint: string): Promise<MotoShim> {
  let shim = shims.get(endpoint);
  if (!shim) {
    shim = motoShim(endpoint);
    shims.set(endpoint, shim);
    // A failed start is not kept: the next run tries again.
    shim.catch(() => shims.delete(endpoint));
  }
  return shim;
}

/** Stops every shim this process keeps (the command line, once its drill is over). */
export async function stopShims(): Promise<void> {
  await Promise.all([...shims.keys()].map((endpoint) => dropShim(endpoint)));
}

/** Stops the shim of an emulator that stops now. */
async function dropShim(endpoint: string): Promise<void> {
  const shim = shims.get(endpoint);
  shims.delete(endpoint);
  await (await shim?.catch(() => undefined))?.stop();
}

/**
 * Runs the drill. Starts moto unless `endpoint` is given (and stops it, by its pid, at the end),
 * builds the bundles when needed, and runs every scenario in order. Never throws for a scenario
 * that fails: it is reported. Throws when the emulator cannot be started or the bundles built.
 */
export async function runDrill(options: DrillOptions = {}): Promise<DrillReport> {
  const started = performance.now();
  const progress = options.progress ?? (() => {});
  const scenarios = await selectScenarios(options.only);
  await ensureBundles(options.build, progress);
  const { endpoint, moto } = await emulator(options.endpoint, progress);
  const saved: Record<string, string | undefined> = {};
  try {
    const shim = await shimFor(endpoint);
    // Set before any client exists: this machine's Node is older than the SDK's next minimum.
    saved.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED =
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    const rt = await setUp(shim, options.verbose === true, saved);
    const reports = await runRounds(scenarios, rt, options.rounds ?? 1);
    return {
      endpoint,
      passed: reports.every((r) => r.passed),
      scenarios: reports,
      totalMs: Math.round(performance.now() - started),
    };
  } finally {
    restoreEnv(saved);
    if (moto) await dropShim(endpoint);
    await moto?.stop();
  }
}

// ---- the report ----

function statusWord(a: ScenarioReport["actions"][number]): string {
  const verified = a.verified === true ? ", verified" : a.verified === false ? ", NOT verified" : "";
  return `${a.type} ${a.status}${verified}`;
}

function ruleText(r: ScenarioReport): string {
  if (r.decision.outcome === SWEPT) return "none: a sweep reads the keys, no event is delivered";
  if (!r.rule) return "no rule matched: not delivered";
  const state = DECLARED.find((i) => i.name === r.rule)?.ruleState;
  return `${r.rule} matched${state ? ` (rule state ${state})` : ""}`;
}

function decisionText(r: ScenarioReport): string {
  const d = r.decision;
  const error = d.error ? ` [${d.error}]` : "";
  if (d.skipped) return `${d.outcome}: ${d.skipped}${d.why ? ` (${d.why})` : ""}${error}`;
  const reasons = d.reasons?.length ? `: ${d.reasons.join(", ")}` : "";
  const verdicts = d.verdicts?.length ? ` [verdicts: ${d.verdicts.join(", ")}]` : "";
  return `${d.incident ?? r.rule ?? ""} ${d.severity ?? ""}${reasons}${verdicts} -> ${d.outcome}${error}`.trim();
}

function timingText(timing: ScenarioReport["timing"]): string | undefined {
  if (timing.handlerMs === undefined) return undefined;
  const calls = timing.calls
    .map(
      (c) =>
        `${c.operation} ${c.ms}${c.status !== undefined && c.status >= 300 ? ` (HTTP ${c.status})` : ""}`,
    )
    .join(", ");
  const remediation =
    timing.remediationMs !== undefined ? `remediated ${timing.remediationMs} ms after delivery, ` : "";
  return `${remediation}handler ${timing.handlerMs} ms${calls ? ` (calls, ms: ${calls})` : ""}`;
}

function notificationLines(r: ScenarioReport, verbose: boolean): string[] {
  if (!verbose || !r.notification?.text) return [];
  return ["      ---- notification text ----", ...r.notification.text.split("\n").map((l) => `      | ${l}`)];
}

/** The human timeline of one scenario. */
export function formatScenario(r: ScenarioReport, index: number, total: number, verbose = false): string[] {
  const lines = [`${r.passed ? "PASS" : "FAIL"}  ${index}/${total} ${r.scenario}: ${r.title}`];
  const row = (label: string, text: string) => lines.push(`      ${label.padEnd(10)} ${text}`);
  row("promise", r.promise);
  row("attack", `${r.attack}${r.performed ? "" : "  [event emitted only]"}`);
  if (r.note) row("note", r.note);
  row(
    "event",
    r.decision.outcome === SWEPT
      ? "none (the problem predates the responder)"
      : `${r.event.eventName ?? "?"} ${r.event.eventId ?? ""} from ${r.event.fixture}`,
  );
  row("rule", ruleText(r));
  row("decision", decisionText(r));
  row("actions", r.actions.length ? r.actions.map(statusWord).join("; ") : "none");
  for (const c of r.endState) row("end state", `${c.ok ? "ok  " : "FAIL"} ${c.what} (${c.observed})`);
  row("notified", r.notification ? (r.notification.subject ?? "(no subject)") : "nothing published");
  lines.push(...notificationLines(r, verbose));
  const timing = timingText(r.timing);
  if (timing) row("timing", timing);
  for (const f of r.failures) row("BROKEN", f);
  return lines;
}

export function formatReport(report: DrillReport, verbose = false): string[] {
  const lines: string[] = [`kms-responder drill against ${report.endpoint}`, ""];
  report.scenarios.forEach((r, i) => {
    lines.push(...formatScenario(r, i + 1, report.scenarios.length, verbose), "");
  });
  const kept = report.scenarios.filter((r) => r.passed).length;
  const remediation = report.scenarios.flatMap((r) =>
    r.timing.remediationMs !== undefined ? [r.timing.remediationMs] : [],
  );
  const slowest = remediation.length
    ? `; slowest remediation ${Math.max(...remediation)} ms after delivery`
    : "";
  lines.push(
    `${kept}/${report.scenarios.length} scenarios ended as promised${slowest}; drill took ${(report.totalMs / 1000).toFixed(1)} s`,
  );
  return lines;
}

/** The `drill` command of the CLI. */
export async function drillCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      endpoint: { type: "string" },
      only: { type: "string" },
      build: { type: "string", default: "auto" },
      verbose: { type: "boolean", default: false },
    },
  });
  if (positionals.length)
    throw new UsageError(`drill takes no positional arguments (got ${positionals.join(" ")})`);
  const build = values.build;
  if (build !== "auto" && build !== "always" && build !== "never") {
    throw new UsageError(`--build must be auto, always or never (got ${build})`);
  }
  const options: DrillOptions = {
    build,
    verbose: values.verbose,
    progress: (line) => io.err(`drill: ${line}`),
  };
  if (values.endpoint) options.endpoint = values.endpoint.replace(/\/+$/, "");
  if (values.only)
    options.only = values.only
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  let report: DrillReport;
  try {
    report = await runDrill(options);
  } catch (error) {
    io.err(`kms-responder drill: ${describeError(error)}`);
    return 2;
  } finally {
    await stopShims();
  }
  if (values.json) for (const r of report.scenarios) io.out(JSON.stringify(r));
  else for (const line of formatReport(report, values.verbose)) io.out(line);
  return report.passed ? 0 : 1;
}
