/** `enable-key`'s calls: the state before, EnableKey, the state read back. */
import { EnableKeyCommand } from "../clients/kms-sdk.js";
import type { PlannedAction } from "../decision.js";
import { type ActionContext, type ActionResult, base, failed, keyIdOf } from "./action.js";
import { stateBefore, tryKeyState, withStates } from "./key-state.run.js";

export async function run(action: PlannedAction, ctx: ActionContext): Promise<ActionResult> {
  const { kms } = ctx;
  const before = await stateBefore(action, ctx);
  if (before === "Enabled") {
    return {
      ...base(action),
      status: "already-done",
      detail: "the key is already Enabled",
      keyStateBefore: before,
      keyStateAfter: before,
      verified: true,
    };
  }
  try {
    await kms.send(new EnableKeyCommand({ KeyId: keyIdOf(action.keyRef) }));
  } catch (error) {
    return failed(action, error, "EnableKey");
  }
  const after = await tryKeyState(kms, action.keyRef);
  return withStates(
    { ...base(action), status: "succeeded", detail: "key enabled" },
    before,
    after,
    "Enabled",
  );
}
