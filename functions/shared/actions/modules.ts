/**
 * Every action module, one line each: `export { declaration } from "./<action>.js";`. This is the
 * action registry's only list (`index.ts` keys it by each module's `type`), so adding an action is
 * its module in this folder and one line here.
 */
export { analyzeKeyPolicy } from "./analyze-key-policy.js";
export { cancelKeyDeletion } from "./cancel-key-deletion.js";
export { disableKey } from "./disable-key.js";
export { enableKey } from "./enable-key.js";
export { enableKeyRotation } from "./enable-key-rotation.js";
export { enableRule } from "./enable-rule.js";
export { removeStatements } from "./remove-statements.js";
export { restoreFunctionConcurrency } from "./restore-function-concurrency.js";
export { revokeGrant } from "./revoke-grant.js";
export { revokeGranteeGrants } from "./revoke-grantee-grants.js";
export { startLogging } from "./start-logging.js";
export { retagProtected, untagExempt } from "./tag-undo.js";
