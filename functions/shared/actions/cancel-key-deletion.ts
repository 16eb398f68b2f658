/** `cancel-key-deletion`: cancels a scheduled deletion; "not pending deletion" counts as already done. */
import { CancelKeyDeletionCommand } from "@aws-sdk/client-kms";
import { isPendingDeletion } from "../decision.js";
import { awsErrorName, describeError } from "../errors.js";
import {
  type ActionResult,
  type ActionStatus,
  base,
  DRY_RUN_PLAN,
  type ExecutingAction,
  failed,
  keyIdOf,
  oneStep,
  type WithRunbook,
} from "./action.js";
import { tryKeyState } from "./key-state.js";

export const cancelKeyDeletion: ExecutingAction<"cancel-key-deletion"> & WithRunbook = {
  type: "cancel-key-deletion",
  permissions: ["kms:CancelKeyDeletion", "kms:DescribeKey"],
  async run(action, { kms }) {
    let status: ActionStatus = "succeeded";
    let detail = "deletion cancelled; the key is now Disabled";
    try {
      await kms.send(new CancelKeyDeletionCommand({ KeyId: keyIdOf(action.keyRef) }));
    } catch (error) {
      // "is not pending deletion": someone (or an earlier delivery) already cancelled it.
      if (
        awsErrorName(error) !== "KMSInvalidStateException" ||
        !/not pending deletion/i.test(describeError(error))
      ) {
        return failed(action, error, "CancelKeyDeletion");
      }
      status = "already-done";
      detail = "the key was not pending deletion (already cancelled)";
    }
    const after = await tryKeyState(kms, action.keyRef);
    const result: ActionResult = { ...base(action), status, detail };
    if (after === undefined) return result;
    return { ...result, keyStateAfter: after, verified: !isPendingDeletion(after) };
  },
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
