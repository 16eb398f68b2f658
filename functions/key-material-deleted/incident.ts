/** key-material-deleted: DeleteImportedKeyMaterial -> critical notification (nothing can undo it). */
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const keyMaterialDeleted = {
  name: INCIDENT,
  securityHubType: "Effects/Data Destruction/KMS Key Material Deleted",
  summary:
    "DeleteImportedKeyMaterial, or KMS deleting expired material: critical (material pending rotation: high), names the material and the re-import that undoes it",
  eventNames: ["DeleteImportedKeyMaterial", "DeleteExpiredKeyMaterial"],
  matches: () => true,
  // DeleteExpiredKeyMaterial is KMS's own doing: it arrives as an "AWS Service Event via CloudTrail".
  pattern: (own) => ({
    ...successfulCall(["DeleteImportedKeyMaterial", "DeleteExpiredKeyMaterial"], own),
    "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"],
  }),
  decide,
  executors: [],
  plans: () => [],
  // Notify only: the key, its materials (which one went: current or pending rotation), the
  // imports and rotations before (the same offline), and when it was last used.
  reads: () => ["key", "key-material", "earlier", "last-usage"],
  remembers: ["ImportKeyMaterial", "RotateKeyOnDemand"],
} as const satisfies Incident<typeof INCIDENT>;
