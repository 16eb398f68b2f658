/** The drill's key-rotation-disabled scenario. Drill code only: no Lambda entry imports this file. */
import { DisableKeyRotationCommand, EnableKeyRotationCommand } from "@aws-sdk/client-kms";
import { checkRotation, fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { keyRotationDisabled } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  {
    id: "rotation-disabled",
    title: "Automatic key rotation switched off",
    promise: "rotation re-enabled",
    async stage(world) {
      const key = await world.createKey("rotation-disabled");
      await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
      await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
      const fixture = fixtureOf(keyRotationDisabled, "disable-rotation");
      return {
        attack: `mallory (IAM user) DisableKeyRotation on ${key.alias}`,
        performed: true,
        fixture,
        event: template(fixture, { keyArn: key.arn }).event,
        expect: {
          rule: keyRotationDisabled.name,
          outcome: "remediated",
          actions: [{ type: "enable-key-rotation", status: "succeeded" }],
          severity: "MEDIUM",
        },
        verify: async () => [await checkRotation(world.kms, key)],
      };
    },
  },
];
