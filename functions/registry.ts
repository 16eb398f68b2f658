/**
 * The registry: every incident, in one list. Routing, triage, the config check (names and each
 * incident's own options), the stack (rules, functions, roles, concurrency), the build and the
 * drill read it. Adding an incident is one folder under `functions/` with an `incident.ts`, and one
 * line in `incidents.ts`; its name and options come from the declaration.
 */
import * as declared from "./incidents.js";
import type { DetailParser } from "./shared/event.js";

/** The declarations, in their names' alphabetical order (a module namespace lists its exports sorted). */
export const INCIDENTS: readonly RegisteredIncident[] = /* @__PURE__ */ Object.values(declared);

export type RegisteredIncident = (typeof declared)[keyof typeof declared];

/** An incident's name: one of the declarations', by the type system. */
export type IncidentName = RegisteredIncident["name"];

/** The names, in the registry's order. */
export const INCIDENT_NAMES: readonly IncidentName[] = /* @__PURE__ */ INCIDENTS.map((i) => i.name);

/** The incidents' own event-detail parsers: what triage, preview and the drill normalise records with. */
export const DETAIL_PARSERS: readonly DetailParser[] = /* @__PURE__ */ INCIDENTS.flatMap(
  (i: RegisteredIncident & { details?: readonly DetailParser[] }) => i.details ?? [],
);
