/**
 * key-rotation-disabled's drill scenarios: automatic rotation switched off, and switched off on a
 * key at 90 days and re-enabled at 90, not the API's default 365 (through the moto shim:
 * ../../cli/drill/rotation-period.ts). Drill code only: no Lambda entry imports this file.
 */
import { DisableKeyRotationCommand, EnableKeyRotationCommand } from "@aws-sdk/client-kms";
import { checkPeriod, SHIMMED, setTo90Days } from "../../cli/drill/rotation-period.js";
import { checkRotation, fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { keyRotationDisabled } from "./incident.js";

const periodRestored: Scenario = {
  id: "rotation-period-restored",
  title: "Automatic rotation of a key at 90 days switched off",
  promise: "rotation re-enabled at 90 days, not the default 365",
  async stage(world) {
    const key = await world.createKey("rotation-period");
    await setTo90Days(world, key);
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
    const fixture = fixtureOf(keyRotationDisabled, "disable-rotation");
    return {
      attack: `mallory (IAM user) DisableKeyRotation on ${key.alias}, whose rotation the key admin had set to every 90 days`,
      performed: true,
      note: SHIMMED,
      fixture,
      event: template(fixture, { keyArn: key.arn }).event,
      expect: {
        rule: keyRotationDisabled.name,
        outcome: "remediated",
        actions: [{ type: "enable-key-rotation", status: "succeeded" }],
        severity: "MEDIUM",
        notificationIncludes: ["Rotation period before it was switched off: 90 days"],
      },
      verify: async () => [await checkPeriod(world, key, 90)],
    };
  },
};

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
  periodRestored,
];
