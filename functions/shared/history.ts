/**
 * The CloudTrail history reader of the incidents that restore a key after a cancelled deletion.
 * The CloudTrail client (about 78 KiB) is loaded on the first read, not at cold start: most
 * invocations never get that far (an approved deletion, an ignored event).
 */
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import type { HistoryReader } from "./history-reader.js";

/** A reader over the key's CloudTrail history (see history-cloudtrail.ts); `client` for tests. */
export function cloudTrailHistory(client?: CloudTrailClient): HistoryReader {
  let reader: Promise<HistoryReader> | undefined;
  return {
    async read(keyArn, before, credentials) {
      reader ??= import("./history-cloudtrail.js").then((m) => m.cloudTrailReader(client));
      return (await reader).read(keyArn, before, credentials);
    },
  };
}
