/**
 * key-rotation-weakened's drill scenario: the rotation period of a key at 90 days lengthened above
 * the maximum, and put back (through the moto shim: ../../cli/drill/rotation-period.ts). Drill code
 * only: no Lambda entry imports this file.
 */
import { EnableKeyRotationCommand } from "@aws-sdk/client-kms";
import { checkPeriod, SHIMMED, setTo90Days } from "../../cli/drill/rotation-period.js";
import { fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { keyRotationWeakened } from "./incident.js";

const periodLengthened: Scenario = {
  id: "rotation-period-lengthened",
  title: "Rotation period of a key at 90 days lengthened to 2560 days",
  promise: "the previous period (90 days) put back",
  async stage(world) {
    const key = await world.createKey("rotation-lengthened");
    await setTo90Days(world, key);
    const fixture = fixtureOf(keyRotationWeakened, "lengthened");
    const { event, request } = template(fixture, { keyArn: key.arn });
    const days = Number(request.rotationPeriodInDays);
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: days }));
    world.addToHistory(event);
    return {
      attack: `mallory (IAM user) EnableKeyRotation on ${key.alias} with RotationPeriodInDays ${days}`,
      performed: true,
      note: SHIMMED,
      fixture,
      event,
      expect: {
        rule: keyRotationWeakened.name,
        outcome: "remediated",
        actions: [{ type: "enable-key-rotation", status: "succeeded" }],
        severity: "MEDIUM",
        notificationIncludes: ["Previous rotation period: 90 days (put back)."],
      },
      verify: async () => [await checkPeriod(world, key, 90)],
    };
  },
};

export const scenarios: readonly Scenario[] = [periodLengthened];
