/** key-material-deleted: DeleteImportedKeyMaterial -> critical notification (nothing can undo it). */
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const keyMaterialDeleted = {
  name: INCIDENT,
  securityHubType: "Effects/Data Destruction/KMS Key Material Deleted",
  summary:
    "DeleteImportedKeyMaterial, or KMS deleting expired material: critical notification (only re-importing the same material undoes it)",
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
  // Notify only: it may resolve an alias to the key ARN, nothing else.
  reads: () => ["key"],
} as const satisfies Incident<typeof INCIDENT>;
