/**
 * exemption-tampered against the emulator: the exempt tag an unapproved role set is removed (read
 * back with ListResourceTags), the protected tag an unapproved role removed is put back.
 */
import { ListResourceTagsCommand, UntagResourceCommand } from "@aws-sdk/client-kms";
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

async function tagsOf(world: World, key: DrillKey): Promise<Record<string, string>> {
  const out = await world.kms.send(new ListResourceTagsCommand({ KeyId: key.arn }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.TagKey ?? "", t.TagValue ?? ""]));
}

describe.skipIf(SKIP)("exemption-tampered bundle against moto", () => {
  let world: World;
  beforeEach(async () => {
    world = await freshWorld();
  });

  it("removes the exempt tag an unapproved role set", async () => {
    // Prepare: the key as the attacker left it.
    const key = await createKey(world, "ledger", [
      { TagKey: "kms-responder:exempt", TagValue: "true" },
      { TagKey: "team", TagValue: "payments" },
    ]);
    const handler = await coldStart("exemption-tampered", world, {
      approvedExemptionPrincipals: ["arn:aws:iam::111122223333:role/SecurityAdmin"],
    });

    // Act
    const result = await invoke(handler, eventFor("exemption-tampered/tag-exempt", { keyArn: key.arn }));

    // Assess
    expect(await tagsOf(world, key)).toEqual({ team: "payments" });
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "critical",
      actions: [{ type: "untag-exempt", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(note.attributes).toMatchObject({ incident: "exemption-tampered", severity: "critical" });
  });

  it("puts the protected tag back after an unapproved role removed it", async () => {
    // Prepare
    const key = await createKey(world, "vault", [{ TagKey: "kms-responder:protected", TagValue: "true" }]);
    await world.kms.send(new UntagResourceCommand({ KeyId: key.arn, TagKeys: ["kms-responder:protected"] }));
    const handler = await coldStart("exemption-tampered", world);

    // Act
    const result = await invoke(handler, eventFor("exemption-tampered/untag-protected", { keyArn: key.arn }));

    // Assess
    expect(await tagsOf(world, key)).toEqual({ "kms-responder:protected": "true" });
    expect(result.actions).toMatchObject([{ type: "retag-protected", status: "succeeded", verified: true }]);
  });
});
