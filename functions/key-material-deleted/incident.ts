/** key-material-deleted: DeleteImportedKeyMaterial -> critical notification (nothing can undo it). */
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const keyMaterialDeleted = {
  name: INCIDENT,
  summary: "DeleteImportedKeyMaterial: critical notification (only re-importing the same material undoes it)",
  eventNames: ["DeleteImportedKeyMaterial"],
  matches: () => true,
  pattern: (own) => successfulCall(["DeleteImportedKeyMaterial"], own),
  decide,
  executors: [],
  plans: () => [],
  // Notify only: it may resolve an alias to the key ARN, nothing else.
  reads: () => ["key"],
} as const satisfies Incident<typeof INCIDENT>;
