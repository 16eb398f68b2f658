/**
 * The member template's forwarding rules as plain data (no CDK here: the drill and the tests read
 * them too, without loading aws-cdk-lib).
 */
import type { Config } from "./config.js";
import { incidentMode } from "./decision.js";
import type { Incident } from "./incident.js";
import { type EventPattern, notByResponder } from "./rule.js";

/** One forwarding rule: an incident's pattern, with the member role's calls left out. */
export interface ForwardingRule {
  incident: string;
  pattern: EventPattern;
  /** `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` where the incident needs failed or read-only calls. */
  state: string;
}

/**
 * The rules a member account forwards with: every incident that is not off, with its own pattern
 * and the member role's calls (`memberRoleArn`) left out. One rule per incident keeps each rule's
 * state (read-only events reach only a rule in the CloudTrail-management state) and stays far
 * below EventBridge's 300 rules per bus; the same patterns the central rules use, so what is
 * forwarded is exactly what some central rule delivers.
 */
export function forwardingRules(
  config: Config,
  memberRoleArn: string,
  incidents: readonly Incident[],
): ForwardingRule[] {
  const own = notByResponder([memberRoleArn]);
  return incidents
    .filter((i) => incidentMode(config, i.name) !== "off")
    .map((i) => ({ incident: i.name, pattern: i.pattern(own), state: i.ruleState ?? "ENABLED" }));
}
