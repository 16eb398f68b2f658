/** key-disabled: DisableKey -> notify (re-enable only if configured). */
import { enableKey } from "../shared/actions/enable-key.js";
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const keyDisabled = {
  name: INCIDENT,
  securityHubType: "Effects/Denial of Service/KMS Key Disabled",
  summary:
    "DisableKey: notify; re-enable the key when reenableDisabledKeys is set and the caller is not approved",
  eventNames: ["DisableKey"],
  matches: () => true,
  pattern: (own) => successfulCall(["DisableKey"], own),
  decide,
  executors: [enableKey],
  plans: (config) => (config.reenableDisabledKeys ? ["enable-key"] : []),
  // The key's last use tells what stopped working (GetKeyLastUsage; "unknown" where it cannot be read).
  reads: (config) => [...(config.reenableDisabledKeys ? (["key", "tags"] as const) : []), "last-usage"],
  /** Shares the 5/s EnableKey/DisableKey quota with key-policy-violation. */
  reservedConcurrency: 2,
} as const satisfies Incident<typeof INCIDENT>;
