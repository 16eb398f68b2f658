/** key-material-expiring: ImportKeyMaterial with an expiry -> notify with the date (nothing to undo). */
import type { Incident } from "../shared/incident.js";
import { kmsApiCall, SUCCEEDED } from "../shared/rule.js";
import { decide, expires, INCIDENT } from "./decide.js";
import { keyMaterialExpiringState } from "./state.js";

export const keyMaterialExpiring = {
  name: INCIDENT,
  securityHubType: "Software and Configuration Checks/AWS Security Best Practices/KMS Key Material Expiring",
  summary:
    "ImportKeyMaterial with an expiry: notify with the date the key stops working (high within 30 days)",
  eventNames: ["ImportKeyMaterial"],
  matches: (event) => event.detail.kind === "import" && expires(event.detail),
  pattern: (own) =>
    kmsApiCall({
      eventName: ["ImportKeyMaterial"],
      ...SUCCEEDED,
      // A validTo without an expirationModel expires too: the API's default model.
      requestParameters: {
        $or: [
          { expirationModel: ["KEY_MATERIAL_EXPIRES"] },
          { expirationModel: [{ exists: false }], validTo: [{ exists: true }] },
        ],
      },
      ...own,
    }),
  decide,
  state: keyMaterialExpiringState,
  executors: [],
  plans: () => [],
  reads: () => [],
} as const satisfies Incident<typeof INCIDENT>;
