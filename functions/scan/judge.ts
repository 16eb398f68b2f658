/**
 * One key's state through every incident that judges state: at most one finding per (key,
 * incident). Incidents switched off in the config are not asked.
 */
import { INCIDENTS } from "../registry.js";
import type { Config } from "../shared/config.js";
import { type Finding, incidentMode, principalMatches } from "../shared/decision.js";
import { actorPrincipal, type KmsEvent } from "../shared/event.js";
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

/**
 * Who set the key's exempt tag, from its CloudTrail history (exemption-origin.ts): the call that
 * set it, or undefined when the history does not say (older than it keeps, not readable).
 */
export interface ExemptionOrigin {
  setter: KmsEvent | undefined;
}

/** The findings about one key, in registry order, each with its Security Hub type. */
export function judgeKey(
  state: KeyState,
  config: Config,
  incidents: readonly StateIncident[],
  now: Date,
  origin?: ExemptionOrigin,
): Finding[] {
  return incidents.flatMap((i) => {
    const finding = i.state.judge(state, config, now);
    return finding
      ? [exemptionOf({ ...finding, findingType: i.securityHubType }, state, config, origin)]
      : [];
  });
}

/**
 * The exempt tag counts only when an approved principal set it. An event says who set it
 * (exemption-tampered); a sweep reads the tag's setting from the key's CloudTrail history when it
 * can (`origin`). Set by one of approvedExemptionPrincipals: the exemption counts, the finding says
 * who set it (its actions held as exempt, as for any exempt key). Otherwise (set by someone else,
 * or the history does not say) it is treated as unapproved: the finding says so, and nothing is
 * done (notify only) until someone confirms it or removes the tag.
 */
export function exemptionOf(
  finding: Finding,
  state: KeyState,
  config: Config,
  origin?: ExemptionOrigin,
): Finding {
  if (!(config.exemptTagKey in state.tags)) return finding;
  const setter = origin?.setter;
  const who = setter ? actorPrincipal(setter.actor) : undefined;
  const when = setter?.eventTime ? ` at ${setter.eventTime}` : "";
  if (setter && principalMatches(config.approvedExemptionPrincipals, setter)) {
    return {
      ...finding,
      verdicts: [...(finding.verdicts ?? []), "exemption-approved"],
      details: [
        ...finding.details,
        `The key's ${config.exemptTagKey} tag was set by ${who ?? "an approved principal"}${when} (${setter.eventName ?? "TagResource"}), one of approvedExemptionPrincipals: the exemption counts, nothing is done.`,
      ],
    };
  }
  const untag = `aws kms untag-resource --key-id ${state.key.arn} --tag-keys ${config.exemptTagKey} --region ${state.key.region}`;
  if (setter) {
    const why = `key is tagged ${config.exemptTagKey} by ${who ?? "an unknown caller"}, not one of approvedExemptionPrincipals: notify only`;
    return {
      ...finding,
      verdicts: [...(finding.verdicts ?? []), "exemption-unapproved"],
      details: [
        ...finding.details,
        `The key's ${config.exemptTagKey} tag holds the response, but ${who ?? "an unknown caller"} set it${when} (${setter.eventName ?? "TagResource"}), not one of approvedExemptionPrincipals: confirm with an approved principal that the exemption is intended, or remove the tag (${untag}).`,
      ],
      actions: finding.actions.map((a) => ({ ...a, hold: { status: "skipped", code: "exempt-key", why } })),
    };
  }
  const why = `key is tagged ${config.exemptTagKey}, and who set it is unknown to a sweep (it counts only when one of approvedExemptionPrincipals set it): notify only`;
  return {
    ...finding,
    verdicts: [...(finding.verdicts ?? []), "exemption-origin-unknown"],
    details: [
      ...finding.details,
      `The key's ${config.exemptTagKey} tag holds the response, but the sweep cannot tell who set it (not in the key's CloudTrail history of the last 90 days, or not readable): confirm with an approved principal (approvedExemptionPrincipals) that the exemption is intended, or remove the tag (${untag}).`,
    ],
    actions: finding.actions.map((a) => ({ ...a, hold: { status: "skipped", code: "exempt-key", why } })),
  };
}
