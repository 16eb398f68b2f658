/**
 * The drill's rotation-period helpers, shared by the scenarios of key-rotation-disabled (the
 * period restored) and key-rotation-weakened (the period put back).
 *
 * moto accepts RotationPeriodInDays but neither stores nor returns it, and has no CloudTrail
 * LookupEvents: the period scenarios run through the drill's moto shim, which remembers the period
 * of each EnableKeyRotation, reports it in GetKeyRotationStatus while rotation is on, and answers
 * LookupEvents from the records a scenario adds to the key's history.
 */
import { EnableKeyRotationCommand, GetKeyRotationStatusCommand } from "@aws-sdk/client-kms";
import { keyRotationWeakened } from "../../functions/key-rotation-weakened/incident.js";
import { type Check, type DrillKey, type DrillWorld, fixtureOf, template } from "./scenarios.js";

/** What the shim fakes, for the period scenarios' notes. */
export const SHIMMED =
  "moto drops RotationPeriodInDays and has no LookupEvents: the drill's shim in front of moto remembers each EnableKeyRotation's period, reports it in GetKeyRotationStatus while rotation is on, and answers LookupEvents with the key admin's earlier EnableKeyRotation (90 days), added to the key's history as CloudTrail records it";

export async function checkPeriod(world: DrillWorld, key: DrillKey, days: number): Promise<Check> {
  const out = await world.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
  const period =
    out.KeyRotationEnabled === true ? `${out.RotationPeriodInDays ?? "no"} days` : "rotation off";
  return {
    what: `automatic rotation is on every ${days} days`,
    ok: out.KeyRotationEnabled === true && out.RotationPeriodInDays === days,
    observed: `GetKeyRotationStatus: ${period}`,
  };
}

/** The key admin sets rotation to every 90 days (performed), a day before the attack, in the key's history. */
export async function setTo90Days(world: DrillWorld, key: DrillKey): Promise<void> {
  await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: 90 }));
  const { event } = template(fixtureOf(keyRotationWeakened, "approved"), {
    keyArn: key.arn,
    time: new Date(Date.now() - 86_400_000),
    request: { rotationPeriodInDays: 90 },
  });
  world.addToHistory(event);
}
