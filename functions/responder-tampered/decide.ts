/**
 * responder-tampered: a call that blinds or silences the responder (its trail, rules and bus,
 * functions, topic and subscriptions, roles), on the responder's own resources, by anyone but
 * the stack's deployment. Critical; the notification says what changed and how to put it back.
 * The notification key is watched by key-disabled and key-deletion-scheduled, which repair it.
 *
 * "Ours" is judged from the record alone: the trails listed (every trail when none is), and the
 * resources whose names carry the stack's prefix (CloudFormation names them `<stack>-<id>-<suffix>`),
 * and the default event bus the rules sit on.
 */
import { type Config, incidentOptions } from "../shared/config.js";
import {
  callerIsOneOf,
  type Decision,
  type Finding,
  ignore,
  incidentMode,
  type KeyFacts,
  modeHold,
  type PlannedAction,
  precheck,
  type RepairTarget,
} from "../shared/decision.js";
import { actorPrincipal, type KmsEvent } from "../shared/event.js";
import type { ActionType } from "../shared/types.js";
import { WATCHED_CALLS, WATCHED_SOURCES, type WatchedCall } from "./calls.js";
import { OPTIONS } from "./options.js";

export const INCIDENT = "responder-tampered";

/** What a watched call changed, as read from its record. */
export interface TamperDetail {
  kind: "tamper";
  /** The resource's name (a trail, rule, function, topic or role name; a subscription's topic). */
  resource: string | undefined;
  /** The event bus a rule or permission is on (`default` when the record names none). */
  bus: string | undefined;
  /** PutFunctionConcurrency's reserved concurrency. */
  concurrency: number | undefined;
  /** PutPermission's statement id, a role policy's name or ARN. */
  statement: string | undefined;
}

declare module "../shared/event.js" {
  interface EventDetails {
    tamper: TamperDetail;
  }
}

const REASONS: Readonly<Record<string, string>> = {
  StopLogging: "trail-stopped",
  DeleteTrail: "trail-deleted",
  UpdateTrail: "trail-changed",
  PutEventSelectors: "event-selectors-changed",
  DisableRule: "rule-disabled",
  DeleteRule: "rule-deleted",
  RemoveTargets: "targets-removed",
  PutRule: "rule-changed",
  PutPermission: "bus-opened",
  UpdateFunctionConfiguration20150331v2: "function-changed",
  UpdateFunctionCode20150331v2: "function-code-changed",
  DeleteFunction20150331: "function-deleted",
  PutFunctionConcurrency20171031: "function-concurrency-changed",
  RemovePermission20150331v2: "invoke-permission-removed",
  Unsubscribe: "unsubscribed",
  SetTopicAttributes: "topic-changed",
  DeleteTopic: "topic-deleted",
  PutRolePolicy: "role-policy-added",
  AttachRolePolicy: "role-policy-attached",
  DetachRolePolicy: "role-policy-detached",
  DeleteRolePolicy: "role-policy-deleted",
  UpdateAssumeRolePolicy: "role-trust-changed",
};

/** The last part of a trail ARN (`...:trail/<name>`), or the name as given. */
function trailName(ref: string): string {
  const at = ref.lastIndexOf(":trail/");
  return at >= 0 ? ref.slice(at + ":trail/".length) : ref;
}

function isOurs(call: WatchedCall, d: TamperDetail, config: Config): boolean {
  const trails = incidentOptions(config, INCIDENT, OPTIONS).trails ?? [];
  const { resourcePrefix } = config;
  const prefixed = (name: string | undefined) => name?.startsWith(resourcePrefix) === true;
  switch (call.kind) {
    case "trail":
      return (
        trails.length === 0 ||
        (d.resource !== undefined && trails.map(trailName).includes(trailName(d.resource)))
      );
    case "bus":
      return d.bus === "default" || prefixed(d.bus);
    default:
      return prefixed(d.resource);
  }
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT, { eventSources: WATCHED_SOURCES });
  if (skip) return skip;
  const name = event.eventName ?? "";
  const call = WATCHED_CALLS[name];
  const d = event.detail;
  if (!call || d.kind !== "tamper")
    return ignore("no-incident", `${name || "this call"} is not watched`, INCIDENT);
  if (callerIsOneOf(config.deploymentRoleArns, event))
    return ignore("own-call", "made by the stack's deployment role: the stack's own change", INCIDENT);
  if (!isOurs(call, d, config))
    return ignore(
      "no-incident",
      `${d.resource ?? d.bus ?? "the resource"} is not one of the responder's`,
      INCIDENT,
    );
  return finding(event, call, d, config, facts);
}

function what(call: WatchedCall, d: TamperDetail): string {
  if (call.kind === "bus") return `event bus ${d.bus ?? "default"}`;
  if (call.kind === "subscription") return `a subscription of topic ${d.resource ?? "?"}`;
  return `${call.kind} ${d.resource ?? "?"}`;
}

function putBack(call: WatchedCall, event: KmsEvent, d: TamperDetail): string {
  const bus = d.bus && d.bus !== "default" ? `--event-bus-name ${d.bus}` : "";
  return call.putBack
    .replaceAll("RESOURCE", d.resource ?? "NAME")
    .replaceAll("STATEMENT", d.statement ?? "STATEMENT_ID")
    .replaceAll("POLICY", d.statement ?? "POLICY")
    .replaceAll("TOPIC", d.resource ?? "TOPIC")
    .replaceAll("REGION", event.region ? `--region ${event.region}` : "")
    .replaceAll("BUS", bus)
    .replace(/ {2,}/g, " ")
    .replace(/ ([,)])/g, "$1");
}

/**
 * The repair of a call, when `repair` is on and one is safe: the rule re-enabled, the trail (one
 * listed in `trails`: the role may start only those) restarted, the function's reservation
 * removed. Held in notify mode like any action; in approve mode proposed (no approval document
 * runs a repair: the approver runs the put-back command); held when the resource is not where
 * the stack owns it.
 */
function repairOf(
  event: KmsEvent,
  call: WatchedCall,
  d: TamperDetail,
  config: Config,
  facts: KeyFacts,
): PlannedAction[] {
  const name = event.eventName ?? "";
  const options = incidentOptions(config, INCIDENT, OPTIONS);
  if (!options.repair || d.resource === undefined) return [];
  const type = REPAIRS[name];
  if (!type) return [];
  if (type === "start-logging" && !(options.trails ?? []).length) return [];
  const resource: RepairTarget = {
    name: d.resource,
    ...(type === "enable-rule" && d.bus && d.bus !== "default" && { bus: d.bus }),
    ...(event.region && { region: event.region }),
  };
  const hold =
    placeHold(event, type, facts) ?? modeHold(INCIDENT, config) ?? approveHold(call, event, d, config);
  return [{ type, keyRef: d.resource, resource, ...(hold && { hold }) }];
}

/**
 * A repair acts with the responder's own role, on the stack's own resources: in its own account
 * (a member account's resource of the same name is not the stack's, and the role could not reach
 * it), and for a rule or a function in its own Region (a trail is restarted in its home Region,
 * which may be another). Known from the responder's account and Region, which the pipeline gives.
 */
function placeHold(event: KmsEvent, type: ActionType, facts: KeyFacts): PlannedAction["hold"] | undefined {
  const here = facts.responder;
  if (here?.account && event.accountId !== here.account) {
    return {
      status: "skipped",
      code: "other-account",
      why: `the changed resource is in account ${event.accountId ?? "(unknown)"}; the stack's own resources are in ${here.account}: not repaired`,
    };
  }
  if (type !== "start-logging" && here?.region && event.region !== here.region) {
    return {
      status: "skipped",
      code: "other-region",
      why: `the changed resource is in ${event.region ?? "(unknown Region)"}; the stack's own rules and functions are in ${here.region}: not repaired`,
    };
  }
  return undefined;
}

/** Approve mode: the repair is proposed as the command an approver runs, never run unapproved. */
function approveHold(
  call: WatchedCall,
  event: KmsEvent,
  d: TamperDetail,
  config: Config,
): PlannedAction["hold"] | undefined {
  if (incidentMode(config, INCIDENT) !== "approve") return undefined;
  return {
    status: "skipped",
    code: "approve-by-hand",
    why: `approve mode: a repair has no approval document; to approve it, run: ${putBack(call, event, d)}`,
  };
}

/** The calls a repair puts back, by event name. */
const REPAIRS: Readonly<Record<string, ActionType>> = {
  DisableRule: "enable-rule",
  StopLogging: "start-logging",
  PutFunctionConcurrency20171031: "restore-function-concurrency",
};

/** The resource the finding names instead of a key; `short` drops the stack's prefix for the subject. */
function changedResource(call: WatchedCall, d: TamperDetail, config: Config): Finding["resource"] {
  const kind = call.kind === "bus" ? "event bus" : call.kind === "subscription" ? "topic" : call.kind;
  const name = call.kind === "bus" ? (d.bus ?? "default") : (d.resource ?? "?");
  const short = name.startsWith(config.resourcePrefix) ? name.slice(config.resourcePrefix.length) : undefined;
  return { kind, name, ...(short && { short }) };
}

function finding(
  event: KmsEvent,
  call: WatchedCall,
  d: TamperDetail,
  config: Config,
  facts: KeyFacts,
): Decision {
  const name = event.eventName ?? "";
  const who = actorPrincipal(event.actor) ?? "an unknown caller";
  const target = what(call, d);
  const throttled = name === "PutFunctionConcurrency20171031" && d.concurrency === 0;
  const details = [
    `Put it back: ${putBack(call, event, d)}`,
    `${who} is not the stack's deployment role: if this change was intended, make it through the stack.`,
  ];
  if (throttled)
    details.unshift(
      "Reserved concurrency 0: the function is never invoked; every event to it is lost after EventBridge's retries.",
    );
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "critical",
    reasons: [throttled ? "function-throttled" : (REASONS[name] ?? "responder-changed")],
    title: "kms-responder tampered with",
    summary: `${who} called ${name} on the responder's ${target}: the responder may no longer see or report KMS incidents`,
    details,
    actions: repairOf(event, call, d, config, facts),
    event,
    key: undefined,
    resource: changedResource(call, d, config),
    extra: { resource: { kind: call.kind, name: d.resource ?? null, bus: d.bus ?? null, eventName: name } },
  };
}
