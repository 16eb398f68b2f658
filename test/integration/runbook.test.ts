/**
 * The runbook bundle against the emulator: each manual action changes what it says (read back),
 * dry runs change nothing, bad payloads are refused with the field named and nothing changed, and
 * every run notifies naming who asked and why.
 */

import { CreateTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Handler } from "../../cli/drill/bundles.js";
import type { DrillKey } from "../../cli/drill/scenarios.js";
import {
  coldStart,
  createKey,
  ENDPOINT,
  freshWorld,
  notifications,
  onlyNotification,
  REGION,
  SKIP,
  type World,
} from "./harness.js";

interface RunbookResult {
  outcome: string;
  severity: string;
  dryRun: boolean;
  key: { arn?: string; stateBefore?: string; stateAfter?: string };
  actions: Array<{ type: string; status: string; detail: string; verified?: boolean }>;
  details: string[];
  findings?: Array<{ reason: string }>;
  notificationId?: string;
}

const EXFIL = "arn:aws:iam::444455556666:role/exfil";

describe.skipIf(SKIP)("runbook bundle against moto", () => {
  let world: World;
  let key: DrillKey;
  let handler: Handler;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "billing");
    handler = await coldStart("runbook", world);
  });

  const run = async (payload: Record<string, unknown>) =>
    (await handler({
      reason: "INC-4711 drill",
      requestedBy: "oncall@example.com",
      ...payload,
    })) as RunbookResult;
  const keyState = async () =>
    (await world.kms.send(new DescribeKeyCommand({ KeyId: key.arn }))).KeyMetadata?.KeyState;
  const grants = async () =>
    ((await world.kms.send(new ListGrantsCommand({ KeyId: key.arn }))).Grants ?? []).map((g) => g.GrantId);
  const grant = async (grantee: string) =>
    (
      await world.kms.send(
        new CreateGrantCommand({ KeyId: key.arn, GranteePrincipal: grantee, Operations: ["Decrypt"] }),
      )
    ).GrantId ?? "";

  it("revoke-grant revokes the grant and notifies naming who asked and why", async () => {
    // Prepare
    const rogue = await grant(EXFIL);

    // Act
    const result = await run({ action: "revoke-grant", keyId: key.arn, grantId: rogue, ticket: "INC-4711" });

    // Assess
    expect(await grants()).toEqual([]);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "revoke-grant", status: "succeeded" }],
    });
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[MEDIUM\] Runbook revoke-grant, grant revoked: key /);
    expect(note.attributes).toEqual({ severity: "medium", incident: "runbook", outcome: "remediated" });
    // Invoked directly, not through SSM Automation: no ExecutedBy; the typed name is "stated by".
    expect(note.document.request).toMatchObject({
      statedBy: "oncall@example.com",
      reason: "INC-4711 drill",
      ticket: "INC-4711",
    });
    expect(note.document.request).not.toHaveProperty("executedBy");
  });

  it("revoke-grantee-grants revokes every grant of that grantee and no other", async () => {
    // Prepare
    await grant(EXFIL);
    await grant(EXFIL);
    const keep = await grant("dynamodb.us-east-1.amazonaws.com");

    // Act
    const result = await run({ action: "revoke-grantee-grants", keyId: key.alias, granteePrincipal: EXFIL });

    // Assess
    expect(result.actions.map((a) => a.status)).toEqual(["succeeded", "succeeded"]);
    expect(await grants()).toEqual([keep]);
  });

  it("disable-key then enable-key: the key state follows, read back", async () => {
    // Act + Assess
    expect((await run({ action: "disable-key", keyId: key.id })).key.stateAfter).toBe("Disabled");
    expect(await keyState()).toBe("Disabled");
    expect((await run({ action: "enable-key", keyId: key.id })).key.stateAfter).toBe("Enabled");
    expect(await keyState()).toBe("Enabled");
    expect(await notifications(world)).toHaveLength(2);
  });

  it("cancel-key-deletion cancels and restores the key (history unreadable on moto: re-enabled)", async () => {
    // Prepare
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 }));

    // Act
    const result = await run({ action: "cancel-key-deletion", keyId: key.arn });

    // Assess
    expect(await keyState()).toBe("Enabled");
    expect(result.actions.map((a) => [a.type, a.status])).toEqual([
      ["cancel-key-deletion", "succeeded"],
      ["enable-key", "succeeded"],
    ]);
  });

  it("cancel-key-deletion on a Disabled key plans nothing and leaves it Disabled (nothing to cancel)", async () => {
    // Prepare: disabled on purpose, not pending deletion.
    await run({ action: "disable-key", keyId: key.id });
    await notifications(world);

    // Act
    const result = await run({ action: "cancel-key-deletion", keyId: key.arn });

    // Assess: no CancelKeyDeletion and no restore step (that would enable a key disabled on purpose)
    expect(await keyState()).toBe("Disabled");
    expect(result).toMatchObject({
      outcome: "notified",
      actions: [],
      details: ["Nothing to do: the key is Disabled, not pending deletion."],
    });
    expect(result.key).not.toHaveProperty("stateAfter");
    const note = await onlyNotification(world);
    expect(note.attributes.outcome).toBe("notified");
    expect(note.document.actions).toEqual([]);
  });

  it("enable-key-rotation turns rotation on; analyze-key-policy reports the policy's findings", async () => {
    // Prepare
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "root",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${world.account}:root` },
          Action: "kms:*",
          Resource: "*",
        },
        { Sid: "public", Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*" },
      ],
    };
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.arn, PolicyName: "default", Policy: JSON.stringify(policy) }),
    );

    // Act
    const rotation = await run({ action: "enable-key-rotation", keyId: key.arn });
    const analysis = await run({ action: "analyze-key-policy", keyId: key.arn });

    // Assess
    expect(rotation.outcome).toBe("remediated");
    expect(
      (await world.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }))).KeyRotationEnabled,
    ).toBe(true);
    expect(analysis.findings?.map((f) => f.reason)).toContain("public-principal");
    // A read-only analysis that finds something notifies; it never claims to have remediated.
    expect(analysis).toMatchObject({ outcome: "notified", severity: "critical" });
  });

  it("dry runs change nothing: disable-key and cancel-key-deletion plan from DescribeKey and report the plan only", async () => {
    // Prepare
    const pending = await createKey(world, "pending");
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: pending.id, PendingWindowInDays: 7 }));

    // Act
    const disable = await run({ action: "disable-key", keyId: key.arn, dryRun: true });
    const cancel = await run({ action: "cancel-key-deletion", keyId: pending.arn, dryRun: true });

    // Assess: the plan, held as dry-run, with what each step would do from the state read
    expect(disable).toMatchObject({
      outcome: "dry-run",
      dryRun: true,
      key: { stateBefore: "Enabled" },
      actions: [{ type: "disable-key", status: "dry-run", detail: "would disable the key (now Enabled)" }],
    });
    expect(cancel).toMatchObject({
      outcome: "dry-run",
      key: { stateBefore: "PendingDeletion" },
      actions: [
        {
          type: "cancel-key-deletion",
          status: "dry-run",
          detail: "would cancel the deletion (afterCancel: restore)",
        },
        { type: "enable-key", status: "dry-run" },
      ],
    });
    for (const result of [disable, cancel]) expect(result.key).not.toHaveProperty("stateAfter");
    // moto's state is unchanged: nothing mutating was sent.
    expect(await keyState()).toBe("Enabled");
    const after = await world.kms.send(new DescribeKeyCommand({ KeyId: pending.arn }));
    expect(after.KeyMetadata?.KeyState).toBe("PendingDeletion");
    expect((await notifications(world)).map((n) => n.attributes.outcome)).toEqual(["dry-run", "dry-run"]);
  });

  it("a revoke-grant dry run plans from ListGrants and leaves the grant in place", async () => {
    // Prepare
    const rogue = await grant(EXFIL);

    // Act
    const result = await run({ action: "revoke-grant", keyId: key.arn, grantId: rogue, dryRun: true });

    // Assess: moto ignores RevokeGrant's DryRun flag and would revoke, so a grant still listed proves
    // that no RevokeGrant was sent at all (the runbook sends no KMS DryRun).
    expect(result).toMatchObject({
      outcome: "dry-run",
      actions: [
        { type: "revoke-grant", status: "dry-run", detail: "would revoke the grant (it exists now)" },
      ],
    });
    expect(await grants()).toEqual([rogue]);
    expect(await keyState()).toBe("Enabled");
    const note = await onlyNotification(world);
    expect(note.attributes.outcome).toBe("dry-run");
  });

  it("a dry run for a grant that is not on the key plans nothing", async () => {
    // Prepare
    const rogue = await grant(EXFIL);
    const other = await createKey(world, "other");

    // Act
    const result = await run({ action: "revoke-grant", keyId: other.arn, grantId: rogue, dryRun: true });

    // Assess
    expect(result).toMatchObject({
      outcome: "notified",
      actions: [],
      details: [`Nothing to do: grant ${rogue} is not on the key.`],
    });
    expect(await grants()).toEqual([rogue]);
  });

  it("refuses bad payloads with the field named, and changes nothing", async () => {
    // Prepare
    const rogue = await grant(EXFIL);
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ action: "revoke-grant", keyId: key.arn }, /grantId: is required for revoke-grant/],
      [{ action: "disable-key", keyId: "not a key" }, /keyId: /],
      [{ action: "disable-key", keyId: key.arn, reason: "" }, /reason: /],
      [{ action: "delete-key", keyId: key.arn }, /action: /],
      [{ action: "disable-key", keyId: key.arn, force: true }, /unknown field "force"/],
      [{ action: "revoke-grant", keyId: key.arn, grantId: `${rogue}; rm -rf /` }, /grantId: /],
    ];

    // Act + Assess
    for (const [payload, message] of bad) {
      await expect(run(payload)).rejects.toMatchObject({
        name: "PayloadError",
        message: expect.stringMatching(message),
      });
    }
    expect(await keyState()).toBe("Enabled");
    expect(await grants()).toEqual([rogue]);
    expect(await notifications(world)).toEqual([]);
  });

  describe("an SSM execution proves one request, across Lambda environments", () => {
    const TABLE = "kms-responder-RunbookExecutions";
    const EXECUTION_ID = "5f2a1c3e-8b7d-4e6f-9a0b-1c2d3e4f5a6b";
    const dynamodb = new DynamoDBClient({
      endpoint: ENDPOINT || "http://127.0.0.1:1",
      region: REGION,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    afterEach(() => {
      delete process.env.RUNBOOK_EXECUTIONS_TABLE;
    });

    it("a second environment refuses a request with an execution id the first one used, and changes nothing", async () => {
      // Prepare: the stack's table, and two cold starts (two Lambda environments) that share it.
      await dynamodb.send(
        new CreateTableCommand({
          TableName: TABLE,
          KeySchema: [{ AttributeName: "executionId", KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: "executionId", AttributeType: "S" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      const env = { RUNBOOK_EXECUTIONS_TABLE: TABLE };
      const first = await coldStart("runbook", world, {}, env);
      const second = await coldStart("runbook", world, {}, env);
      const request = { reason: "INC-4711 drill", automationExecutionId: EXECUTION_ID };
      await first({ ...request, action: "disable-key", keyId: key.arn });
      expect(await keyState()).toBe("Disabled");
      await notifications(world);

      // Act
      const replay = second({ ...request, action: "enable-key", keyId: key.arn });

      // Assess
      await expect(replay).rejects.toMatchObject({
        name: "PayloadError",
        message: expect.stringContaining(`execution ${EXECUTION_ID} was already used for a runbook request`),
      });
      expect(await keyState()).toBe("Disabled");
      expect(await notifications(world)).toEqual([]);
      const claim = await dynamodb.send(
        new GetItemCommand({ TableName: TABLE, Key: { executionId: { S: EXECUTION_ID } } }),
      );
      expect(claim.Item?.usedFor).toEqual({ S: `disable-key ${key.arn}` });
    });
  });
});
