/** The drill's key-material-expiring scenario. Drill code only: no Lambda entry imports this file. */
import { checkKeyState, fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { keyMaterialExpiring } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  {
    id: keyMaterialExpiring.name,
    title: "Key material imported with an expiry date",
    promise: "notified: high, with the date the key stops working",
    async stage(world) {
      const key = await world.createKey(keyMaterialExpiring.name, { Origin: "EXTERNAL" });
      const fixture = fixtureOf(keyMaterialExpiring, "expires-soon");
      const { event, request } = template(fixture, { keyArn: key.arn });
      // A re-import of the key's own material with a new expiry: the expiry alone is this
      // scenario's incident (new material also reaches key-material-imported's rule).
      request.importType = "EXISTING_KEY_MATERIAL";
      return {
        attack: `alice (IAM user) ImportKeyMaterial (EXISTING_KEY_MATERIAL) with ValidTo on ${key.alias} (Origin EXTERNAL)`,
        // moto cannot import key material: the event is emitted only.
        performed: false,
        note: "moto does not implement ImportKeyMaterial: the event is emitted only",
        fixture,
        event,
        expect: { rule: keyMaterialExpiring.name, outcome: "notified", actions: [], severity: "HIGH" },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
];
