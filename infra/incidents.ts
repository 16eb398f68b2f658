/**
 * What the stack deploys per incident: one function (`dist/<incident>/index.mjs`) behind one rule,
 * with only the KMS actions its handler calls. The stack reads this table, not the `functions/`
 * folder, so a function that is not built yet fails the synth instead of silently disappearing.
 */
import type { IncidentName } from "../functions/shared/types.js";

export interface IncidentFunction {
  incident: IncidentName;
  /** KMS actions the handler calls, granted on `arn:<partition>:kms:<region>:<account>:key/*` only. */
  kmsActions: readonly string[];
  /** Reads the key's DisableKey/EnableKey history (cloudtrail:LookupEvents, which has no resource ARN). */
  readsCloudTrail: boolean;
  /**
   * Reserved concurrency, sized by the burst simulation in test/reliability/burst.test.ts (500
   * CreateGrant and 50 ScheduleKeyDeletion events against quota-like throttling, SDK retries on):
   * - rogue-grant 5: two or three environments already saturate RevokeGrant's 30 requests/s; at 5
   *   no call needed more than 5 of its 6 attempts, from 8 up some reached the last attempt and
   *   at 50 grants were left unrevoked.
   * - key-deletion-scheduled and pending-deletion-key-used 1: CloudTrail LookupEvents (2
   *   requests/s) is their bottleneck, not CancelKeyDeletion/EnableKey (5/s); at 1 environment no
   *   history lookup of 50 failed, at 2 some did (and the key was re-enabled by default).
   * - key-disabled and key-policy-violation 2: they share the 5/s EnableKey/DisableKey quota.
   * Throttled asynchronous events are not dropped: Lambda keeps them queued and retries them up
   * to the maximum event age, so a burst is slowed down, never lost.
   */
  reservedConcurrency?: number;
}

const KEY_READS = ["kms:DescribeKey", "kms:ListResourceTags"] as const;

export const INCIDENT_FUNCTIONS: readonly IncidentFunction[] = [
  {
    incident: "rogue-grant",
    kmsActions: ["kms:RevokeGrant", "kms:ListGrants", ...KEY_READS],
    readsCloudTrail: false,
    reservedConcurrency: 5,
  },
  {
    incident: "key-deletion-scheduled",
    kmsActions: ["kms:CancelKeyDeletion", "kms:EnableKey", ...KEY_READS],
    readsCloudTrail: true,
    reservedConcurrency: 1,
  },
  {
    incident: "key-policy-violation",
    kmsActions: ["kms:DisableKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", ...KEY_READS],
    readsCloudTrail: false,
    reservedConcurrency: 2,
  },
  {
    incident: "key-disabled",
    kmsActions: ["kms:EnableKey", ...KEY_READS],
    readsCloudTrail: false,
    reservedConcurrency: 2,
  },
  {
    incident: "key-material-deleted",
    // Notify only: it may resolve an alias to the key ARN, nothing else.
    kmsActions: ["kms:DescribeKey"],
    readsCloudTrail: false,
  },
  {
    incident: "key-rotation-disabled",
    kmsActions: ["kms:EnableKeyRotation", "kms:GetKeyRotationStatus", ...KEY_READS],
    readsCloudTrail: false,
  },
  {
    incident: "pending-deletion-key-used",
    kmsActions: ["kms:CancelKeyDeletion", "kms:EnableKey", ...KEY_READS],
    readsCloudTrail: true,
    reservedConcurrency: 1,
  },
];
