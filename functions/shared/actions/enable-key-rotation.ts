/**
 * `enable-key-rotation`: EnableKeyRotation with the key's rotation period. Called without
 * `RotationPeriodInDays`, KMS sets 365 days whatever the key had (a key at 90 days would silently
 * rotate four times less often), so the period is planned from what was read before (the key's
 * status, or the EnableKeyRotation that set it), and when the plan has none the executor keeps the
 * period GetKeyRotationStatus reports (read by the handler before deciding, or by the executor when
 * nothing was read: the runbook, the sweep). Idempotent as is; read back.
 */
import { DRY_RUN_PLAN, type ExecutingAction, shellArg, type WithRunbook } from "./action.js";
import { run } from "./enable-key-rotation.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "enable-key-rotation": true;
  }
}

export const enableKeyRotation: ExecutingAction<"enable-key-rotation"> & WithRunbook = {
  type: "enable-key-rotation",
  permissions: ["kms:EnableKeyRotation", "kms:GetKeyRotationStatus"],
  run,
  done: "rotation re-enabled",
  impact: "KMS rotates the key material automatically again; nothing that uses the key notices",
  wouldDo: () => "would enable automatic rotation",
  undo: {
    command: (result, { region }) =>
      result.replacedRotationPeriodInDays === undefined
        ? `aws kms disable-key-rotation --key-id ${shellArg(result.keyRef)}${region}`
        : `aws kms enable-key-rotation --key-id ${shellArg(result.keyRef)} --rotation-period-in-days ${result.replacedRotationPeriodInDays}${region}`,
    steps: (result, _where, command) =>
      command
        ? [
            {
              order: 3,
              when:
                result.replacedRotationPeriodInDays === undefined
                  ? "only if rotation must stay off (an owner's documented decision)"
                  : "only if the longer rotation period was an owner's documented decision",
              command,
            },
          ]
        : [],
  },
  runbook: {
    document: "EnableKeyRotation",
    description:
      `Turn on automatic rotation of a KMS key's material, keeping its rotation period. ${DRY_RUN_PLAN} ` +
      "Undo: aws kms disable-key-rotation --key-id KEY.",
    mutating: true,
  },
};
