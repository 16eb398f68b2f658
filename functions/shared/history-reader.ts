/** The shape of a key-history reader; the CloudTrail one lives in history.ts (with its client). */
import type { PriorState } from "./decision.js";

export interface KeyHistory {
  /** The key's state before `before` (the event's time). */
  prior: PriorState;
  /** A DisableKey after `before` (and no EnableKey since), when there is one. */
  disabledSince?: string;
}

/** Temporary credentials of the member role, for a key in another account. */
export interface MemberCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface HistoryReader {
  /**
   * Reads the key's history in the key's own account and Region (CloudTrail history is kept per
   * account and Region): with `credentials` for a key in another account.
   */
  read(keyArn: string, before: string | undefined, credentials?: MemberCredentials): Promise<KeyHistory>;
}
