/**
 * key-rotation-disabled, key-disabled and key-material-deleted against the emulator: rotation is
 * re-enabled (read back with GetKeyRotationStatus), an unapproved DisableKey is reported (and
 * undone only when configured), deleted key material is a critical notification.
 */
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
} from "@aws-sdk/client-kms";
import { beforeEach, describe, expect, it } from "vitest";
import type { DrillKey } from "../../cli/drill/scenarios.js";
import {
  coldStart,
  createKey,
  eventFor,
  freshWorld,
  invoke,
  onlyNotification,
  SKIP,
  type World,
} from "./harness.js";

async function keyState(world: World, key: DrillKey): Promise<string | undefined> {
  return (await world.kms.send(new DescribeKeyCommand({ KeyId: key.arn }))).KeyMetadata?.KeyState;
}

describe.skipIf(SKIP)("key state bundles against moto", () => {
  let world: World;
  let key: DrillKey;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "ledger");
  });

  it("key-rotation-disabled re-enables automatic rotation", async () => {
    // Prepare
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
    const handler = await coldStart("key-rotation-disabled", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("key-rotation-disabled/disable-rotation", { keyArn: key.arn }),
    );

    // Assess
    const status = await world.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
    expect(status.KeyRotationEnabled).toBe(true);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "enable-key-rotation", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[MEDIUM\] KMS key rotation disabled, rotation re-enabled: key /);
    expect(note.attributes.incident).toBe("key-rotation-disabled");
  });

  it("key-disabled re-enables a key an unapproved principal disabled, when configured to", async () => {
    // Prepare
    await world.kms.send(new DisableKeyCommand({ KeyId: key.id }));
    const handler = await coldStart("key-disabled", world, { reenableDisabledKeys: true });

    // Act
    const result = await invoke(handler, eventFor("key-disabled/iam-user", { keyArn: key.arn }));

    // Assess
    expect(await keyState(world, key)).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "enable-key", status: "succeeded" }],
    });
    expect((await onlyNotification(world)).attributes).toEqual({
      severity: "medium",
      incident: "key-disabled",
      outcome: "remediated",
    });
  });

  it("key-disabled by default only reports: the key stays Disabled", async () => {
    // Prepare
    await world.kms.send(new DisableKeyCommand({ KeyId: key.id }));
    const handler = await coldStart("key-disabled", world);

    // Act
    const result = await invoke(handler, eventFor("key-disabled/iam-user", { keyArn: key.arn }));

    // Assess
    expect(result.outcome).toBe("notified");
    expect(await keyState(world, key)).toBe("Disabled");
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[MEDIUM\] KMS key disabled, for review: key /);
    // moto has no GetKeyLastUsage: the last use is unknown, and the notification still goes out.
    expect(JSON.stringify(note.document.details)).toContain("Last used: unknown (");
  });

  it("key-material-deleted is a critical notification and changes nothing", async () => {
    // Prepare: a key for imported material. moto does not implement DeleteImportedKeyMaterial (it
    // answers HTTP 500), so only the event AWS would write is delivered.
    const created = await world.kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }));
    const arn = created.KeyMetadata?.Arn ?? "";
    const handler = await coldStart("key-material-deleted", world);

    // Act
    const result = await invoke(handler, eventFor("key-material-deleted/delete-imported", { keyArn: arn }));

    // Assess
    expect(result).toMatchObject({ outcome: "notified", severity: "critical", actions: [] });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[CRITICAL\] Imported KMS key material deleted, for review: key /);
    expect(note.document.key).toMatchObject({ arn });
  });
});
