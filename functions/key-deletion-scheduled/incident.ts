/** key-deletion-scheduled: ScheduleKeyDeletion -> cancel unapproved deletions and restore the key. */
import { cancelKeyDeletion } from "../shared/actions/cancel-key-deletion.js";
import { enableKey } from "../shared/actions/enable-key.js";
import { cloudTrailHistory } from "../shared/history.js";
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { restoreActions, restoreReads } from "./restore.js";
import { keyDeletionScheduledState } from "./state.js";

export const keyDeletionScheduled = {
  name: INCIDENT,
  securityHubType: "Effects/Data Destruction/KMS Key Deletion Scheduled",
  summary: "ScheduleKeyDeletion by an unapproved principal: cancel it and restore the key; approved: notify",
  eventNames: ["ScheduleKeyDeletion"],
  matches: () => true,
  pattern: (own) => successfulCall(["ScheduleKeyDeletion"], own),
  decide,
  state: keyDeletionScheduledState,
  executors: [cancelKeyDeletion, enableKey],
  plans: restoreActions,
  // The key's last use tells who still needs it (GetKeyLastUsage; "unknown" where it cannot be read).
  reads: (config) => [...restoreReads(config), "last-usage"],
  history: cloudTrailHistory(),
  /**
   * CloudTrail LookupEvents (2 requests/s) is the bottleneck, not CancelKeyDeletion/EnableKey
   * (5/s): at 1 environment no history lookup of 50 failed in the burst simulation, at 2 some did.
   */
  reservedConcurrency: 1,
} as const satisfies Incident<typeof INCIDENT>;
