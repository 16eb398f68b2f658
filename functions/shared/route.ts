/**
 * Routing any record to the incident it belongs to, for the places where every incident is in play
 * (the CLI's triage, the drill). Each Lambda handler runs only its own incident.
 */
import type { Config } from "./config.js";
import { type Decision, ignore, type KeyFacts, KMS_SOURCE, notKms } from "./decision.js";
import type { KmsEvent } from "./event.js";
import type { Incident } from "./incident.js";

/** The CloudTrail event sources an incident handles (KMS's unless it declares others). */
export function sourcesOf(incident: Pick<Incident, "name" | "eventSources">): readonly string[] {
  return incident.eventSources ?? [KMS_SOURCE];
}

/** Every event source some incident handles. */
export function watchedSources(
  incidents: readonly Pick<Incident, "name" | "eventSources">[],
): ReadonlySet<string> {
  return new Set(incidents.flatMap(sourcesOf));
}

/**
 * The incidents that may take an event of this source and name, per list of incidents: triage asks
 * for every record of a large export, and a lookup by source and name beats testing each incident.
 */
const candidatesByList = new WeakMap<readonly Incident[], Map<string, Map<string, readonly Incident[]>>>();
const watchedByList = new WeakMap<readonly Incident[], ReadonlySet<string>>();

function candidates<I extends Incident>(incidents: readonly I[], source: string, name: string): readonly I[] {
  let bySource = candidatesByList.get(incidents);
  if (!bySource) {
    bySource = new Map();
    candidatesByList.set(incidents, bySource);
  }
  let byName = bySource.get(source);
  if (!byName) {
    byName = new Map();
    bySource.set(source, byName);
  }
  let found = byName.get(name);
  if (!found) {
    found = incidents.filter((i) => sourcesOf(i).includes(source) && i.eventNames.includes(name));
    byName.set(name, found);
  }
  // The list holds only members of `incidents` (filtered from it above).
  return found as readonly I[];
}

function watchedOf(incidents: readonly Incident[]): ReadonlySet<string> {
  let watched = watchedByList.get(incidents);
  if (!watched) {
    watched = watchedSources(incidents);
    watchedByList.set(incidents, watched);
  }
  return watched;
}

/** The incident of an event, by source, event name and the incident's own `matches`, or undefined. */
export function incidentFor<I extends Incident>(incidents: readonly I[], event: KmsEvent): I | undefined {
  return candidates(incidents, event.eventSource ?? "", event.eventName ?? "").find((i) => i.matches(event));
}

/**
 * Decides any record with the incident it belongs to. Offline there are no facts but what the
 * caller gives: triage gives the key's earlier records it read (`earlier`), nothing else.
 */
export function decideAny(
  incidents: readonly Incident[],
  event: KmsEvent,
  config: Config,
  facts: KeyFacts = {},
): Decision {
  const watched = watchedOf(incidents);
  if (!watched.has(event.eventSource ?? "")) return notKms(event.eventSource, [...watched]);
  return decideBy(incidentFor(incidents, event), event, config, facts);
}

/**
 * Decides a record of a watched source with the incident `incidentFor` found for it (undefined: none
 * takes it), for a caller that needs the incident too and looks it up once.
 */
export function decideBy(
  incident: Incident | undefined,
  event: KmsEvent,
  config: Config,
  facts: KeyFacts = {},
): Decision {
  if (!incident) {
    if (event.errorCode !== undefined)
      return ignore("failed-call", `the call failed (${event.errorCode}): nothing changed`);
    return ignore("no-incident", `${event.eventName ?? "this event"} is not an incident`);
  }
  return incident.decide(event, config, incident.remembers ? facts : {});
}
