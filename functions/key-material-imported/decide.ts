/**
 * key-material-imported: new key material by a caller outside `approvedKeyMaterialPrincipals`.
 *
 * - ImportKeyMaterial with `importType` NEW_KEY_MATERIAL (high): the material waits
 *   (PENDING_ROTATION) until an on-demand rotation makes it current. A record without `importType`
 *   is NEW when it is the key's first import (KMS's default): judged by the key's materials when
 *   read, else by whether an earlier import of the key was seen.
 * - RotateKeyOnDemand of a key whose newest new material came from such an import (critical):
 *   new ciphertexts are now under material the caller holds a copy of. The import is found in the
 *   key's earlier calls (CloudTrail deployed, the run's earlier records in triage); with the key's
 *   materials read, the verdict says whether that material is current now.
 *
 * Notify only: deleting material that is current makes the key unusable, so that decision is a person's.
 */
import type { Config } from "../shared/config.js";
import { type Decision, ignore, type KeyFacts, precheck, principalMatches } from "../shared/decision.js";
import type { ImportDetail, KmsEvent } from "../shared/event.js";

export const INCIDENT = "key-material-imported";

const region = (event: KmsEvent) => (event.key?.region ? ` --region ${event.key.region}` : "");

/** Whether an import added new material: by its type, or (type omitted) by being the key's first import. */
function isNew(event: KmsEvent, d: ImportDetail, facts: KeyFacts): "new" | "existing" | "first" {
  if (d.importType === "NEW_KEY_MATERIAL") return "new";
  if (d.importType !== undefined) return "existing";
  if (facts.keyMaterials) return facts.keyMaterials.length <= 1 ? "first" : "existing";
  const seen = (facts.earlier ?? []).some(
    (e) => e.eventName === "ImportKeyMaterial" && e.eventId !== event.eventId,
  );
  return seen ? "existing" : "first";
}

function decideImport(event: KmsEvent, d: ImportDetail, facts: KeyFacts): Decision {
  const kind = isNew(event, d, facts);
  if (kind === "existing") {
    return ignore("no-incident", "the import re-imported existing key material", INCIDENT);
  }
  const material = d.keyMaterialId ?? "(not in the record)";
  const ref = event.key?.arn ?? event.keyHint ?? "KEY";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "high",
    reasons: ["unapproved-key-material"],
    title: "New KMS key material imported",
    summary:
      "A principal that is not approved imported new key material: a RotateKeyOnDemand makes it current, and the caller holds a copy of it",
    details: [
      `Key material: ${material}${d.keyMaterialDescription ? ` (${d.keyMaterialDescription})` : ""}`,
      ...(kind === "first"
        ? ["The record has no importType: the key's first import, which KMS takes as NEW_KEY_MATERIAL."]
        : []),
      `If the material is not wanted and not current yet: aws kms delete-imported-key-material --key-id ${ref} --key-material-id ${material}${region(event)}`,
    ],
    actions: [],
    event,
    key: event.key,
  };
}

/** The newest import of new material before the rotation, if any. */
function newestNewImport(facts: KeyFacts): KmsEvent | undefined {
  return (facts.earlier ?? []).findLast(
    (e) =>
      e.eventName === "ImportKeyMaterial" &&
      e.detail.kind === "import" &&
      e.detail.importType !== "EXISTING_KEY_MATERIAL",
  );
}

/**
 * The key's earlier calls were not read (the handler's first look, or a preview): an on-demand
 * rotation that may have made unapproved material current, to be judged from the history.
 */
function unread(event: KmsEvent, facts: KeyFacts): Decision {
  const error = facts.readErrors?.earlier;
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: error ? "high" : "medium",
    reasons: ["on-demand-rotation"],
    title: "KMS key rotated on demand",
    summary:
      "An on-demand rotation of the key: whether its new material came from an unapproved import is judged from the key's history",
    details: error
      ? [`The key's history could not be read (${error}): who imported the new material is unknown.`]
      : [],
    actions: [],
    event,
    key: event.key,
  };
}

function decideRotation(event: KmsEvent, config: Config, facts: KeyFacts): Decision {
  if (facts.keyOrigin !== undefined && facts.keyOrigin !== "EXTERNAL") {
    return ignore("no-incident", `the key's material is not imported (${facts.keyOrigin})`, INCIDENT);
  }
  if (facts.earlier === undefined) return unread(event, facts);
  const imported = newestNewImport(facts);
  if (!imported) {
    return ignore(
      "no-incident",
      "no import of new key material seen before this on-demand rotation",
      INCIDENT,
    );
  }
  if (principalMatches(config.approvedKeyMaterialPrincipals, imported)) {
    return ignore("no-incident", "the new material was imported by an approved principal", INCIDENT);
  }
  const material = imported.detail.kind === "import" ? imported.detail.keyMaterialId : undefined;
  const current = facts.keyMaterials?.find((m) => m.state === "CURRENT")?.id ?? facts.currentKeyMaterialId;
  const verdicts =
    material && current ? [current === material ? "material-current" : "material-not-current"] : [];
  const who = imported.actor.roleArn ?? imported.actor.arn ?? "an unknown principal";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "critical",
    reasons: ["unapproved-key-material-current"],
    title: "KMS key rotated onto unapproved material",
    summary:
      "An on-demand rotation made new key material current that a principal outside the approved list imported: new ciphertexts are under material that caller holds",
    details: [
      `Material: ${material ?? "(not in the import record)"}, imported by ${who} at ${imported.eventTime ?? "an unknown time"} (event ${imported.eventId ?? "?"}).`,
      ...(current ? [`Current material now: ${current}.`] : []),
      "Data encrypted since the rotation can be decrypted by whoever holds that material, outside AWS. Re-encrypt it under a key you control before deleting the material (deleting the current material makes the key unusable).",
    ],
    actions: [],
    event,
    key: event.key,
    ...(verdicts.length && { verdicts }),
  };
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  if (event.eventName === "RotateKeyOnDemand") return decideRotation(event, config, facts);
  const d = event.detail;
  if (d.kind !== "import") {
    return ignore("no-incident", `${event.eventName ?? "this event"} is not an import`, INCIDENT);
  }
  if (principalMatches(config.approvedKeyMaterialPrincipals, event)) {
    return ignore("no-incident", "an approved principal imported the material", INCIDENT);
  }
  return decideImport(event, d, facts);
}
