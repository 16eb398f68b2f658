/** `enable-key-rotation`: EnableKeyRotation is idempotent as is; the status is read back. */
import { EnableKeyRotationCommand, GetKeyRotationStatusCommand } from "@aws-sdk/client-kms";
import { base, DRY_RUN_PLAN, type ExecutingAction, failed, oneStep, type WithRunbook } from "./action.js";

export const enableKeyRotation: ExecutingAction<"enable-key-rotation"> & WithRunbook = {
  type: "enable-key-rotation",
  permissions: ["kms:EnableKeyRotation", "kms:GetKeyRotationStatus"],
  async run(action, { kms }) {
    try {
      await kms.send(new EnableKeyRotationCommand({ KeyId: action.keyRef }));
    } catch (error) {
      return failed(action, error, "EnableKeyRotation");
    }
    try {
      const out = await kms.send(new GetKeyRotationStatusCommand({ KeyId: action.keyRef }));
      const on = out.KeyRotationEnabled === true;
      return {
        ...base(action),
        status: "succeeded",
        detail: on
          ? "automatic rotation re-enabled"
          : "EnableKeyRotation succeeded but rotation still reads as off",
        verified: on,
      };
    } catch {
      // Verification is best effort; the action itself succeeded.
      return { ...base(action), status: "succeeded", detail: "automatic rotation re-enabled (not verified)" };
    }
  },
  done: "rotation re-enabled",
  impact: "KMS rotates the key material automatically again; nothing that uses the key notices",
  wouldDo: () => "would enable automatic rotation",
  undo: {
    command: (result, { region }) => `aws kms disable-key-rotation --key-id ${result.keyRef}${region}`,
    steps: oneStep(3, "only if rotation must stay off (an owner's documented decision)"),
  },
  runbook: {
    document: "EnableKeyRotation",
    description:
      `Turn on automatic rotation of a KMS key's material. ${DRY_RUN_PLAN} ` +
      "Undo: aws kms disable-key-rotation --key-id KEY.",
    mutating: true,
  },
};
