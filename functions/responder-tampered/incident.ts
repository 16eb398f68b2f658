/** responder-tampered: calls that blind or silence the responder -> notify (critical), with how to put it back. */
import { enableRule } from "../shared/actions/enable-rule.js";
import { restoreFunctionConcurrency } from "../shared/actions/restore-function-concurrency.js";
import { startLogging } from "../shared/actions/start-logging.js";
import { incidentOptions } from "../shared/config.js";
import type { DetailInput, EventDetail } from "../shared/event.js";
import type { Incident } from "../shared/incident.js";
import { str } from "../shared/json.js";
import { SUCCEEDED, serviceApiCall } from "../shared/rule.js";
import { WATCHED_CALLS, WATCHED_EVENT_NAMES, WATCHED_SOURCES } from "./calls.js";
import { decide, INCIDENT } from "./decide.js";
import { OPTIONS } from "./options.js";

/** `arn:aws:lambda:r:a:function:NAME[:qualifier]`, `a:function:NAME`, or NAME. */
function functionName(ref: string): string {
  const at = ref.indexOf("function:");
  return at >= 0 ? (ref.slice(at + "function:".length).split(":")[0] ?? ref) : ref;
}

/** An SNS topic ARN's name (`arn:aws:sns:r:a:NAME`), also a subscription ARN's topic (`...:NAME:<id>`). */
function topicName(ref: string): string {
  return ref.startsWith("arn:") ? (ref.split(":")[5] ?? ref) : ref;
}

/** An event bus name or ARN (`...:event-bus/NAME`) as its name; absent means the default bus. */
function busName(ref: string | undefined): string {
  if (!ref) return "default";
  const at = ref.lastIndexOf("event-bus/");
  return at >= 0 ? ref.slice(at + "event-bus/".length) : ref;
}

export function parseTamper({ eventName, request }: DetailInput): EventDetail {
  const call = WATCHED_CALLS[eventName];
  const raw = call ? str(request[call.field]) : undefined;
  const resource =
    raw === undefined || call === undefined
      ? undefined
      : call.kind === "function"
        ? functionName(raw)
        : call.kind === "topic" || call.kind === "subscription"
          ? topicName(raw)
          : call.kind === "bus"
            ? busName(raw)
            : raw;
  const concurrency = request.reservedConcurrentExecutions;
  return {
    kind: "tamper",
    resource,
    bus: call?.kind === "rule" || call?.kind === "bus" ? busName(str(request.eventBusName)) : undefined,
    concurrency: typeof concurrency === "number" ? concurrency : undefined,
    statement: str(request.statementId) ?? str(request.policyName) ?? str(request.policyArn),
  };
}

export const responderTampered = {
  name: INCIDENT,
  options: OPTIONS,
  securityHubType: "TTPs/Defense Evasion/KMS Responder Tampered",
  summary:
    "The trail, rules, bus, functions, topic or roles the responder depends on changed by anyone but the stack's deployment: notify (critical) with how to put it back",
  eventSources: WATCHED_SOURCES,
  eventNames: WATCHED_EVENT_NAMES,
  matches: () => true,
  // IAM delivers its events to EventBridge in us-east-1 only (docs/security.md says how that is covered).
  pattern: (own) =>
    serviceApiCall(Object.values(WATCHED_CALLS), {
      eventName: [...WATCHED_EVENT_NAMES],
      ...SUCCEEDED,
      ...own,
    }),
  decide,
  executors: [enableRule, startLogging, restoreFunctionConcurrency],
  // The repairs only when configured: without `repair` the role has no permission to change anything.
  plans: (config) =>
    incidentOptions(config, INCIDENT, OPTIONS).repair
      ? ["enable-rule", "start-logging", "restore-function-concurrency"]
      : [],
  reads: () => [],
  details: [{ eventNames: WATCHED_EVENT_NAMES, parse: parseTamper }],
} as const satisfies Incident<typeof INCIDENT>;
