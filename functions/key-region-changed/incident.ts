/** key-region-changed: UpdatePrimaryRegion / ReplicateKey into a Region outside allowedRegions -> notify. */
import type { Incident } from "../shared/incident.js";
import { str } from "../shared/json.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { OPTIONS } from "./options.js";

export const keyRegionChanged = {
  name: INCIDENT,
  options: OPTIONS,
  securityHubType: "Software and Configuration Checks/AWS Security Best Practices/KMS Key Region Not Allowed",
  summary:
    "UpdatePrimaryRegion or ReplicateKey into a Region outside allowedRegions (when set): high, notify",
  eventNames: ["UpdatePrimaryRegion", "ReplicateKey"],
  matches: () => true,
  pattern: (own) => successfulCall(["UpdatePrimaryRegion", "ReplicateKey"], own),
  decide,
  executors: [],
  plans: () => [],
  reads: () => [],
  // ReplicateKey keeps the shared parse (its replica, with the policy); UpdatePrimaryRegion is its own.
  details: [
    {
      eventNames: ["UpdatePrimaryRegion"],
      parse: ({ request }) => ({ kind: "primary-region", primaryRegion: str(request.primaryRegion) }),
    },
  ],
} as const satisfies Incident<typeof INCIDENT>;
