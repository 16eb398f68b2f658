/**
 * The registry: every incident, in one list. Routing, triage, the stack (rules, functions, roles,
 * concurrency), the build and the drill read it. Adding an incident is one folder under
 * `functions/` with an `incident.ts`, its declaration in INCIDENTS here, and its name (with its
 * config options) in `registry-names.ts`; the compiler rejects the two disagreeing.
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
import type { IncidentName } from "./registry-names.js";
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

/** The declared names equal the names module's, both ways: a mismatch does not compile. */
type Declared = (typeof INCIDENTS)[number]["name"];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameNames: Same<Declared, IncidentName> = true;
void sameNames;

export type RegisteredIncident = (typeof INCIDENTS)[number];

/** The incidents' own event-detail parsers: what triage, preview and the drill normalise records with. */
export const DETAIL_PARSERS: readonly DetailParser[] = /* @__PURE__ */ INCIDENTS.flatMap(
  (i: RegisteredIncident & { details?: readonly DetailParser[] }) => i.details ?? [],
);
export { INCIDENT_NAMES, type IncidentName } from "./registry-names.js";
