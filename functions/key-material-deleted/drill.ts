/** The drill's key-material-deleted scenario. Drill code only: no Lambda entry imports this file. */
import { DeleteImportedKeyMaterialCommand } from "@aws-sdk/client-kms";
import { checkKeyState, fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { describeError } from "../shared/errors.js";
import { keyMaterialDeleted } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  {
    id: keyMaterialDeleted.name,
    title: "Imported key material deleted",
    promise: "notified: critical, nothing can undo it",
    async stage(world) {
      const key = await world.createKey(keyMaterialDeleted.name, { Origin: "EXTERNAL" });
      let performed = true;
      let note: string | undefined;
      try {
        await world.kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.id }));
      } catch (error) {
        performed = false;
        note = `moto cannot perform DeleteImportedKeyMaterial (${describeError(error)}): the event is emitted only`;
      }
      const fixture = fixtureOf(keyMaterialDeleted, "delete-imported");
      return {
        attack: `alice (IAM user) DeleteImportedKeyMaterial on ${key.alias} (Origin EXTERNAL)`,
        performed,
        ...(note ? { note } : {}),
        fixture,
        event: template(fixture, { keyArn: key.arn }).event,
        expect: { rule: keyMaterialDeleted.name, outcome: "notified", actions: [], severity: "CRITICAL" },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
];
