/**
 * The drill's key-material-imported scenario: new key material imported into a key by a caller
 * not approved for key material. Drill code only: no Lambda entry imports this file.
 */
import { checkKeyState, detailOf, fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { isObject, str } from "../shared/json.js";
import { keyMaterialImported } from "./incident.js";

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
        note: "moto does not implement ImportKeyMaterial: the event is emitted only. A weakened rotation period (EnableKeyRotation with RotationPeriodInDays) is not drilled: moto ignores the period, so the key's state could not show it",
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
];
