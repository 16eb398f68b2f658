/**
 * Undoing a deletion, shared by key-deletion-scheduled and pending-deletion-key-used: cancel it,
 * then restore the key per `afterCancel` (CancelKeyDeletion leaves a key Disabled, whatever its state before).
 * Planned from what was read: the key's state now and its DisableKey/EnableKey history.
 */
import type { KeyRef } from "../shared/arn.js";
import type { Config } from "../shared/config.js";
import { isPendingDeletion, type KeyFacts, type PlannedAction } from "../shared/decision.js";
import type { FactName } from "../shared/facts.js";
import type { ActionType } from "../shared/types.js";

export interface RestorePlan {
  actions: PlannedAction[];
  details: string[];
  /** How the current state compared with the event's claim. */
  verdicts: string[];
}

/**
 * The actions that undo a deletion. Offline (no facts) it plans what the config says; with facts:
 * - the key is not pending deletion now: nothing to cancel (a late duplicate, or someone cancelled
 *   it); the restore is still owed when the key sits Disabled and was enabled before, unless
 *   someone disabled it after the event (a person's decision made since is respected);
 * - `restore` re-enables only a key that was enabled before the deletion was scheduled.
 */
export function restorePlan(key: KeyRef, config: Config, facts: KeyFacts): RestorePlan {
  const details: string[] = [];
  const verdicts: string[] = [];
  const actions: PlannedAction[] = [];
  const keyRef = key.arn;
  const known = facts.keyState !== undefined;
  if (!known || isPendingDeletion(facts.keyState)) {
    actions.push({ type: "cancel-key-deletion", keyRef });
  } else {
    verdicts.push("not-pending-deletion");
    details.push(`The key is ${facts.keyState} now, not pending deletion: nothing to cancel.`);
  }
  const enable = (): void => void actions.push({ type: "enable-key", keyRef });
  if (known && facts.keyState === "Enabled") return { actions, details, verdicts };
  if (facts.disabledSince) {
    details.push(`Left Disabled: ${facts.disabledSince}.`);
    return { actions, details, verdicts };
  }
  if (config.afterCancel === "enable") enable();
  if (config.afterCancel === "keep-disabled")
    details.push("afterCancel is keep-disabled: the key stays Disabled.");
  if (config.afterCancel === "restore") {
    const prior = facts.prior;
    if (prior?.state === "disabled") details.push(`Left Disabled: ${prior.detail}.`);
    else {
      enable();
      if (prior) details.push(`Re-enabled: ${prior.detail}.`);
    }
  }
  return { actions, details, verdicts };
}

/** The action types `restorePlan` can produce under a config (for the role). */
export function restoreActions(config: Config): ActionType[] {
  return config.afterCancel === "keep-disabled"
    ? ["cancel-key-deletion"]
    : ["cancel-key-deletion", "enable-key"];
}

/** The reads `restorePlan` judges by: history only when `restore` needs it. */
export function restoreReads(config: Config): FactName[] {
  return config.afterCancel === "restore" ? ["key", "tags", "history"] : ["key", "tags"];
}
