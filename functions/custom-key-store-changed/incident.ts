/** custom-key-store-changed: Disconnect/Update/DeleteCustomKeyStore -> notify, naming the store. */
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { STORE_EVENTS, storeDetail } from "./detail.js";

export const customKeyStoreChanged = {
  name: INCIDENT,
  securityHubType: "Effects/Resource Consumption/KMS Custom Key Store Changed",
  summary:
    "DisconnectCustomKeyStore or UpdateCustomKeyStore of its connection (critical), DeleteCustomKeyStore (high): notify, naming the store",
  eventNames: STORE_EVENTS,
  matches: () => true,
  pattern: (own) => successfulCall(STORE_EVENTS, own),
  decide,
  executors: [],
  plans: () => [],
  // The events name no key: nothing to read.
  reads: () => [],
  keyless: true,
  details: [storeDetail],
} as const satisfies Incident<typeof INCIDENT>;
