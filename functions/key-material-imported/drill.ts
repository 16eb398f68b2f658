/**
 * The drill's key-material-imported scenarios: new key material imported into a key by a caller
 * not approved for key material, and that import followed by the on-demand rotation that makes
 * the material current. Drill code only: no Lambda entry imports this file.
 */
import { ListKeyRotationsCommand, RotateKeyOnDemandCommand } from "@aws-sdk/client-kms";
import {
  type Check,
  checkKeyState,
  type DrillKey,
  type DrillWorld,
  detailOf,
  fixtureOf,
  type Scenario,
  type StepResult,
  template,
} from "../../cli/drill/scenarios.js";
import { isObject, str } from "../shared/json.js";
import { keyMaterialImported } from "./incident.js";

/** That the rotation was performed: the key lists it among its rotations. */
async function onDemandRotations(world: DrillWorld, key: DrillKey): Promise<Check> {
  const out = await world.kms.send(new ListKeyRotationsCommand({ KeyId: key.arn }));
  const count = (out.Rotations ?? []).filter((r) => r.RotationType === "ON_DEMAND").length;
  return {
    what: "the key was rotated on demand once",
    ok: count === 1,
    observed: `ListKeyRotations: ${count} on demand`,
  };
}

/** What the import's own event (the attack's first step) must have led to. */
function importChecks(step: StepResult): Check[] {
  const rules = step.rules.join(", ") || "none";
  const subjects = step.subjects.join(" | ") || "none";
  return [
    {
      what: `the import's event reached ${keyMaterialImported.name}, which notified it (high)`,
      ok:
        rules === keyMaterialImported.name &&
        step.outcome === "notified" &&
        step.subjects.length === 1 &&
        subjects.startsWith("[HIGH]"),
      observed: `rules: ${rules}; outcome ${step.outcome}; notified: ${subjects}`,
    },
  ];
}

const rotatedOntoForeignMaterial: Scenario = {
  id: "material-rotated-onto-foreign-material",
  title:
    "New key material imported by a caller not approved for it, then made current by an on-demand rotation",
  promise:
    "the import notified (high); the rotation, tied to that import through the key's history, notified critical",
  async stage(world) {
    const key = await world.createKey("material-rotated", { Origin: "EXTERNAL" });
    // Step 1: the import, emitted only (moto has no ImportKeyMaterial), a minute before the rotation.
    const imported = template(fixtureOf(keyMaterialImported, "new-material"), {
      keyArn: key.arn,
      time: new Date(Date.now() - 60_000),
    }).event;
    const step = await world.deliver(imported);
    // CloudTrail keeps the import in the key's history, where the handler looks for it.
    world.addToHistory(imported);
    const checks = importChecks(step);
    // Step 2: the rotation, performed on moto and delivered as CloudTrail records it.
    await world.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.arn }));
    const fixture = fixtureOf(keyMaterialImported, "rotate-on-demand");
    const { event } = template(fixture, { keyArn: key.arn });
    return {
      attack: `mallory (IAM user) ImportKeyMaterial (NEW_KEY_MATERIAL) into ${key.alias} (Origin EXTERNAL), then RotateKeyOnDemand`,
      performed: true,
      note: "moto has no ImportKeyMaterial: the import's event is emitted only (its outcome is checked in the end state). moto performs RotateKeyOnDemand without any pending material to make current. moto has no CloudTrail LookupEvents either: the drill's shim in front of moto answers it with the import's record, added to the key's history as CloudTrail would keep it, which is how the handler ties the rotation to the import",
      fixture,
      event,
      expect: {
        rule: keyMaterialImported.name,
        outcome: "notified",
        actions: [],
        severity: "CRITICAL",
        subjectIncludes: ["KMS key rotated onto"],
        // Who imported the material that is current now, read from the import's record.
        notificationIncludes: ["imported by arn:aws:iam::", ":user/mallory"],
      },
      verify: async () => [
        ...checks,
        await onDemandRotations(world, key),
        await checkKeyState(world.kms, key, "Enabled"),
      ],
    };
  },
};

export const scenarios: readonly Scenario[] = [
  {
    id: "new-key-material",
    title: "New key material imported by a caller not approved for key material",
    promise: "notified: high, naming the material (nothing to undo automatically)",
    async stage(world) {
      const key = await world.createKey("new-key-material", { Origin: "EXTERNAL" });
      const fixture = fixtureOf(keyMaterialImported, "new-material");
      const { event } = template(fixture, { keyArn: key.arn });
      const response = detailOf(event).responseElements;
      const materialId = isObject(response) ? str(response.keyMaterialId) : undefined;
      if (!materialId) throw new Error(`events/${fixture}.json records no keyMaterialId`);
      return {
        attack: `mallory (IAM user) ImportKeyMaterial (NEW_KEY_MATERIAL) into ${key.alias} (Origin EXTERNAL)`,
        performed: false,
        note: "moto does not implement ImportKeyMaterial: the event is emitted only",
        fixture,
        event,
        expect: {
          rule: keyMaterialImported.name,
          outcome: "notified",
          actions: [],
          severity: "HIGH",
          // The material by its id, and how to delete it while it is not current yet.
          notificationIncludes: [`Key material: ${materialId}`, "aws kms delete-imported-key-material"],
        },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
  rotatedOntoForeignMaterial,
];
