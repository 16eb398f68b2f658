/**
 * key-deletion-scheduled and pending-deletion-key-used against the emulator: an unapproved
 * deletion is cancelled and the key is Enabled again (read back with DescribeKey); an approved
 * one is only reported.
 *
 * moto has no CloudTrail LookupEvents: the prior-state lookup
 * fails, so with `afterCancel: "restore"` the key is re-enabled and the notification says the
 * history could not be read. That is the designed fallback, and the path these tests pin down.
 */
import { DescribeKeyCommand, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import { beforeEach, describe, expect, it } from "vitest";
import { cloudTrailDeletionDate } from "../../cli/drill/events.js";
import type { DrillKey } from "../../cli/drill/scenarios.js";
import {
  coldStart,
  createKey,
  eventFor,
  freshWorld,
  invoke,
  notifications,
  onlyNotification,
  SKIP,
  type World,
} from "./harness.js";

async function keyState(world: World, key: DrillKey): Promise<string | undefined> {
  return (await world.kms.send(new DescribeKeyCommand({ KeyId: key.arn }))).KeyMetadata?.KeyState;
}

/** ScheduleKeyDeletion as the attacker calls it; moto needs the key id, not its ARN. */
async function scheduleDeletion(world: World, key: DrillKey, days = 7): Promise<Date> {
  const out = await world.kms.send(
    new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: days }),
  );
  return out.DeletionDate ?? new Date();
}

describe.skipIf(SKIP)("key-deletion-scheduled bundle against moto", () => {
  let world: World;
  let key: DrillKey;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "orders");
  });

  function deletionEvent(fixture: string, date: Date) {
    return eventFor(fixture, { keyArn: key.arn, response: { deletionDate: cloudTrailDeletionDate(date) } });
  }

  it("cancels an unapproved deletion and re-enables the key (history unreadable on moto), CRITICAL notification", async () => {
    // Prepare
    const date = await scheduleDeletion(world, key);
    const handler = await coldStart("key-deletion-scheduled", world);

    // Act
    const result = await invoke(handler, deletionEvent("key-deletion-scheduled/unapproved", date));

    // Assess
    expect(await keyState(world, key)).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [
        { type: "cancel-key-deletion", status: "succeeded", verified: true },
        { type: "enable-key", status: "succeeded", verified: true },
      ],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[CRITICAL\] Unapproved KMS key deletion, deletion cancelled: key /);
    expect(note.attributes).toEqual({
      severity: "critical",
      incident: "key-deletion-scheduled",
      outcome: "remediated",
    });
    expect(JSON.stringify(note.document.details)).toContain("CloudTrail history could not be read");
  });

  it("with afterCancel keep-disabled the cancelled key stays Disabled", async () => {
    // Prepare
    const date = await scheduleDeletion(world, key);
    const handler = await coldStart("key-deletion-scheduled", world, { afterCancel: "keep-disabled" });

    // Act
    await invoke(handler, deletionEvent("key-deletion-scheduled/unapproved", date));

    // Assess
    expect(await keyState(world, key)).toBe("Disabled");
  });

  it("only reports a deletion by an approved principal with MFA: the key stays PendingDeletion", async () => {
    // Prepare
    const date = await scheduleDeletion(world, key, 30);
    const handler = await coldStart("key-deletion-scheduled", world, {
      approvedDeletionPrincipals: [`arn:aws:iam::${world.account}:role/KeyAdmin`],
      requireMfa: true,
    });

    // Act
    const result = await invoke(handler, deletionEvent("key-deletion-scheduled/approved", date));

    // Assess
    expect(await keyState(world, key)).toBe("PendingDeletion");
    expect(result).toMatchObject({ outcome: "notified", severity: "medium", actions: [] });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[MEDIUM\] Approved KMS key deletion/);
    expect(JSON.stringify(note.document.details)).toMatch(/Deletion date: .*\(\d+ days left\)/);
  });

  it("a duplicate delivery leaves the key Enabled", async () => {
    // Prepare
    const event = deletionEvent("key-deletion-scheduled/unapproved", await scheduleDeletion(world, key));
    const handler = await coldStart("key-deletion-scheduled", world);
    await invoke(handler, event);
    await notifications(world);

    // Act
    await invoke(handler, structuredClone(event));

    // Assess: the end state. (The second outcome is not asserted here: moto's CancelKeyDeletion on
    // a key that is not pending deletion succeeds and disables it, where AWS answers
    // KMSInvalidStateException "is not pending deletion" and the handler reports already-done; that
    // path is pinned down with aws-sdk-client-mock in test/handlers/key-deletion-scheduled.test.ts.)
    expect(await keyState(world, key)).toBe("Enabled");
    expect(await notifications(world)).toHaveLength(1);
  });
});

describe.skipIf(SKIP)("pending-deletion-key-used bundle against moto", () => {
  let world: World;
  let key: DrillKey;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "card-tokens");
  });

  it("cancels the deletion of a key that is still in use and names key, caller and operation", async () => {
    // Prepare: the key is pending deletion; a Decrypt on it failed (moto does not fail it, so the
    // event is the one AWS writes for the failed call).
    await scheduleDeletion(world, key);
    const handler = await coldStart("pending-deletion-key-used", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("pending-deletion-key-used/decrypt-pending-deletion", { keyArn: key.arn }),
    );

    // Assess
    expect(await keyState(world, key)).toBe("Enabled");
    expect(result).toMatchObject({ outcome: "remediated", severity: "high" });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[HIGH\] /);
    expect(note.attributes.incident).toBe("pending-deletion-key-used");
    expect(note.document).toMatchObject({
      key: { arn: key.arn },
      event: { name: "Decrypt", errorCode: "KMSInvalidStateException" },
      actor: {
        arn: `arn:aws:sts::${world.account}:assumed-role/orders-service-lambda/orders-service-processor`,
      },
    });
  });

  it("ignores a call that failed because the key is disabled (not pending deletion)", async () => {
    // Prepare
    const handler = await coldStart("pending-deletion-key-used", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("pending-deletion-key-used/disabled-key-error", { keyArn: key.arn }),
    );

    // Assess
    expect(result.outcome).toBe("ignored");
    expect(await keyState(world, key)).toBe("Enabled");
    expect(await notifications(world)).toEqual([]);
  });
});

describe.skipIf(SKIP)("key-deletion-scheduled bundle against moto: a late replay (issue 11)", () => {
  it("a ScheduleKeyDeletion replayed after the key was brought back changes nothing", async () => {
    // Prepare: the key is Enabled (cancelled and re-enabled long ago); the old event arrives again.
    const world = await freshWorld();
    const key = await createKey(world, "ledger");
    const replay = eventFor("key-deletion-scheduled/unapproved", {
      keyArn: key.arn,
      response: { deletionDate: cloudTrailDeletionDate(new Date(Date.now() + 7 * 86_400_000)) },
    });
    const handler = await coldStart("key-deletion-scheduled", world);

    // Act
    const result = await invoke(handler, replay);

    // Assess
    expect(await keyState(world, key)).toBe("Enabled");
    expect(result).toMatchObject({ outcome: "notified", actions: [] });
    const note = await onlyNotification(world);
    expect(note.document).toMatchObject({
      outcome: "notified",
      verdicts: ["not-pending-deletion"],
      actions: [],
    });
  });
});
