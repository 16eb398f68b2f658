/**
 * Every incident, one line each: `export { declaration } from "./<folder>/incident.js";`. This is
 * the registry's only list; `registry.ts` derives everything else from it (names, options, detail
 * parsers, the drill's scenarios by folder), so adding an incident is its folder and one line here.
 * The registry orders incidents by these exported names, alphabetically, wherever a line stands.
 */

export { aliasChanged } from "./alias-changed/incident.js";
export { customKeyStoreChanged } from "./custom-key-store-changed/incident.js";
export { exemptionTampered } from "./exemption-tampered/incident.js";
export { keyDeleted } from "./key-deleted/incident.js";
export { keyDeletionScheduled } from "./key-deletion-scheduled/incident.js";
export { keyDisabled } from "./key-disabled/incident.js";
export { keyMaterialDeleted } from "./key-material-deleted/incident.js";
export { keyMaterialExpiring } from "./key-material-expiring/incident.js";
export { keyMaterialImported } from "./key-material-imported/incident.js";
export { keyPolicyViolation } from "./key-policy-violation/incident.js";
export { keyRegionChanged } from "./key-region-changed/incident.js";
export { keyRotationDisabled } from "./key-rotation-disabled/incident.js";
export { keyRotationWeakened } from "./key-rotation-weakened/incident.js";
export { pendingDeletionKeyUsed } from "./pending-deletion-key-used/incident.js";
export { responderTampered } from "./responder-tampered/incident.js";
export { rogueGrant } from "./rogue-grant/incident.js";
