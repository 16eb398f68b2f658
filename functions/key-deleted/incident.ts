/** key-deleted: the DeleteKey service event -> critical unless the deletion was approved (info). */
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const keyDeleted = {
  name: INCIDENT,
  securityHubType: "Effects/Data Destruction/KMS Key Deleted",
  // Nothing about a deleted key can be fixed any more: its open Security Hub findings are closed.
  closesKeyFindings: true,
  summary:
    "DeleteKey (KMS ending a pending deletion): critical when the deletion was not approved, info otherwise",
  eventNames: ["DeleteKey"],
  // Only KMS's own event: nobody can call DeleteKey.
  matches: (event) => event.eventType === "AwsServiceEvent",
  pattern: (own) => ({
    ...successfulCall(["DeleteKey"], own),
    "detail-type": ["AWS Service Event via CloudTrail"],
  }),
  decide,
  executors: [],
  plans: () => [],
  // The key is gone: only its history (the ScheduleKeyDeletion) tells whether it was approved.
  reads: () => ["earlier"],
  remembers: ["ScheduleKeyDeletion"],
} as const satisfies Incident<typeof INCIDENT>;
