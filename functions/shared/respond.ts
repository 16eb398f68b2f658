/**
 * The pipeline every incident handler runs: parse -> decide -> look up the key -> decide again
 * with what was learnt -> act -> notify. Each incident's handler is this pipeline with its own
 * pure `decide`.
 *
 * Failure policy:
 * - An event that is not a CloudTrail record is logged and dropped (a retry cannot fix it).
 * - An action that fails is still reported (outcome `failed`, with the error), then the
 *   invocation fails so Lambda's retries and the on-failure destination take over. Retries are
 *   safe: every action treats "already done" as success.
 * - A notification that fails never undoes an action; the invocation fails so the retry
 *   publishes it (the actions then answer `already-done`).
 */
import { type ActionResult, runActions } from "./actions.js";
import type { Clients } from "./clients.js";
import type { Config } from "./config.js";
import type { Decision, Finding, Ignore, KeyFacts } from "./decision.js";
import { ActionError, ConfigError, describeError } from "./errors.js";
import { keyFacts, resolveKey } from "./facts.js";
import { logger } from "./logger.js";
import { type KmsApiCall, normalise, parseKeyArn } from "./model.js";
import { formatNotification, type Notification, type Outcome, publish } from "./notify.js";
import type { IncidentName } from "./types.js";

export interface IncidentModule {
  INCIDENT: IncidentName;
  decide(call: KmsApiCall, config: Config, facts?: KeyFacts): Decision;
  /** Whether deciding needs the key's tags (false when the incident never acts). */
  needsKeyFacts: boolean;
}

export interface HandlerResult {
  eventId: string | undefined;
  incident: IncidentName;
  outcome: Outcome | "ignored";
  skipped?: string;
  why?: string;
  severity?: string;
  reasons?: string[];
  actions?: ActionResult[];
  notificationId?: string;
}

export interface HandlerDeps {
  clients: Clients;
  config: Config;
  topicArn: string;
  /** The responder's Region (default: AWS_REGION). */
  region?: string;
}

/** The topic from `NOTIFICATION_TOPIC_ARN`; a missing one fails the cold start. */
export function topicFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const arn = env.NOTIFICATION_TOPIC_ARN;
  if (!arn?.startsWith("arn:")) {
    throw new ConfigError("NOTIFICATION_TOPIC_ARN must be set to the SNS topic ARN");
  }
  return arn;
}

/** What the handler learnt about the key a finding is about, before deciding again. */
interface KeyLookup {
  call: KmsApiCall;
  facts: KeyFacts;
  /** Lookups that failed, for the notification. */
  notes: string[];
}

/**
 * Resolves an alias to the key's ARN and reads the key's tags. A key in another Region than the
 * responder's is not read (the role cannot reach it); decide() then holds the actions.
 */
async function lookUpKey(
  subject: KmsApiCall,
  incident: IncidentModule,
  clients: Clients,
  region: string | undefined,
): Promise<KeyLookup> {
  const { call, error } = await resolveKey(clients.kms, subject);
  const keyRegion = parseKeyArn(call.keyArn)?.region;
  const elsewhere = region !== undefined && keyRegion !== undefined && keyRegion !== region;
  const looked: KeyFacts =
    incident.needsKeyFacts && call.keyArn && !elsewhere ? await keyFacts(clients.kms, call.keyArn) : {};
  const facts: KeyFacts = region ? { ...looked, responderRegion: region } : looked;
  return { call, facts, notes: [error, facts.lookupError].filter((n): n is string => n !== undefined) };
}

function ignored(incident: IncidentName, eventId: string | undefined, decision: Ignore): HandlerResult {
  logger.info("ignored", { skipped: decision.skipped, why: decision.why });
  return { eventId, incident, outcome: "ignored", skipped: decision.skipped, why: decision.why };
}

/** Publishes; a failure is logged and returned, never thrown here (the actions stand). */
async function publishSafely(
  clients: Clients,
  topicArn: string,
  notification: Notification,
): Promise<{ id?: string; error?: unknown }> {
  try {
    const id = await publish(clients.sns, topicArn, notification);
    return id ? { id } : {};
  } catch (error) {
    logger.error("notification failed; actions stand", { error: describeError(error) });
    return { error };
  }
}

/** Fails the invocation after the notification went out: failed actions first, then a failed publish. */
function settle(results: readonly ActionResult[], publishError: unknown): void {
  const failed = results.filter((r) => r.status === "failed");
  if (failed.length) throw new ActionError(failed.map((r) => `${r.type}: ${r.detail}`).join("; "));
  if (publishError !== undefined) {
    throw new ActionError(`notification failed: ${describeError(publishError)}`, { cause: publishError });
  }
}

export function createHandler(incident: IncidentModule, deps: HandlerDeps) {
  const { clients, config, topicArn } = deps;
  const name = incident.INCIDENT;
  // Lambda sets AWS_REGION: the Region whose keys this responder's role may act on.
  const region = deps.region ?? process.env.AWS_REGION;

  return async function handler(event: unknown): Promise<HandlerResult> {
    logger.resetKeys();
    logger.appendKeys({ incident: name });
    const parsed = normalise(event);
    if (!parsed) {
      logger.error("event is not a cloudtrail record, dropped", {
        event: String(JSON.stringify(event)).slice(0, 2000),
      });
      return { eventId: undefined, incident: name, outcome: "ignored", skipped: "unparseable" };
    }
    logger.appendKeys({ eventId: parsed.eventId, eventName: parsed.eventName, keyArn: parsed.keyArn });

    // Decide from the record alone first: most events end here without any AWS call.
    const first = incident.decide(parsed, config);
    if (first.kind === "ignore") return ignored(name, parsed.eventId, first);

    // The key the decision is about (for ReplicateKey the new replica, not the record's key).
    const { call, facts, notes } = await lookUpKey(first.call, incident, clients, region);
    const decision = incident.decide(call, config, facts);
    if (decision.kind === "ignore") return ignored(name, call.eventId, decision);
    const finding: Finding = notes.length
      ? { ...decision, details: [...decision.details, ...notes] }
      : decision;
    logger.appendKeys({ keyArn: call.keyArn, severity: finding.severity });

    const results = await runActions(finding.actions, {
      kms: clients.kms,
      cloudTrail: clients.cloudTrail,
      call,
    });
    const notification = formatNotification(
      finding.extra ? { finding, results, extra: finding.extra } : { finding, results },
    );
    logger.info("decided and acted", {
      reasons: finding.reasons,
      outcome: notification.document.outcome,
      actions: results,
    });
    const published = await publishSafely(clients, topicArn, notification);
    settle(results, published.error);

    const result: HandlerResult = {
      eventId: call.eventId,
      incident: name,
      outcome: notification.document.outcome,
      severity: finding.severity,
      reasons: finding.reasons,
      actions: results,
    };
    if (published.id) result.notificationId = published.id;
    return result;
  };
}
