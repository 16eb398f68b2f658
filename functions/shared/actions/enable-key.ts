/** `enable-key`: enables a key; an Enabled key is already done. */
import { EnableKeyCommand } from "@aws-sdk/client-kms";
import {
  base,
  DRY_RUN_PLAN,
  type ExecutingAction,
  failed,
  keyIdOf,
  oneStep,
  type WithRunbook,
} from "./action.js";
import { stateBefore, tryKeyState, withStates } from "./key-state.js";

export const enableKey: ExecutingAction<"enable-key"> & WithRunbook = {
  type: "enable-key",
  permissions: ["kms:EnableKey", "kms:DescribeKey"],
  async run(action, ctx) {
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
  },
  done: "key enabled",
  impact: "the key works again for everything its policy and grants allow",
  wouldDo: (state) => `would enable the key (now ${state})`,
  undo: {
    command: (result, { region }) => `aws kms disable-key --key-id ${result.keyRef}${region}`,
    steps: oneStep(2, "only if the key was meant to stay disabled"),
  },
  runbook: {
    document: "EnableKey",
    description: `Enable a disabled KMS key. ${DRY_RUN_PLAN} Undo: the DisableKey document.`,
    mutating: true,
  },
};
