/** `disable-key`'s calls: the state before, DisableKey, the state read back. */
import { DisableKeyCommand } from "../clients/kms-sdk.js";
import { isPendingDeletion, type PlannedAction } from "../decision.js";
import { type ActionContext, type ActionResult, base, failed, keyIdOf } from "./action.js";
import { stateBefore, tryKeyState, withStates } from "./key-state.run.js";

export async function run(action: PlannedAction, ctx: ActionContext): Promise<ActionResult> {
  const { kms } = ctx;
  const before = await stateBefore(action, ctx);
  if (before === "Disabled") {
    return {
      ...base(action),
      status: "already-done",
      detail: "the key is already Disabled",
      keyStateBefore: before,
      keyStateAfter: before,
      verified: true,
    };
  }
  if (isPendingDeletion(before)) {
    // DisableKey answers KMSInvalidStateException here; a key pending deletion is unusable already.
    return {
      ...base(action),
      status: "already-done",
      detail: `the key is ${before}: it cannot be used`,
      keyStateBefore: before ?? "",
      keyStateAfter: before ?? "",
      verified: true,
    };
  }
  try {
    await kms.send(new DisableKeyCommand({ KeyId: keyIdOf(action.keyRef) }));
  } catch (error) {
    return failed(action, error, "DisableKey");
  }
  const after = await tryKeyState(kms, action.keyRef);
  return withStates(
    { ...base(action), status: "succeeded", detail: "key disabled" },
    before,
    after,
    "Disabled",
  );
}
