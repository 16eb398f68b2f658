/**
 * The registry: every incident, in one list. Routing, triage, the config check (names and each
 * incident's own options), the stack (rules, functions, roles, concurrency), the build and the
 * drill read it. Adding an incident is one folder under `functions/` with an `incident.ts`, and its
 * declaration in INCIDENTS here; its name and options come from the declaration.
 */
import { aliasChanged } from "./alias-changed/incident.js";
import { customKeyStoreChanged } from "./custom-key-store-changed/incident.js";
import { exemptionTampered } from "./exemption-tampered/incident.js";
import { keyDeleted } from "./key-deleted/incident.js";
import { keyDeletionScheduled } from "./key-deletion-scheduled/incident.js";
import { keyDisabled } from "./key-disabled/incident.js";
import { keyMaterialDeleted } from "./key-material-deleted/incident.js";
import { keyMaterialExpiring } from "./key-material-expiring/incident.js";
import { keyMaterialImported } from "./key-material-imported/incident.js";
import { keyPolicyViolation } from "./key-policy-violation/incident.js";
import { keyRegionChanged } from "./key-region-changed/incident.js";
import { keyRotationDisabled } from "./key-rotation-disabled/incident.js";
import { keyRotationWeakened } from "./key-rotation-weakened/incident.js";
import { pendingDeletionKeyUsed } from "./pending-deletion-key-used/incident.js";
import { responderTampered } from "./responder-tampered/incident.js";
import { rogueGrant } from "./rogue-grant/incident.js";
import type { DetailParser } from "./shared/event.js";

export const INCIDENTS = [
  rogueGrant,
  keyDeletionScheduled,
  keyPolicyViolation,
  keyDisabled,
  keyMaterialDeleted,
  keyRotationDisabled,
  pendingDeletionKeyUsed,
  keyMaterialExpiring,
  aliasChanged,
  keyRotationWeakened,
  keyMaterialImported,
  customKeyStoreChanged,
  keyRegionChanged,
  keyDeleted,
  exemptionTampered,
  responderTampered,
] as const;

export type RegisteredIncident = (typeof INCIDENTS)[number];

/** An incident's name: one of the declarations', by the type system. */
export type IncidentName = RegisteredIncident["name"];

/** The names, in the registry's order. */
export const INCIDENT_NAMES: readonly IncidentName[] = /* @__PURE__ */ INCIDENTS.map((i) => i.name);

/** The incidents' own event-detail parsers: what triage, preview and the drill normalise records with. */
export const DETAIL_PARSERS: readonly DetailParser[] = /* @__PURE__ */ INCIDENTS.flatMap(
  (i: RegisteredIncident & { details?: readonly DetailParser[] }) => i.details ?? [],
);
