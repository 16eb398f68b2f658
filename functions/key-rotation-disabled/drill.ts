/**
 * The drill's rotation scenarios: automatic rotation switched off (key-rotation-disabled), and the
 * rotation period: switched off at 90 days and re-enabled at 90, not the API's default 365
 * (key-rotation-disabled); lengthened above the maximum and put back (key-rotation-weakened,
 * declared here beside the restore it shares). Drill code only: no Lambda entry imports this file.
 *
 * moto accepts RotationPeriodInDays but neither stores nor returns it, and has no CloudTrail
 * LookupEvents: the period scenarios run through the drill's moto shim, which remembers the period
 * of each EnableKeyRotation, reports it in GetKeyRotationStatus while rotation is on, and answers
 * LookupEvents from the records a scenario adds to the key's history.
 */
import {
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
} from "@aws-sdk/client-kms";
import {
  type Check,
  checkRotation,
  type DrillKey,
  type DrillWorld,
  fixtureOf,
  type Scenario,
  template,
} from "../../cli/drill/scenarios.js";
import { keyRotationWeakened } from "../key-rotation-weakened/incident.js";
import { keyRotationDisabled } from "./incident.js";

/** What the shim fakes, for the period scenarios' notes. */
const SHIMMED =
  "moto drops RotationPeriodInDays and has no LookupEvents: the drill's shim in front of moto remembers each EnableKeyRotation's period, reports it in GetKeyRotationStatus while rotation is on, and answers LookupEvents with the key admin's earlier EnableKeyRotation (90 days), added to the key's history as CloudTrail records it";

async function checkPeriod(world: DrillWorld, key: DrillKey, days: number): Promise<Check> {
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
async function setTo90Days(world: DrillWorld, key: DrillKey): Promise<void> {
  await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: 90 }));
  const { event } = template(fixtureOf(keyRotationWeakened, "approved"), {
    keyArn: key.arn,
    time: new Date(Date.now() - 86_400_000),
    request: { rotationPeriodInDays: 90 },
  });
  world.addToHistory(event);
}

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
  periodLengthened,
];
