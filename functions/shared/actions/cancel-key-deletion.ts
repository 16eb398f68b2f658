/** `cancel-key-deletion`: cancels a scheduled deletion; "not pending deletion" counts as already done. */
import { DRY_RUN_PLAN, type ExecutingAction, oneStep, type WithRunbook } from "./action.js";
import { run } from "./cancel-key-deletion.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "cancel-key-deletion": true;
  }
}

export const cancelKeyDeletion: ExecutingAction<"cancel-key-deletion"> & WithRunbook = {
  type: "cancel-key-deletion",
  permissions: ["kms:CancelKeyDeletion", "kms:DescribeKey"],
  run,
  done: "deletion cancelled",
  impact:
    "the key is no longer scheduled for deletion; it sits Disabled (calls with it fail) unless it was enabled again",
  wouldDo: (_state, config) => `would cancel the deletion (afterCancel: ${config.afterCancel})`,
  undo: {
    command: (result, { region }) =>
      `aws kms schedule-key-deletion --key-id ${result.keyRef} --pending-window-in-days 30${region}`,
    steps: oneStep(
      9,
      "only if the deletion was intended and an approved owner confirms it (the key is deleted after the 30-day window)",
    ),
  },
  runbook: {
    document: "CancelKeyDeletion",
    description:
      "Cancel a KMS key's scheduled deletion, then restore its prior state (re-enable it unless it " +
      `was disabled before the deletion was scheduled; afterCancel in the config). ${DRY_RUN_PLAN} ` +
      "Undo: aws kms schedule-key-deletion --key-id KEY --pending-window-in-days 30.",
    mutating: true,
  },
};
