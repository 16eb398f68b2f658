/** key-material-imported: new material by an unapproved caller, and the on-demand rotation that makes it current. */
import type { Incident } from "../shared/incident.js";
import { kmsApiCall, SUCCEEDED } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const keyMaterialImported = {
  name: INCIDENT,
  securityHubType: "TTPs/Persistence/KMS Key Material Imported",
  summary:
    "ImportKeyMaterial of new material by an unapproved caller (high); RotateKeyOnDemand that makes it current (critical): notify",
  eventNames: ["ImportKeyMaterial", "RotateKeyOnDemand"],
  matches: (event) =>
    event.eventName === "RotateKeyOnDemand" ||
    (event.detail.kind === "import" && event.detail.importType !== "EXISTING_KEY_MATERIAL"),
  // An import without importType may be the key's first (new material): the handler tells.
  pattern: (own) =>
    kmsApiCall({
      $or: [
        { eventName: ["ImportKeyMaterial"], requestParameters: { importType: ["NEW_KEY_MATERIAL"] } },
        { eventName: ["ImportKeyMaterial"], requestParameters: { importType: [{ exists: false }] } },
        { eventName: ["RotateKeyOnDemand"] },
      ],
      ...SUCCEEDED,
      ...own,
    }),
  decide,
  executors: [],
  plans: () => [],
  // `key`: the key's origin (only imported material counts); `key-material`: the materials' states.
  reads: () => ["key", "key-material", "earlier"],
  remembers: ["ImportKeyMaterial"],
} as const satisfies Incident<typeof INCIDENT>;
