/**
 * key-material-deleted: DeleteImportedKeyMaterial. Nothing can undo it (only re-importing the
 * very same key material brings the key back), so it is always a critical notification.
 */
import type { Config } from "../shared/config.js";
import { type Decision, type KeyFacts, precheck } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-material-deleted";

export function decide(event: KmsEvent, config: Config, _facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "critical",
    reasons: ["key-material-deleted"],
    title: "Imported KMS key material deleted",
    summary:
      "The key's imported key material was deleted: the key is unusable until the same material is imported again",
    details: ["No automatic action can undo this: only a re-import of the very same key material restores the key."],
    actions: [],
    event,
    key: event.key,
  };
}
