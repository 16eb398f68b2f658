/** `cancel-key-deletion`'s calls: CancelKeyDeletion, then the key state read back. */
import { CancelKeyDeletionCommand } from "../clients/kms-sdk.js";
import { isPendingDeletion, type PlannedAction } from "../decision.js";
import { awsErrorName, describeError } from "../errors.js";
import { type ActionContext, type ActionResult, type ActionStatus, base, failed, keyIdOf } from "./action.js";
import { tryKeyState } from "./key-state.run.js";

export async function run(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
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
}
