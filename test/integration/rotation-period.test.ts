/**
 * The rotation period on moto: re-enabling rotation of a key whose period was 90 days leaves it at
 * 90 days (key-rotation-disabled), and a period lengthened above the maximum is put back
 * (key-rotation-weakened).
 *
 * moto 5 lacks both things this needs, so these tests run through the moto shim
 * (emulator/moto-shim.ts), which fakes them test side: it remembers the RotationPeriodInDays of
 * each EnableKeyRotation and adds it to GetKeyRotationStatus answers (moto accepts the field and
 * drops it), and it answers CloudTrail LookupEvents from the records a test adds (moto has no
 * LookupEvents), which is where the handlers find the period a key had once rotation is off.
 * Everything else is moto's.
 */
import {
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DrillKey } from "../../cli/drill/scenarios.js";
import { type MotoShim, motoShim } from "../../emulator/moto-shim.js";
import type { JsonObject } from "../../functions/shared/json.js";
import {
  coldStart,
  createKey,
  ENDPOINT,
  eventFor,
  freshWorld,
  invoke,
  onlyNotification,
  REGION,
  SKIP,
  type World,
} from "./harness.js";

/** The key admin's earlier EnableKeyRotation at 90 days, as CloudTrail recorded it a day ago. */
function setTo90DaysEarlier(key: DrillKey): JsonObject {
  return eventFor("key-rotation-weakened/approved", {
    keyArn: key.arn,
    time: new Date(Date.now() - 86_400_000),
    request: { rotationPeriodInDays: 90 },
  });
}

async function periodOf(kms: KMSClient, key: DrillKey): Promise<number | undefined> {
  const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
  return status.KeyRotationEnabled === true ? status.RotationPeriodInDays : undefined;
}

describe.skipIf(SKIP)("the rotation period against moto and the shim", () => {
  let shim: MotoShim;
  let world: World;
  let key: DrillKey;
  beforeAll(async () => {
    shim = await motoShim(ENDPOINT);
  });
  afterAll(() => shim?.stop());
  beforeEach(async () => {
    shim.reset();
    const moto = await freshWorld();
    // The same world, reached through the shim.
    const kms = new KMSClient({
      endpoint: shim.endpoint,
      region: REGION,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    world = { ...moto, kms };
    key = await createKey(world, "ledger");
  });

  it("the shim keeps the period moto drops, and reports it only while rotation is on", async () => {
    // Prepare, Act
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: 90 }));
    const fromMoto = await motoItself().send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
    const at90 = await periodOf(world.kms, key);
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.id }));
    const byDefault = await periodOf(world.kms, key);
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
    const off = await world.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));

    // Assess: moto says nothing of the period; through the shim it is 90, then 365 for a call
    // naming none (as KMS sets), and absent once rotation is off.
    expect(fromMoto).toMatchObject({ KeyRotationEnabled: true });
    expect(fromMoto.RotationPeriodInDays).toBeUndefined();
    expect([at90, byDefault]).toEqual([90, 365]);
    expect(off).toMatchObject({ KeyRotationEnabled: false });
    expect(off.RotationPeriodInDays).toBeUndefined();
  });

  it("key-rotation-disabled re-enables rotation at the 90 days the key had, not the default 365", async () => {
    // Prepare
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: 90 }));
    shim.addToHistory(setTo90DaysEarlier(key));
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
    const sentBefore = shim.enableKeyRotationRequests.length;
    const handler = await coldStart("key-rotation-disabled", world, {}, { AWS_ENDPOINT_URL: shim.endpoint });

    // Act
    const result = await invoke(
      handler,
      eventFor("key-rotation-disabled/disable-rotation", { keyArn: key.arn }),
    );

    // Assess: the one EnableKeyRotation the handler sent carried the period, and the key reads 90.
    expect(shim.enableKeyRotationRequests.slice(sentBefore)).toEqual([
      { keyId: key.arn, rotationPeriodInDays: 90 },
    ]);
    expect(await periodOf(world.kms, key)).toBe(90);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "enable-key-rotation", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[MEDIUM\] KMS key rotation disabled, rotation re-enabled: key /);
    expect(JSON.stringify(note.document.details)).toContain(
      "Rotation period before it was switched off: 90 days (kept when re-enabling).",
    );
  });

  it("key-rotation-weakened puts the previous 90 days back after a caller set 2560", async () => {
    // Prepare: the admin set 90 days a day ago; mallory set 2560 now.
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: 90 }));
    shim.addToHistory(setTo90DaysEarlier(key));
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn, RotationPeriodInDays: 2560 }));
    const lengthened = eventFor("key-rotation-weakened/lengthened", { keyArn: key.arn });
    shim.addToHistory(lengthened);
    const sentBefore = shim.enableKeyRotationRequests.length;
    const handler = await coldStart("key-rotation-weakened", world, {}, { AWS_ENDPOINT_URL: shim.endpoint });

    // Act
    const result = await invoke(handler, lengthened);

    // Assess
    expect(shim.enableKeyRotationRequests.slice(sentBefore)).toEqual([
      { keyId: key.arn, rotationPeriodInDays: 90 },
    ]);
    expect(await periodOf(world.kms, key)).toBe(90);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "enable-key-rotation", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(JSON.stringify(note.document.details)).toContain("Previous rotation period: 90 days (put back).");
    // The undo sets the caller's period again.
    expect(JSON.stringify(note.document)).toContain("--rotation-period-in-days 2560");
  });
});

/** A client of moto itself, past the shim. */
function motoItself(): KMSClient {
  return new KMSClient({
    endpoint: ENDPOINT,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
}
