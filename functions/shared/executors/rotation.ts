/** `enable-key-rotation`: EnableKeyRotation is idempotent as is; the status is read back. */
import { EnableKeyRotationCommand, GetKeyRotationStatusCommand } from "@aws-sdk/client-kms";
import { base, type Executor, failed } from "./executor.js";

export const enableKeyRotation: Executor = {
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
};
