/**
 * One key's state through every incident that judges state: at most one finding per (key,
 * incident). Incidents switched off in the config are not asked.
 */
import { INCIDENTS } from "../registry.js";
import type { Config } from "../shared/config.js";
import { type Finding, incidentMode } from "../shared/decision.js";
import type { Incident } from "../shared/incident.js";
import type { KeyState, StateJudgement, StateRead } from "../shared/state.js";

export interface StateIncident {
  name: string;
  securityHubType: string;
  state: StateJudgement;
}

/** The incidents that judge state and are not switched off, in registry order. */
export function stateIncidents(config: Config, incidents: readonly Incident[] = INCIDENTS): StateIncident[] {
  return incidents.flatMap((i) =>
    i.state && incidentMode(config, i.name) !== "off"
      ? [{ name: i.name, securityHubType: i.securityHubType, state: i.state }]
      : [],
  );
}

/** What the sweep must read per key for these incidents. */
export function readsOf(incidents: readonly StateIncident[]): Set<StateRead> {
  return new Set(incidents.flatMap((i) => i.state.reads));
}

/** The findings about one key, in registry order, each with its Security Hub type. */
export function judgeKey(
  state: KeyState,
  config: Config,
  incidents: readonly StateIncident[],
  now: Date,
): Finding[] {
  return incidents.flatMap((i) => {
    const finding = i.state.judge(state, config, now);
    return finding ? [unknownExemption({ ...finding, findingType: i.securityHubType }, state, config)] : [];
  });
}

/**
 * The exempt tag counts only when an approved principal set it. An event says who set it
 * (exemption-tampered); a sweep sees only the tag, not who set it: it treats the exemption as
 * unapproved, so the finding says its origin is unknown, and nothing is done (notify only) until
 * someone confirms it or removes the tag.
 */
export function unknownExemption(finding: Finding, state: KeyState, config: Config): Finding {
  if (!(config.exemptTagKey in state.tags)) return finding;
  const why = `key is tagged ${config.exemptTagKey}, and who set it is unknown to a sweep (it counts only when one of approvedExemptionPrincipals set it): notify only`;
  return {
    ...finding,
    verdicts: [...(finding.verdicts ?? []), "exemption-origin-unknown"],
    details: [
      ...finding.details,
      `The key's ${config.exemptTagKey} tag holds the response, but a sweep cannot tell who set it: confirm with an approved principal (approvedExemptionPrincipals) that the exemption is intended, or remove the tag (aws kms untag-resource --key-id ${state.key.arn} --tag-keys ${config.exemptTagKey} --region ${state.key.region}).`,
    ],
    actions: finding.actions.map((a) => ({ ...a, hold: { status: "skipped", code: "exempt-key", why } })),
  };
}
