/** pending-deletion-key-used: a call failed on a key pending deletion -> cancel and restore it. */
import { restoreActions, restoreReads } from "../key-deletion-scheduled/restore.js";
import { cancelKeyDeletion } from "../shared/actions/cancel-key-deletion.js";
import { enableKey } from "../shared/actions/enable-key.js";
import { cloudTrailHistory } from "../shared/history.js";
import { ALL_MANAGEMENT_EVENTS, type Incident } from "../shared/incident.js";
import { kmsApiCall } from "../shared/rule.js";
import {
  decide,
  INCIDENT,
  isPendingDeletionError,
  KEY_USE_OPERATIONS,
  PENDING_DELETION_ERRORS,
} from "./decide.js";

export const pendingDeletionKeyUsed = {
  name: INCIDENT,
  securityHubType: "Effects/Data Destruction/KMS Key Pending Deletion In Use",
  summary: "A call failed because its key is pending deletion: cancel the deletion and restore the key",
  eventNames: KEY_USE_OPERATIONS,
  matches: isPendingDeletionError,
  // Failed cryptographic calls reach a rule only in this state; the event names and error codes keep
  // the rule (and its volume) narrow. Own calls are left out too: a responder touching a key
  // pending deletion must not cancel its deletion.
  pattern: (own) =>
    kmsApiCall({
      eventName: [...KEY_USE_OPERATIONS],
      errorCode: [...PENDING_DELETION_ERRORS],
      errorMessage: [{ wildcard: "*deletion." }],
      ...own,
    }),
  ruleState: ALL_MANAGEMENT_EVENTS,
  decide,
  executors: [cancelKeyDeletion, enableKey],
  plans: restoreActions,
  // The key's last use tells who still needs it (GetKeyLastUsage; "unknown" where it cannot be read).
  reads: (config) => [...restoreReads(config), "last-usage"],
  history: cloudTrailHistory(),
  /** CloudTrail LookupEvents (2 requests/s) is the bottleneck, as for key-deletion-scheduled. */
  reservedConcurrency: 1,
} as const satisfies Incident<typeof INCIDENT>;
