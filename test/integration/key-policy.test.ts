/**
 * key-policy-violation against the emulator: a public key policy leaves the key Disabled
 * (`onCritical: "disable-key"`, the default) or repaired (`remove-statements`: GetKeyPolicy no
 * longer has the public statement); a cross-account statement is reported and left alone.
 */
import { DescribeKeyCommand, GetKeyPolicyCommand, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { beforeEach, describe, expect, it } from "vitest";
import type { DrillKey } from "../../cli/drill/scenarios.js";
import { isObject, type JsonObject } from "../../functions/shared/json.js";
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

async function policyOf(world: World, key: DrillKey): Promise<{ Statement: Array<{ Sid?: string }> }> {
  const out = await world.kms.send(new GetKeyPolicyCommand({ KeyId: key.arn, PolicyName: "default" }));
  return JSON.parse(out.Policy ?? "{}") as { Statement: Array<{ Sid?: string }> };
}

/** The attacker's PutKeyPolicy, with exactly the policy the event records. */
async function putRecordedPolicy(world: World, key: DrillKey, event: JsonObject): Promise<void> {
  const detail = isObject(event.detail) ? event.detail : {};
  const request = isObject(detail.requestParameters) ? detail.requestParameters : {};
  const policy = typeof request.policy === "string" ? request.policy : "";
  await world.kms.send(new PutKeyPolicyCommand({ KeyId: key.arn, PolicyName: "default", Policy: policy }));
}

describe.skipIf(SKIP)("key-policy-violation bundle against moto", () => {
  let world: World;
  let key: DrillKey;
  let publicPolicy: JsonObject;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "exports");
    publicPolicy = eventFor("key-policy-violation/public-policy", { keyArn: key.arn });
  });

  it("disables a key whose policy lets everyone decrypt (onCritical disable-key)", async () => {
    // Prepare
    await putRecordedPolicy(world, key, publicPolicy);
    const handler = await coldStart("key-policy-violation", world);

    // Act
    const result = await invoke(handler, publicPolicy);

    // Assess
    expect(await keyState(world, key)).toBe("Disabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "critical",
      actions: [{ type: "disable-key", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[CRITICAL\] Dangerous KMS key policy, key disabled: key /);
    expect(note.document.reasons).toContain("public-principal");
    expect(JSON.stringify(note.document.extra)).toContain("Allow decrypt");
  });

  it("repairs the policy with onCritical remove-statements: the public statement is gone, the key stays Enabled", async () => {
    // Prepare
    await putRecordedPolicy(world, key, publicPolicy);
    const handler = await coldStart("key-policy-violation", world, { onCritical: "remove-statements" });

    // Act
    const result = await invoke(handler, publicPolicy);

    // Assess
    const after = await policyOf(world, key);
    expect(after.Statement.map((s) => s.Sid)).toEqual(["Enable IAM User Permissions"]);
    expect(await keyState(world, key)).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "remove-statements", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toContain("statements removed");
    expect(JSON.stringify(note.document.actions)).toContain("Allow decrypt");
  });

  it("a duplicate delivery changes nothing more: the key is already Disabled", async () => {
    // Prepare
    await putRecordedPolicy(world, key, publicPolicy);
    const handler = await coldStart("key-policy-violation", world);
    await invoke(handler, publicPolicy);
    await notifications(world);

    // Act
    const second = await invoke(handler, structuredClone(publicPolicy));

    // Assess
    expect(second).toMatchObject({
      outcome: "already-remediated",
      actions: [{ type: "disable-key", status: "already-done" }],
    });
    expect(await keyState(world, key)).toBe("Disabled");
    expect((await onlyNotification(world)).attributes.outcome).toBe("already-remediated");
  });

  it("reports a statement pinned to an untrusted organization (high) and changes nothing", async () => {
    // Prepare: (a statement giving an untrusted account kms:Decrypt is critical now, as a grant to it would be)
    const event = eventFor("key-policy-violation/org-pinned-public", { keyArn: key.arn });
    await putRecordedPolicy(world, key, event);
    const handler = await coldStart("key-policy-violation", world);

    // Act
    const result = await invoke(handler, event);

    // Assess
    expect(result).toMatchObject({ outcome: "notified", severity: "high", reasons: ["external-account"] });
    expect(await keyState(world, key)).toBe("Enabled");
    expect(JSON.stringify(await policyOf(world, key))).toContain("aws:PrincipalOrgID");
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[HIGH\] KMS key policy finding, for review: key /);
    expect(note.attributes).toEqual({
      severity: "high",
      incident: "key-policy-violation",
      outcome: "notified",
    });
  });
});

describe.skipIf(SKIP)("key-policy-violation bundle against moto: a forged event (issue 11)", () => {
  it("a forged PutKeyPolicy with a public policy for a key whose real policy is the default: the key stays Enabled", async () => {
    // Prepare: nobody changed the policy; the event is sent straight to the function.
    const world = await freshWorld();
    const key = await createKey(world, "payroll");
    const before = await policyOf(world, key);
    const forged = eventFor("key-policy-violation/public-policy", { keyArn: key.arn });
    const handler = await coldStart("key-policy-violation", world);

    // Act
    const result = await invoke(handler, forged);

    // Assess: no DisableKey was sent (no action at all), the key and its policy are as they were.
    expect(await keyState(world, key)).toBe("Enabled");
    expect(await policyOf(world, key)).toEqual(before);
    expect(result).toMatchObject({ outcome: "notified", actions: [] });
    const note = await onlyNotification(world);
    expect(note.attributes.outcome).toBe("notified");
    expect(note.document).toMatchObject({ outcome: "notified", verdicts: ["policy-differs"], actions: [] });
  });
});
