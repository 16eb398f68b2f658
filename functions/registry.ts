/**
 * The registry: every incident, in one list. Routing, triage, the stack (rules, functions, roles,
 * concurrency), the build and the drill read it. Adding an incident is one folder under
 * `functions/` with an `incident.ts`, plus its import, its declaration in INCIDENTS and its name in
 * INCIDENT_NAMES here.
 */
import { aliasChanged } from "./alias-changed/incident.js";
import { keyDeletionScheduled } from "./key-deletion-scheduled/incident.js";
import { keyDisabled } from "./key-disabled/incident.js";
import { keyMaterialDeleted } from "./key-material-deleted/incident.js";
import { keyMaterialExpiring } from "./key-material-expiring/incident.js";
import { keyPolicyViolation } from "./key-policy-violation/incident.js";
import { keyRotationDisabled } from "./key-rotation-disabled/incident.js";
import { pendingDeletionKeyUsed } from "./pending-deletion-key-used/incident.js";
import { rogueGrant } from "./rogue-grant/incident.js";

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
] as const;

export type IncidentName = (typeof INCIDENTS)[number]["name"];
export type RegisteredIncident = (typeof INCIDENTS)[number];

/**
 * The names alone, as data: the config schema reads these without pulling every incident's code
 * (and clients) into every function's bundle (package.json marks the sources side-effect free, so
 * esbuild drops the declarations a bundle does not use). A test keeps this list and INCIDENTS equal.
 */
export const INCIDENT_NAMES: readonly string[] = [
  "rogue-grant",
  "key-deletion-scheduled",
  "key-policy-violation",
  "key-disabled",
  "key-material-deleted",
  "key-rotation-disabled",
  "pending-deletion-key-used",
  "key-material-expiring",
  "alias-changed",
];
