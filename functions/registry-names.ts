/**
 * Every incident's name, with its own config options (the fields `incidents.<name>` accepts besides
 * `mode`, as valibot entries from the incident's folder), as data. The config schema reads this
 * module, never the registry: it stays free of the incidents' code and clients, and nothing under
 * `shared/` imports the registry. `functions/registry.ts` checks at compile time that its
 * declarations carry exactly these names.
 */
import type * as v from "valibot";
import { OPTIONS as KEY_REGION_CHANGED } from "./key-region-changed/options.js";
import { OPTIONS as KEY_ROTATION_WEAKENED } from "./key-rotation-weakened/options.js";
import { OPTIONS as RESPONDER_TAMPERED } from "./responder-tampered/options.js";

export const INCIDENT_OPTIONS = {
  "rogue-grant": {},
  "key-deletion-scheduled": {},
  "key-policy-violation": {},
  "key-disabled": {},
  "key-material-deleted": {},
  "key-rotation-disabled": {},
  "pending-deletion-key-used": {},
  "key-material-expiring": {},
  "alias-changed": {},
  "key-rotation-weakened": KEY_ROTATION_WEAKENED,
  "key-material-imported": {},
  "custom-key-store-changed": {},
  "key-region-changed": KEY_REGION_CHANGED,
  "key-deleted": {},
  "exemption-tampered": {},
  "responder-tampered": RESPONDER_TAMPERED,
} as const satisfies Readonly<Record<string, v.ObjectEntries>>;

export type IncidentName = keyof typeof INCIDENT_OPTIONS;

/** The names, in the registry's order. */
export const INCIDENT_NAMES = Object.keys(INCIDENT_OPTIONS) as readonly IncidentName[];
