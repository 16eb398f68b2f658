/**
 * The drill's scenarios, in the registry's order, then the sweep's: each incident declares its own in
 * `functions/<incident>/drill.ts`, and this list gathers them. Only the drill (the CLI and its
 * tests) imports this file; no Lambda entry does, so the scenarios never reach a bundle.
 */
import type { Scenario } from "../cli/drill/scenarios.js";
import { scenarios as aliasChanged } from "./alias-changed/drill.js";
import { scenarios as customKeyStoreChanged } from "./custom-key-store-changed/drill.js";
import { scenarios as exemptionTampered } from "./exemption-tampered/drill.js";
import { scenarios as keyDeletionScheduled } from "./key-deletion-scheduled/drill.js";
import { scenarios as keyMaterialDeleted } from "./key-material-deleted/drill.js";
import { scenarios as keyMaterialExpiring } from "./key-material-expiring/drill.js";
import { scenarios as keyMaterialImported } from "./key-material-imported/drill.js";
import { scenarios as keyPolicyViolation } from "./key-policy-violation/drill.js";
import { scenarios as keyRotationDisabled } from "./key-rotation-disabled/drill.js";
import { scenarios as pendingDeletionKeyUsed } from "./pending-deletion-key-used/drill.js";
import { scenarios as responderTampered } from "./responder-tampered/drill.js";
import { scenarios as rogueGrant } from "./rogue-grant/drill.js";
import { scenarios as sweep } from "./scan/drill.js";

export const SCENARIOS: readonly Scenario[] = [
  ...rogueGrant,
  ...keyDeletionScheduled,
  ...keyPolicyViolation,
  ...keyMaterialDeleted,
  ...keyRotationDisabled,
  ...pendingDeletionKeyUsed,
  ...keyMaterialExpiring,
  ...aliasChanged,
  ...keyMaterialImported,
  ...customKeyStoreChanged,
  ...exemptionTampered,
  ...responderTampered,
  // Last: the sweep reads every key the scenarios before it left.
  ...sweep,
];
