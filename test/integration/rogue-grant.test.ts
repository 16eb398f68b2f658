/**
 * rogue-grant against the emulator: the built bundle revokes exactly the rogue grant (read back
 * with ListGrants), leaves AWS-service grants alone, publishes the promised notification, and a
 * duplicate or malformed delivery changes nothing more.
 */
import { CreateGrantCommand, type CreateGrantCommandInput, ListGrantsCommand } from "@aws-sdk/client-kms";
import { beforeEach, describe, expect, it } from "vitest";
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

async function grant(
  world: World,
  key: DrillKey,
  input: Omit<CreateGrantCommandInput, "KeyId">,
): Promise<string> {
  const out = await world.kms.send(new CreateGrantCommand({ KeyId: key.arn, ...input }));
  if (!out.GrantId) throw new Error("no grant id");
  return out.GrantId;
}

async function grantIds(world: World, key: DrillKey): Promise<string[]> {
  const out = await world.kms.send(new ListGrantsCommand({ KeyId: key.arn }));
  return (out.Grants ?? []).map((g) => g.GrantId ?? "");
}

const EXFIL = "arn:aws:iam::444455556666:role/exfil";

describe.skipIf(SKIP)("rogue-grant bundle against moto", () => {
  let world: World;
  let key: DrillKey;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "payments");
  });

  it("revokes a grant to another account: gone from ListGrants, CRITICAL notification with the JSON document", async () => {
    // Prepare: the attacker's grant and a DynamoDB grant that must survive.
    const rogue = await grant(world, key, {
      GranteePrincipal: EXFIL,
      Operations: ["Decrypt", "GenerateDataKey"],
    });
    const service = await grant(world, key, {
      GranteePrincipal: "dynamodb.us-east-1.amazonaws.com",
      Operations: ["Decrypt", "Encrypt"],
    });
    const handler = await coldStart("rogue-grant", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId: rogue }),
    );

    // Assess: the end state, read back.
    expect(await grantIds(world, key)).toEqual([service]);
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "critical",
      actions: [{ type: "revoke-grant", status: "succeeded", verified: true }],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(
      /^\[CRITICAL\] Rogue KMS grant, grant revoked: key [0-9a-f]{8} in \d{12}\/us-east-1$/,
    );
    expect(note.subject?.length).toBeLessThanOrEqual(99);
    expect(note.attributes).toEqual({ severity: "critical", incident: "rogue-grant", outcome: "remediated" });
    expect(note.document).toMatchObject({
      schema: "kms-responder/notification/v1",
      incident: "rogue-grant",
      severity: "critical",
      outcome: "remediated",
      key: { arn: key.arn, account: world.account, region: "us-east-1" },
      actor: { arn: `arn:aws:iam::${world.account}:user/mallory` },
      actions: [{ type: "revoke-grant", grantId: rogue, status: "succeeded" }],
    });
    expect(note.document.reasons).toContain("external-grantee");
    expect(JSON.stringify(note.document.undo)).toContain(`--grantee-principal ${EXFIL}`);
  });

  it("revokes a delegation grant (the grantee could re-delegate) in the key's own account", async () => {
    // Prepare
    const rogue = await grant(world, key, {
      GranteePrincipal: `arn:aws:iam::${world.account}:role/batch-worker`,
      Operations: ["Decrypt", "GenerateDataKey", "CreateGrant", "RetireGrant"],
      Constraints: { EncryptionContextSubset: { app: "nightly-batch", env: "prod" } },
    });
    const handler = await coldStart("rogue-grant", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("rogue-grant/delegation", { keyArn: key.arn, grantId: rogue }),
    );

    // Assess
    expect(await grantIds(world, key)).toEqual([]);
    expect(result).toMatchObject({ outcome: "remediated", severity: "high", reasons: ["grant-delegation"] });
    expect((await onlyNotification(world)).subject).toMatch(/^\[HIGH\] /);
  });

  it("leaves a grant DynamoDB created on a principal's behalf: ignored as trusted, nothing published", async () => {
    // Prepare
    const service = await grant(world, key, {
      GranteePrincipal: "dynamodb.us-east-1.amazonaws.com",
      RetiringPrincipal: "dynamodb.us-east-1.amazonaws.com",
      Operations: [
        "DescribeKey",
        "GenerateDataKey",
        "Decrypt",
        "Encrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "RetireGrant",
      ],
    });
    const handler = await coldStart("rogue-grant", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("rogue-grant/dynamodb-service", { keyArn: key.arn, grantId: service }),
    );

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "trusted-grant" });
    expect(await grantIds(world, key)).toEqual([service]);
    expect(await notifications(world)).toEqual([]);
  });

  it("a duplicate delivery changes nothing more: ListGrants no longer lists the grant (grant-gone)", async () => {
    // Prepare
    const rogue = await grant(world, key, { GranteePrincipal: EXFIL, Operations: ["Decrypt"] });
    const keep = await grant(world, key, { GranteePrincipal: "ec2.amazonaws.com", Operations: ["Decrypt"] });
    const event = eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId: rogue });
    const handler = await coldStart("rogue-grant", world);
    await invoke(handler, event);
    await notifications(world);

    // Act
    const second = await invoke(handler, structuredClone(event));

    // Assess: the grant is verified gone before acting, so nothing is revoked again.
    expect(second).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"], actions: [] });
    expect(await grantIds(world, key)).toEqual([keep]);
    const note = await onlyNotification(world);
    expect(note.attributes.outcome).toBe("notified");
    expect(note.document).toMatchObject({ verdicts: ["grant-gone"], actions: [] });
  });

  it("a malformed event, a failed call and the responder's own call change nothing and publish nothing", async () => {
    // Prepare
    const rogue = await grant(world, key, { GranteePrincipal: EXFIL, Operations: ["Decrypt"] });
    // Exact role ARNs only (a wildcard is a config error); eventFor keeps the fixture's account.
    const handler = await coldStart("rogue-grant", world, {
      responderRoleArns: [
        `arn:aws:iam::${world.account}:role/kms-responder-RogueGrantRole-EXAMPLE`,
        "arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE",
      ],
    });

    // Act
    const results = [
      await invoke(handler, { "detail-type": "Scheduled Event", detail: "not a record" }),
      await invoke(handler, "garbage"),
      await invoke(handler, eventFor("rogue-grant/failed-call", { keyArn: key.arn, grantId: rogue })),
      await invoke(handler, eventFor("rogue-grant/own-call", { keyArn: key.arn, grantId: rogue })),
    ];

    // Assess
    expect(results.map((r) => [r.outcome, r.skipped])).toEqual([
      ["ignored", "unparseable"],
      ["ignored", "unparseable"],
      ["ignored", "failed-call"],
      ["ignored", "own-call"],
    ]);
    expect(await grantIds(world, key)).toEqual([rogue]);
    expect(await notifications(world)).toEqual([]);
  });

  it("a key tagged exempt keeps the grant: the notification says the action was skipped (tags read from KMS)", async () => {
    // Prepare
    const exempt = await createKey(world, "exempt", [
      { TagKey: "kms-responder:exempt", TagValue: "load-test" },
    ]);
    const rogue = await grant(world, exempt, { GranteePrincipal: EXFIL, Operations: ["Decrypt"] });
    const handler = await coldStart("rogue-grant", world);

    // Act
    const result = await invoke(
      handler,
      eventFor("rogue-grant/external-grantee", { keyArn: exempt.arn, grantId: rogue }),
    );

    // Assess
    expect(result).toMatchObject({
      outcome: "skipped",
      actions: [{ type: "revoke-grant", status: "skipped" }],
    });
    expect(await grantIds(world, exempt)).toEqual([rogue]);
    expect((await onlyNotification(world)).attributes.outcome).toBe("skipped");
  });

  it("in notify mode decides and reports but changes nothing", async () => {
    // Prepare
    const rogue = await grant(world, key, { GranteePrincipal: EXFIL, Operations: ["Decrypt"] });
    const handler = await coldStart("rogue-grant", world, { mode: "notify" });

    // Act
    const result = await invoke(
      handler,
      eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId: rogue }),
    );

    // Assess
    expect(result).toMatchObject({
      outcome: "dry-run",
      actions: [{ type: "revoke-grant", status: "dry-run" }],
    });
    expect(await grantIds(world, key)).toEqual([rogue]);
    expect((await onlyNotification(world)).attributes.outcome).toBe("dry-run");
  });
});

describe.skipIf(SKIP)("rogue-grant bundle against moto: a forged event (issue 11)", () => {
  it("a forged CreateGrant naming the id of a legitimate grant leaves that grant alone", async () => {
    // Prepare: a real grant to an application role of the key's own account, constrained.
    const world = await freshWorld();
    const key = await createKey(world, "orders");
    const legitimate = await grant(world, key, {
      GranteePrincipal: `arn:aws:iam::${world.account}:role/orders-service`,
      Operations: ["Decrypt", "Encrypt"],
      Constraints: { EncryptionContextSubset: { app: "orders" } },
    });
    // The forged event claims that grant id went to another account.
    const forged = eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId: legitimate });
    const handler = await coldStart("rogue-grant", world);

    // Act
    const result = await invoke(handler, forged);

    // Assess
    expect(await grantIds(world, key)).toEqual([legitimate]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["grant-differs"], actions: [] });
    const note = await onlyNotification(world);
    expect(note.document).toMatchObject({ outcome: "notified", verdicts: ["grant-differs"], actions: [] });
  });

  it("a forged CreateGrant naming a grant id that does not exist changes nothing (grant-gone)", async () => {
    // Prepare
    const world = await freshWorld();
    const key = await createKey(world, "orders");
    const keep = await grant(world, key, { GranteePrincipal: "ec2.amazonaws.com", Operations: ["Decrypt"] });
    const forged = eventFor("rogue-grant/external-grantee", {
      keyArn: key.arn,
      grantId: "0000000000000000000000000000000000000000000000000000000000000000",
    });
    const handler = await coldStart("rogue-grant", world);

    // Act
    const result = await invoke(handler, forged);

    // Assess
    expect(await grantIds(world, key)).toEqual([keep]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"], actions: [] });
  });
});
