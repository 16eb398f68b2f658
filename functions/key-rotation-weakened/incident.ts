/** key-rotation-weakened: EnableKeyRotation with a period above the maximum -> put the previous period back. */
import { enableKeyRotation } from "../shared/actions/enable-key-rotation.js";
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { OPTIONS } from "./options.js";

export const keyRotationWeakened = {
  name: INCIDENT,
  options: OPTIONS,
  securityHubType: "Software and Configuration Checks/AWS Security Best Practices/KMS Key Rotation Weakened",
  summary:
    "EnableKeyRotation with a period above the maximum (365 days by default) by an unapproved caller: put the previous period back",
  eventNames: ["EnableKeyRotation"],
  matches: () => true,
  // Every EnableKeyRotation: the maximum is configuration (a call without a period sets 365 days,
  // above a maximum of 180), so the handler judges the period, not the pattern.
  pattern: (own) => successfulCall(["EnableKeyRotation"], own),
  decide,
  executors: [enableKeyRotation],
  plans: () => ["enable-key-rotation"],
  reads: () => ["key", "tags", "rotation", "earlier"],
  remembers: ["EnableKeyRotation"],
} as const satisfies Incident<typeof INCIDENT>;
