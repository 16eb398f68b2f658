/**
 * The action registry: every action type's module, keyed by its type. Each module adds its type to
 * `ActionType` itself (declaration merging, ../types.ts), and the mapped type makes a missing or
 * extra module a compile error; notifications, the runbook, its SSM documents and the stack read
 * actions from here. Adding an action is its module in this folder and one line in `modules.ts`.
 */
import type { ActionType } from "../types.js";
import type { ActionModule } from "./action.js";
import * as modules from "./modules.js";

type Module = (typeof modules)[keyof typeof modules];

/** Every action's module under its type; a declared action type missing from `modules.ts` does not compile. */
export const ACTIONS = /* @__PURE__ */ Object.fromEntries(
  Object.values(modules).map((module) => [module.type, module]),
) as { readonly [M in Module as M["type"]]: M };

const complete: { readonly [T in ActionType]: ActionModule<T> } = ACTIONS;
void complete;

export type Actions = typeof ACTIONS;

/** Every action type, in the order of its module's name. */
export const ACTION_TYPES = Object.keys(ACTIONS) as readonly ActionType[];

/** The module of an action type. */
export function actionOf(type: ActionType): ActionModule {
  return ACTIONS[type];
}
