/**
 * The action registry: every action type's module, keyed by its type. Each module adds its type to
 * `ActionType` itself (declaration merging, ../types.ts), and the mapped type makes a missing or
 * extra module a compile error; notifications, the runbook, its SSM documents and the stack read
 * actions from here. Adding an action is its module in this folder and one line here.
 */
import type { ActionType } from "../types.js";
import type { ActionModule } from "./action.js";
import { analyzeKeyPolicy } from "./analyze-key-policy.js";
import { cancelKeyDeletion } from "./cancel-key-deletion.js";
import { disableKey } from "./disable-key.js";
import { enableKey } from "./enable-key.js";
import { enableKeyRotation } from "./enable-key-rotation.js";
import { enableRule } from "./enable-rule.js";
import { removeStatements } from "./remove-statements.js";
import { restoreFunctionConcurrency } from "./restore-function-concurrency.js";
import { revokeGrant } from "./revoke-grant.js";
import { revokeGranteeGrants } from "./revoke-grantee-grants.js";
import { startLogging } from "./start-logging.js";
import { retagProtected, untagExempt } from "./tag-undo.js";

export const ACTIONS = {
  "revoke-grant": revokeGrant,
  "revoke-grantee-grants": revokeGranteeGrants,
  "cancel-key-deletion": cancelKeyDeletion,
  "enable-key": enableKey,
  "disable-key": disableKey,
  "enable-key-rotation": enableKeyRotation,
  "remove-statements": removeStatements,
  "analyze-key-policy": analyzeKeyPolicy,
  "untag-exempt": untagExempt,
  "retag-protected": retagProtected,
  "enable-rule": enableRule,
  "start-logging": startLogging,
  "restore-function-concurrency": restoreFunctionConcurrency,
} as const satisfies { readonly [T in ActionType]: ActionModule<T> };

export type Actions = typeof ACTIONS;

/** Every action type, in the registry's order. */
export const ACTION_TYPES = Object.keys(ACTIONS) as readonly ActionType[];

/** The module of an action type. */
export function actionOf(type: ActionType): ActionModule {
  return ACTIONS[type];
}
