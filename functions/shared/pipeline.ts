/**
 * The one pipeline every way of acting runs: automatic responders and the runbook differ in how
 * they plan (an event vs a person's request), not in how they act, report, notify or fail.
 *
 *   parse -> decide (event alone) -> read the current state -> decide again -> act -> notify -> settle
 *
 * Failure policy (every side effect):
 * - An event that is not a CloudTrail record is logged and dropped (a retry cannot fix it).
 * - A read that fails holds the actions that depend on it as `failed` (never act blind).
 * - An action that fails is still reported (outcome `failed`, with the error), then the
 *   invocation fails so Lambda's retries and the on-failure destination take over. Retries are
 *   safe: every action treats "already done" as success.
 * - A notification that fails never undoes an action; the invocation fails so the retry
 *   publishes it (the actions then answer `already-done`).
 * - The chat message (when `chat` is configured) goes out after the main notification, to its own
 *   topic. A failed chat publish is logged and counted, and nothing more: it never undoes an action,
 *   never holds back the main notification (already sent), and never fails the invocation (a retry
 *   would send the main notification twice for a copy that is a convenience, not the record).
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { accountNamesFor } from "./account-names.js";
import {
  type ActionResult,
  base,
  type Executor,
  type KmsFor,
  type KnownFacts,
  type RepairClientsFor,
  runActions,
} from "./actions/action.js";
import { type KeyRef, parseKeyArn } from "./arn.js";
import { kmsForKey } from "./clients/kms.js";
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from "./clients/kms-sdk.js";
import type { KeyScope } from "./clients/member.js";
import { type Config, incidentOptions } from "./config.js";
import {
  type Decision,
  type Finding,
  type Ignore,
  incidentMode,
  type KeyFacts,
  NEGATIVE_VERDICTS,
  type PlannedAction,
  restsOnNegativeRead,
} from "./decision.js";
import { ActionError, ConfigError, describeError } from "./errors.js";
import { type KmsEvent, normalise } from "./event.js";
import { factReader, readFacts } from "./facts.js";
import type { MemberCredentials } from "./history-reader.js";
import type { Incident } from "./incident.js";
import { logger } from "./logger.js";
import { recordChatFailure, recordDeliveryLag, recordMetrics } from "./metrics.js";
import {
  findingAccount,
  formatNotification,
  type KeyInfo,
  type ManualRequest,
  type Notification,
  type Outcome,
} from "./notify.js";
import { memberSessionActions, roundReads } from "./permissions.js";
import { deliveryHold, heldFinding } from "./provenance.js";
import { publish, publishChat } from "./publish.js";
import type { SecurityHubReport } from "./securityhub.js";

export interface HandlerResult {
  eventId: string | undefined;
  incident: string;
  outcome: Outcome | "ignored";
  skipped?: string;
  why?: string;
  severity?: string;
  reasons?: string[];
  verdicts?: string[];
  actions?: ActionResult[];
  notificationId?: string;
}

export interface PipelineDeps {
  kms: KMSClient;
  sns: SNSClient;
  config: Config;
  /** Where to notify; undefined only for `run --direct` without a topic (nothing is published). */
  topicArn: string | undefined;
  /** The chat topic (config `chat`), which receives the chat message; undefined: no chat. */
  chatTopicArn?: string | undefined;
  /** The stack whose approval documents an incident in `mode: "approve"` starts (`APPROVAL_STACK_NAME`). */
  approvalStack?: string | undefined;
  /** The responder's Region and account: its role acts on keys there. */
  responder?: { region: string | undefined; account: string | undefined };
  /**
   * The KMS actions this function may use through the member role (a session policy): a central
   * function gets only its own incident's actions in a member account, not the role's union.
   */
  memberActions?: readonly string[];
  /**
   * Narrower than `memberActions`, for a request about one key (the runbook): the session may use
   * only those actions, and only on that key.
   */
  memberScope?: KeyScope;
  /** Waits before the read that confirms a negative one (default: a timer; tests pass their own). */
  wait?: Wait;
  /** The clients that repair the responder's own resources (the tampering incident only, on demand). */
  repair?: RepairClientsFor;
}

/** Resolves after about `ms` milliseconds. */
export type Wait = (ms: number) => Promise<void>;

/** The topic from `NOTIFICATION_TOPIC_ARN`; a missing one fails the cold start. */
export function topicFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const arn = env.NOTIFICATION_TOPIC_ARN;
  if (!arn?.startsWith("arn:")) {
    throw new ConfigError("NOTIFICATION_TOPIC_ARN must be set to the SNS topic ARN");
  }
  return arn;
}

/** The chat topic from `CHAT_TOPIC_ARN`, set by the stack only when config `chat` is present. */
export function chatTopicFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const arn = env.CHAT_TOPIC_ARN;
  return arn?.startsWith("arn:") ? arn : undefined;
}

/** Where a deployed function runs: Lambda sets AWS_REGION; the account is the topic's (same stack). */
export function responderFromEnv(topicArn: string, env: NodeJS.ProcessEnv = process.env) {
  return { region: env.AWS_REGION, account: topicArn.split(":")[4] || undefined };
}

interface Publication {
  finding: Finding;
  results: readonly ActionResult[];
  request: ManualRequest | undefined;
  keyInfo: KeyInfo | undefined;
}

/** Publishes; a failure is logged and returned, never thrown here (the actions stand). */
async function publishSafely(
  deps: PipelineDeps,
  { finding, results, request, keyInfo }: Publication,
): Promise<{ outcome: Outcome; id?: string; error?: unknown }> {
  const notification = formatNotification({
    finding,
    results,
    accountNames: await accountNamesFor(deps.config, findingAccount(finding)),
    ...(keyInfo && { keyInfo }),
    ...(request && { request }),
    ...(finding.extra && { extra: finding.extra }),
  });
  const outcome = notification.document.outcome;
  if (!deps.topicArn) return { outcome };
  let published: { outcome: Outcome; id?: string; error?: unknown };
  try {
    const id = await publish(deps.sns, deps.topicArn, notification);
    published = id ? { outcome, id } : { outcome };
  } catch (error) {
    logger.error("notification failed; actions stand", { error: describeError(error) });
    published = { outcome, error };
  }
  await publishChatSafely(deps, notification);
  return published;
}

/**
 * The chat copy: a failure is logged and counted, never returned (see the failure policy above).
 * Its formatting (chat.ts) loads on demand, only where `chat` is configured: a function without
 * chat never parses it at cold start.
 */
async function publishChatSafely(deps: PipelineDeps, notification: Notification): Promise<void> {
  if (!deps.chatTopicArn) return;
  try {
    const { chatMessage } = await import("./chat.js");
    const message = chatMessage(notification.subject, notification.document);
    await publishChat(deps.sns, deps.chatTopicArn, message);
  } catch (error) {
    logger.error("chat message failed; the notification and the actions stand", {
      error: describeError(error),
    });
    recordChatFailure();
  }
}

/**
 * The key's aliases and description, so the reader knows which key this is (`alias/payments` says
 * more than an id). An incident's handler read them with its facts (`notice`); a planner that read
 * nothing (the runbook, the sweep) reads them here, after acting. Best effort: a failed read
 * leaves them unknown in the notification.
 */
async function readKeyInfo(
  finding: Finding,
  deps: PipelineDeps,
  kmsFor: KmsFor,
  read: KeyFacts | undefined,
): Promise<KeyInfo | undefined> {
  if (read) return keyInfoOf(read);
  const key = finding.key;
  if (!key || !reachable(deps, key)) return undefined;
  try {
    const kms = await kmsFor(key.arn);
    const [described, listed] = await Promise.allSettled([
      kms.send(new DescribeKeyCommand({ KeyId: key.arn })),
      kms.send(new ListAliasesCommand({ KeyId: key.arn })),
    ]);
    const info: KeyInfo = {};
    if (described.status === "fulfilled") info.description = described.value.KeyMetadata?.Description ?? "";
    if (listed.status === "fulfilled") {
      info.aliases = (listed.value.Aliases ?? []).flatMap((a) => (a.AliasName ? [a.AliasName] : []));
    }
    return info;
  } catch {
    // The member role could not be assumed: the notification says the key facts are unknown.
    return undefined;
  }
}

/** The notification's key facts from a round of reads; undefined when the round read neither. */
function keyInfoOf(read: KeyFacts): KeyInfo | undefined {
  if (read.aliases === undefined && read.keyDescription === undefined) return undefined;
  return {
    ...(read.aliases && { aliases: [...read.aliases] }),
    ...(read.keyDescription !== undefined && { description: read.keyDescription }),
  };
}

/**
 * act -> notify, for a finding from any planner. Returns the result and, when an action or the
 * notification failed, the error that must fail the invocation (after the notification went out).
 */
export async function act(
  planned: Finding,
  executors: readonly Executor[],
  deps: PipelineDeps,
  request?: ManualRequest,
  read?: KeyFacts,
): Promise<{ result: HandlerResult; failure: ActionError | undefined }> {
  const { kmsFor } = accessFor(deps, planned.incident, planned.event?.eventId);
  // The actions never wait for what only the notification says (`detailsToCome`).
  const results = await runOrRequestApproval(planned, executors, deps, kmsFor, read);
  const actedAt = Date.now();
  const finding = await withDetailsCome(planned);
  const keyInfo = await readKeyInfo(finding, deps, kmsFor, read);
  const published = await publishSafely(deps, { finding, results, request, keyInfo });
  recordMetrics(finding, results, actedAt);
  // Security Hub (when on), after the notification: a failed import never undoes an action; it
  // fails the invocation like a failed notification (securityhub.ts).
  const imported = await importFinding(finding, results, deps, request);
  // Policies go to DEBUG only: they can be large and are the key owner's business.
  logger.info("decided and acted", {
    severity: finding.severity,
    reasons: finding.reasons,
    outcome: published.outcome,
    actions: results.map(({ previousPolicy: _p, ...r }) => r),
  });
  logger.debug("policies", { previous: results.map((r) => r.previousPolicy).filter(Boolean) });
  const result: HandlerResult = {
    eventId: finding.event?.eventId,
    incident: finding.incident,
    outcome: published.outcome,
    severity: finding.severity,
    reasons: finding.reasons,
    actions: results,
  };
  if (finding.verdicts?.length) result.verdicts = finding.verdicts;
  if (published.id) result.notificationId = published.id;
  return { result, failure: failureOf(results, published.error) ?? imported };
}

/**
 * Imports the finding into Security Hub when `securityHub` is on, and logs what the import did.
 * The mapping (securityhub.ts) loads on demand, only then: a function with Security Hub off never
 * parses it at cold start. It logs nothing itself (an on-demand bundle has a logger of its own,
 * without the invocation's keys), so its report is logged here. Returns the error that fails the
 * invocation, if any.
 */
async function importFinding(
  finding: Finding,
  results: readonly ActionResult[],
  deps: PipelineDeps,
  request: ManualRequest | undefined,
): Promise<ActionError | undefined> {
  if (!deps.config.securityHub) return undefined;
  let report: SecurityHubReport;
  try {
    const { importToSecurityHub } = await import("./securityhub.js");
    report = await importToSecurityHub(finding, results, deps, request);
  } catch (error) {
    report = { failed: { message: describeError(error), cause: error } };
  }
  if (report.imported) logger.info("imported into security hub", { findingId: report.imported });
  if (report.closed) logger.info("closed the deleted key's findings", { closed: report.closed });
  if (report.closeError) {
    logger.error("closing the deleted key's findings failed; they stay open", { error: report.closeError });
  }
  if (!report.failed) return undefined;
  const { message, cause } = report.failed;
  logger.error("security hub import failed; actions stand", { error: message });
  return new ActionError(`security hub import failed: ${message}`, { cause });
}

/** The finding with the details read for the notification only (`detailsToCome`) added, once acted. */
async function withDetailsCome(finding: Finding): Promise<Finding> {
  const { detailsToCome, ...rest } = finding;
  if (!detailsToCome) return finding;
  return { ...rest, details: [...finding.details, ...(await detailsToCome)] };
}

/**
 * Enforce runs the actions; approve asks for them (the approval documents, loaded on demand: only
 * approving functions load SSM). Without the stack's approval documents nothing can be asked, and
 * nothing is done: the actions are reported skipped, never run unapproved.
 */
async function runOrRequestApproval(
  finding: Finding,
  executors: readonly Executor[],
  deps: PipelineDeps,
  kmsFor: KmsFor,
  read: KeyFacts | undefined,
): Promise<ActionResult[]> {
  if (incidentMode(deps.config, finding.incident) !== "approve") {
    const known = read && finding.key ? { keyArn: finding.key.arn, facts: read } : undefined;
    return runConfirmed(finding.actions, executors, deps, kmsFor, known);
  }
  if (!deps.approvalStack) {
    return finding.actions.map((a) => ({
      ...base(a),
      status: "skipped",
      detail: "approval mode, but no approval documents are deployed (APPROVAL_STACK_NAME): not done",
    }));
  }
  const region = finding.key?.region ?? finding.event?.region;
  const { requestApprovals } = await import("./approval.js");
  return requestApprovals(finding.actions, {
    stackName: deps.approvalStack,
    incident: finding.incident,
    eventId: finding.event?.eventId,
    region: region ? ` --region ${region}` : "",
  });
}

/**
 * Runs the actions. One that found its target already done (the grant gone, the key already
 * disabled, the deletion already cancelled) may have met a stale read, as KMS reads are eventually
 * consistent: `confirmAfterSeconds` later it runs again (executors are idempotent), with every
 * action after it that did not succeed (they may depend on it, as enabling a key depends on the
 * cancelled deletion), and the second results stand. One wait per invocation, so the function
 * stays inside its timeout.
 */
async function runConfirmed(
  actions: readonly PlannedAction[],
  executors: readonly Executor[],
  deps: PipelineDeps,
  kmsFor: KmsFor,
  known: KnownFacts | undefined,
): Promise<ActionResult[]> {
  const ctx = { kmsFor, config: deps.config, repair: deps.repair };
  // The first attempt starts from the facts read before deciding; a second one reads afresh.
  const first = await runActions(actions, executors, known ? { ...ctx, known } : ctx);
  const from = first.findIndex((r) => r.status === "already-done");
  if (from < 0) return first;
  const redo = actions
    .map((action, i) => ({ action, i }))
    .filter(({ action, i }) => i >= from && !action.hold && first[i]?.status !== "succeeded");
  const seconds = deps.config.confirmAfterSeconds;
  await (deps.wait ?? sleep)(seconds * 1000);
  const second = await runActions(
    redo.map((r) => r.action),
    executors,
    ctx,
  );
  logger.info("already done, tried again", {
    first: redo.map(({ i }) => first[i]?.status),
    second: second.map((r) => r.status),
  });
  const results = [...first];
  redo.forEach(({ i }, n) => {
    const again = second[n];
    if (again) results[i] = first[i]?.status === "already-done" ? reconfirmed(again, seconds) : again;
  });
  return results;
}

/** The second attempt of an action the first found already done, saying which attempt it stands on. */
function reconfirmed(again: ActionResult, seconds: number): ActionResult {
  const note =
    again.status === "already-done"
      ? `confirmed by a second attempt ${seconds} s later`
      : `a first attempt found it already done; a second attempt ${seconds} s later did not (KMS reads are eventually consistent)`;
  return { ...again, detail: `${again.detail} (${note})` };
}

/** The error that fails the invocation: failed actions first, then a failed publish. */
function failureOf(results: readonly ActionResult[], publishError: unknown): ActionError | undefined {
  const failed = results.filter((r) => r.status === "failed");
  if (failed.length) return new ActionError(failed.map((r) => `${r.type}: ${r.detail}`).join("; "));
  if (publishError !== undefined) {
    return new ActionError(`notification failed: ${describeError(publishError)}`, { cause: publishError });
  }
  return undefined;
}

/** act -> notify -> settle: throws the failure (after notifying), else returns the result. */
export async function execute(
  finding: Finding,
  executors: readonly Executor[],
  deps: PipelineDeps,
  request?: ManualRequest,
  read?: KeyFacts,
): Promise<HandlerResult> {
  const { result, failure } = await act(finding, executors, deps, request, read);
  if (failure) throw failure;
  return result;
}

function ignored(incident: string, eventId: string | undefined, decision: Ignore): HandlerResult {
  logger.info("ignored", { skipped: decision.skipped, why: decision.why });
  return { eventId, incident, outcome: "ignored", skipped: decision.skipped, why: decision.why };
}

/**
 * How to reach a key: in the responder's own account, a client of the key's Region; in another
 * account of the organisation (central responder), the member role's credentials there.
 */
export function accessFor(
  deps: PipelineDeps,
  incident: string,
  eventId: string | undefined,
): { kmsFor: KmsFor; credentialsFor: (keyArn: string) => Promise<MemberCredentials | undefined> } {
  const org = deps.config.organization;
  const own = deps.responder?.account;
  const member = (arn: string) => {
    const key = parseKeyArn(arn);
    return org && key && own && key.account !== own
      ? {
          key,
          access: {
            partition: key.partition,
            roleName: org.memberRoleName,
            incident,
            eventId,
            ...(deps.memberActions && { actions: deps.memberActions }),
            ...(deps.memberScope && { scope: deps.memberScope }),
          },
        }
      : undefined;
  };
  return {
    // The STS client is loaded only by a central responder that meets a member account's key:
    // single-account functions never pay for it at cold start.
    kmsFor: async (arn) => {
      const m = member(arn);
      if (!m) return kmsForKey(deps.kms, arn);
      const { memberKms } = await import("./clients/member.js");
      return memberKms(m.key, m.access, (config) => new KMSClient(config));
    },
    credentialsFor: async (arn) => {
      const m = member(arn);
      if (!m) return undefined;
      const { memberCredentials } = await import("./clients/member.js");
      return memberCredentials(m.key, m.access);
    },
  };
}

/** Whether this responder may read a key at all (a single-account stack reads its own account's keys). */
function reachable(deps: PipelineDeps, key: KeyRef | undefined): boolean {
  const here = deps.responder;
  if (!key || !here || deps.config.organization) return true;
  return (
    (here.account === undefined || key.account === here.account) &&
    (here.region === undefined || key.region === here.region)
  );
}

/** The grant id the first decision plans to revoke (the grant to re-read). */
function plannedGrant(finding: Finding): string | undefined {
  return finding.actions.find((a) => a.type === "revoke-grant")?.grantId;
}

/**
 * Reads what the first decision is about: the facts the incident reads (none when this responder
 * cannot reach the key: decide then holds the actions and says why), the grant it plans to revoke.
 */
function readStateFor<Own extends string>(
  incident: Incident<string, Own>,
  deps: PipelineDeps,
  event: NonNullable<ReturnType<typeof normalise>>,
  first: Finding,
  again: boolean,
): ReturnType<typeof readFacts> {
  const grantId = plannedGrant(first);
  const access = accessFor(deps, incident.name, event.eventId);
  const names = reachable(deps, first.key) ? roundReads(incident, deps.config) : [];
  return readFacts(deps.kms, {
    names: again ? names.filter((name) => !factReader(name, incident.facts)?.notice) : names,
    kmsFor: access.kmsFor,
    credentialsFor: access.credentialsFor,
    key: first.key,
    keyHint: first.key ? undefined : event.keyHint,
    ...(grantId && { grantId }),
    ...(event.eventTime && { eventTime: event.eventTime }),
    ...(incident.history && { history: incident.history }),
    ...(incident.remembers && { remember: incident.remembers }),
    ...(incident.details && { parsers: incident.details }),
    ...(incident.facts && { readers: incident.facts }),
  });
}

/** What the responder read about the key, and the decision judged with it. */
interface Judged {
  decision: Decision;
  facts: KeyFacts;
  /** The notification's lines from the reads only it uses, still being read (`FactsRead.notices`). */
  notices: Promise<string[]>;
  /** The event with its key resolved (a record that named its key by alias). */
  resolved: KmsEvent;
}

/** Reads the current state of what the first decision is about, and decides again with it. */
async function judge<Own extends string>(
  incident: Incident<string, Own>,
  deps: PipelineDeps,
  event: KmsEvent,
  first: Finding,
  again = false,
): Promise<Judged> {
  const { key, facts, notices } = await readStateFor(incident, deps, event, first, again);
  const resolved = !event.key && key ? { ...event, key } : event;
  const decision = incident.decide(
    resolved,
    deps.config,
    deps.responder ? { ...facts, responder: deps.responder } : facts,
  );
  return { decision, facts, notices, resolved };
}

/** Waits the given milliseconds (the default `PipelineDeps.wait`). */
const sleep: Wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `judge`, confirmed: a decision that rests on a negative read (`NEGATIVE_VERDICTS`: the grant is
 * not listed, the policy is not the event's, the key is not in the event's state) may be a stale
 * read, as KMS reads are eventually consistent. The state is read once more
 * `confirmAfterSeconds` later and the second decision stands (acting when the second read shows
 * what the event claims); its details say which. Bounded: one extra round of reads and at most
 * 20 s of waiting, inside the 60 s function timeout.
 */
async function judgeConfirmed<Own extends string>(
  incident: Incident<string, Own>,
  deps: PipelineDeps,
  event: KmsEvent,
  first: Finding,
): Promise<Judged> {
  const once = await judge(incident, deps, event, first);
  if (once.decision.kind === "ignore" || !restsOnNegativeRead(once.decision)) return once;
  const seconds = deps.config.confirmAfterSeconds;
  await (deps.wait ?? sleep)(seconds * 1000);
  // The notification-only reads of the first round still stand: they are not sent again.
  const twice = { ...(await judge(incident, deps, event, first, true)), notices: once.notices };
  const negative = negativeVerdicts(once.decision);
  logger.info("negative read read again", {
    first: negative,
    second: twice.decision.kind === "finding" ? negativeVerdicts(twice.decision) : twice.decision.skipped,
  });
  if (twice.decision.kind === "ignore") return twice;
  const line = restsOnNegativeRead(twice.decision)
    ? `Confirmed by a second read ${seconds} s later (KMS reads are eventually consistent): ${negativeVerdicts(twice.decision).join(", ")}.`
    : `A first read showed ${negative.join(", ")}; a second read ${seconds} s later did not (KMS reads are eventually consistent): judged by the second read.`;
  return { ...twice, decision: { ...twice.decision, details: [...twice.decision.details, line] } };
}

function negativeVerdicts(finding: Finding): string[] {
  return (finding.verdicts ?? []).filter((v) => NEGATIVE_VERDICTS.includes(v));
}

/** The Lambda handler of one incident: the pipeline with the incident's own decide and executors. */
export function createHandler<Own extends string>(incident: Incident<string, Own>, given: PipelineDeps) {
  const { config } = given;
  // Its own options, checked at cold start: a Lambda's config is checked without the registry
  // (config.ts), so an unknown or wrong option of this incident fails here, naming the field.
  incidentOptions(config, incident.name, incident.options ?? {});
  // The chat topic comes from the environment unless given: every incident's entry stays the same.
  const withChat: PipelineDeps = {
    ...given,
    chatTopicArn: "chatTopicArn" in given ? given.chatTopicArn : chatTopicFromEnv(),
    approvalStack: "approvalStack" in given ? given.approvalStack : process.env.APPROVAL_STACK_NAME,
  };
  const deps: PipelineDeps = config.organization
    ? { ...withChat, memberActions: memberSessionActions(incident, config) }
    : withChat;
  const name = incident.name;
  return async function handler(raw: unknown, context?: Context): Promise<HandlerResult> {
    const receivedAt = Date.now();
    logger.resetKeys();
    if (context) logger.addContext(context);
    logger.appendKeys({ incident: name });
    const event = normalise(raw, incident.details);
    if (!event) {
      logger.error("event is not a cloudtrail record, dropped", {
        event: String(JSON.stringify(raw)).slice(0, 2000),
      });
      return { eventId: undefined, incident: name, outcome: "ignored", skipped: "unparseable" };
    }
    logger.appendKeys({ eventId: event.eventId, eventName: event.eventName, keyArn: event.key?.arn });
    recordDeliveryLag(name, event.eventTime, receivedAt);

    // Decide from the event alone first: most events end here without any AWS call.
    const first = incident.decide(event, config, {});
    if (first.kind === "ignore") return ignored(name, event.eventId, first);
    // A central responder's notification names the account (Organizations, once per account per
    // container): asked now, beside the round of reads, not after acting. It never throws.
    void accountNamesFor(config, findingAccount(first));

    // Then read the current state of what the decision is about, and judge that (twice when the
    // first read says "nothing to do": reads are eventually consistent).
    const { decision, facts, notices, resolved } = await judgeConfirmed(incident, deps, event, first);
    if (decision.kind === "ignore") return ignored(name, event.eventId, decision);
    logger.appendKeys({ keyArn: decision.key?.arn, severity: decision.severity });
    const typed = {
      ...heldFinding(decision, deliveryHold(raw, resolved, config)),
      findingType: incident.securityHubType,
      ...(incident.closesKeyFindings && { closesKeyFindings: incident.closesKeyFindings }),
      detailsToCome: notices,
    };
    const unresolved = decision.key ? undefined : facts.readErrors?.key;
    if (unresolved === undefined) return execute(typed, incident.executors, deps, undefined, facts);
    // The record named its key by alias and the lookup failed: notify with what is known, then
    // fail the invocation so the retry resolves it (never act blind, never stay silent).
    const noted = {
      ...typed,
      details: [...decision.details, `The key could not be resolved: ${unresolved}`],
    };
    const { failure } = await act(noted, incident.executors, deps, undefined, facts);
    throw failure ?? new ActionError(`the key could not be resolved: ${unresolved}`);
  };
}
