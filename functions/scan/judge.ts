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
    return finding ? [{ ...finding, findingType: i.securityHubType }] : [];
  });
}
