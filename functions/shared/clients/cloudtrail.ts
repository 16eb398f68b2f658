/**
 * The CloudTrail client at module scope, imported only by the history reader: functions that never
 * read key history do not carry it (about 79 KiB).
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { RETRY } from "./retry.js";

// LookupEvents allows 2 requests/s: the same retry budget as KMS keeps a burst of deletions from
// falling back to "history unreadable" (bench/burst-sizing.sim.ts).
export const cloudTrail = new CloudTrailClient(RETRY);
