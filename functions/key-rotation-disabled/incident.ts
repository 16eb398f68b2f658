/** key-rotation-disabled: DisableKeyRotation -> re-enable rotation. */
import { enableKeyRotation } from "../shared/actions/enable-key-rotation.js";
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { keyRotationDisabledState } from "./state.js";

export const keyRotationDisabled = {
  name: INCIDENT,
  securityHubType: "Software and Configuration Checks/AWS Security Best Practices/KMS Key Rotation Disabled",
  summary: "DisableKeyRotation: re-enable automatic rotation",
  eventNames: ["DisableKeyRotation"],
  matches: () => true,
  pattern: (own) => successfulCall(["DisableKeyRotation"], own),
  decide,
  state: keyRotationDisabledState,
  executors: [enableKeyRotation],
  plans: () => ["enable-key-rotation"],
  // `earlier`: the EnableKeyRotation that set the period, when the status no longer reports it.
  reads: () => ["key", "tags", "rotation", "earlier"],
  remembers: ["EnableKeyRotation"],
} as const satisfies Incident<typeof INCIDENT>;
