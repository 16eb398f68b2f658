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
   * Reserved concurrency for the handlers that call DisableKey, EnableKey or CancelKeyDeletion.
   * Those share a 5 requests/s quota per account and Region (kms-facts.md "Key states"), and the
   * two deletion handlers also call CloudTrail LookupEvents (2 requests/s). Two concurrent
   * invocations each, 8 at most in total, each making one or two of those calls, keeps a burst
   * (say a script scheduling 50 deletions) near the quota; the SDK's retries absorb the rest, and
   * Lambda keeps throttled asynchronous events queued and retries them (up to the max event age),
   * so a burst is slowed down, never dropped. The others call APIs with high quotas: unreserved.
   */
  reservedConcurrency?: number;
}

const KEY_READS = ["kms:DescribeKey", "kms:ListResourceTags"] as const;

export const INCIDENT_FUNCTIONS: readonly IncidentFunction[] = [
  {
    incident: "rogue-grant",
    kmsActions: ["kms:RevokeGrant", "kms:ListGrants", ...KEY_READS],
    readsCloudTrail: false,
  },
  {
    incident: "key-deletion-scheduled",
    kmsActions: ["kms:CancelKeyDeletion", "kms:EnableKey", ...KEY_READS],
    readsCloudTrail: true,
    reservedConcurrency: 2,
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
    reservedConcurrency: 2,
  },
];
