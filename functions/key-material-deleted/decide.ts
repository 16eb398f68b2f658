/**
 * key-material-deleted: DeleteImportedKeyMaterial, or DeleteExpiredKeyMaterial (KMS deleting expired
 * imported material, an AWS service event). Graded by which material went:
 * - material permanently associated with the key (the current one, or an earlier one that older
 *   ciphertexts need): critical, the key (or those ciphertexts) cannot be used until the very same
 *   material is imported again;
 * - material waiting for an on-demand rotation (PENDING_ROTATION): high, the key keeps working.
 * The material is told by the key's materials when read (a deleted one stays listed, PENDING_IMPORT),
 * else offline by the key's earlier imports and rotations; unknown counts as permanent. Nothing
 * automatic can undo it: the notification names the material and the re-import that restores it.
 */
import type { Config } from "../shared/config.js";
import { type Decision, type KeyFacts, type ManualUndo, precheck } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-material-deleted";

type Grade = "pending" | "permanent" | "unknown";

/** The deleted material's grade from the key's materials as read now. */
function gradeFromState(facts: KeyFacts, material: string | undefined): Grade | undefined {
  const listed = material ? facts.keyMaterials?.find((m) => m.id === material) : undefined;
  if (!listed?.state) return undefined;
  return listed.state.startsWith("PENDING_") ? "pending" : "permanent";
}

/**
 * Offline: the material was imported as new into a key that had material before, and no on-demand
 * rotation followed: it was still pending.
 */
function gradeFromHistory(facts: KeyFacts, material: string | undefined): Grade | undefined {
  const earlier = facts.earlier ?? [];
  const at = earlier.findIndex((e) => e.detail.kind === "import" && e.detail.keyMaterialId === material);
  const imported = earlier[at];
  if (!material || !imported || imported.detail.kind !== "import") return undefined;
  const before = earlier.slice(0, at).some((e) => e.eventName === "ImportKeyMaterial");
  const rotated = earlier.slice(at + 1).some((e) => e.eventName === "RotateKeyOnDemand");
  if (imported.detail.importType === "NEW_KEY_MATERIAL" && before && !rotated) return "pending";
  return "permanent";
}

function reimport(event: KmsEvent, material: string | undefined): ManualUndo {
  const ref = event.key?.arn ?? event.keyHint ?? "KEY";
  const r = event.key?.region ? ` --region ${event.key.region}` : "";
  const id = material ? ` --key-material-id ${material}` : "";
  return {
    when: "with the very same key material (a wrapped copy and a fresh import token from get-parameters-for-import)",
    command: `aws kms import-key-material --key-id ${ref} --encrypted-key-material fileb://EncryptedKeyMaterial.bin --import-token fileb://ImportToken.bin --import-type EXISTING_KEY_MATERIAL${id} --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE${r}`,
  };
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const expired = event.eventName === "DeleteExpiredKeyMaterial";
  const material = event.detail.kind === "material-deletion" ? event.detail.keyMaterialId : undefined;
  const grade = gradeFromState(facts, material) ?? gradeFromHistory(facts, material) ?? "unknown";
  const pending = grade === "pending";
  const named = material ?? "the current material (the record names none)";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: pending ? "high" : "critical",
    reasons: [
      expired ? "key-material-expired" : "key-material-deleted",
      ...(pending ? ["pending-rotation-material"] : []),
    ],
    title: expired ? "Imported KMS key material expired" : "Imported KMS key material deleted",
    summary: pending
      ? "Imported key material that was waiting for an on-demand rotation was deleted: the key keeps working, the rotation to it can no longer happen"
      : expired
        ? "KMS deleted the key's imported key material because it expired: the key is unusable until the same material is imported again"
        : "The key's imported key material was deleted: the key (or the ciphertexts under that material) is unusable until the same material is imported again",
    details: [
      `Key material: ${named}`,
      ...(grade === "unknown"
        ? ["Whether the material was current is unknown: taken as permanently associated."]
        : []),
      "No automatic action can undo this: only a re-import of the very same key material restores it.",
    ],
    actions: [],
    event,
    key: event.key,
    undo: [reimport(event, material)],
  };
}
