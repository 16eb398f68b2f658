/** `enable-key`: enables a key; an Enabled key is already done. */
import { DRY_RUN_PLAN, type ExecutingAction, oneStep, type WithRunbook } from "./action.js";
import { run } from "./enable-key.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "enable-key": true;
  }
}

export const enableKey: ExecutingAction<"enable-key"> & WithRunbook = {
  type: "enable-key",
  permissions: ["kms:EnableKey", "kms:DescribeKey"],
  run,
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
