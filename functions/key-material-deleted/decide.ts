/**
 * key-material-deleted: DeleteImportedKeyMaterial, or DeleteExpiredKeyMaterial (KMS deleting expired
 * imported material, an AWS service event). Nothing can undo it (only re-importing the
 * very same key material brings the key back), so it is always a critical notification.
 */
import type { Config } from "../shared/config.js";
import { type Decision, type KeyFacts, precheck } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-material-deleted";

export function decide(event: KmsEvent, config: Config, _facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const expired = event.eventName === "DeleteExpiredKeyMaterial";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "critical",
    reasons: [expired ? "key-material-expired" : "key-material-deleted"],
    title: expired ? "Imported KMS key material expired" : "Imported KMS key material deleted",
    summary: expired
      ? "KMS deleted the key's imported key material because it expired: the key is unusable until the same material is imported again"
      : "The key's imported key material was deleted: the key is unusable until the same material is imported again",
    details: [
      "No automatic action can undo this: only a re-import of the very same key material restores the key.",
    ],
    actions: [],
    event,
    key: event.key,
  };
}
