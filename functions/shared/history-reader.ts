/** The shape of a key-history reader; the CloudTrail one lives in history.ts (with its client). */
import type { PriorState } from "./decision.js";

export interface KeyHistory {
  /** The key's state before `before` (the event's time). */
  prior: PriorState;
  /** A DisableKey after `before` (and no EnableKey since), when there is one. */
  disabledSince?: string;
}

export interface HistoryReader {
  read(keyArn: string, before: string | undefined): Promise<KeyHistory>;
}
