import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListGrantsCommand,
  NotFoundException,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parsePayload, type RunbookPayloadInput } from "../../functions/runbook/payload.js";
import { runRunbook } from "../../functions/runbook/run.js";
import type { ConfigInput } from "../../functions/shared/config.js";
import { KmsError } from "../helpers/fake-kms.js";
import {
  ALIAS,
  commandNames,
  depsWith,
  dryRuns,
  type FakeGrant,
  fakeKey,
  GRANT_ID,
  KEY_ARN,
  KEY_ID,
  mutations,
  ON_CALL,
  onlyNotification,
  payloadFor,
  TOPIC_ARN,
} from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const NOW = new Date("2026-12-01T09:30:00Z");
const INTRUDER = "arn:aws:iam::444455556666:role/Intruder";
const APP_ROLE = "arn:aws:iam::111122223333:role/App";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  cloudTrail.on(LookupEventsCommand).resolves({ Events: [] });
});

/** Nothing was changed and KMS's DryRun was not used (a dry run plans from reads). */
function expectNoChange(): void {
  expect(mutations(kms)).toEqual([]);
  expect(dryRuns(kms)).toEqual([]);
}

/** Validates the payload (as the handler does) and runs it against the mocks; `topicArn: null` means no topic. */
function run(
  action: RunbookPayloadInput["action"],
  extra: Partial<RunbookPayloadInput> = {},
  config: ConfigInput = {},
  topicArn: string | null = TOPIC_ARN,
) {
  return runRunbook(parsePayload(payloadFor(action, extra)), depsWith(config, topicArn), { at: NOW });
}

function grant(id: string, grantee: string): FakeGrant {
  return { GrantId: id, GranteePrincipal: grantee, Operations: ["Decrypt"] };
}

describe("revoke-grant", () => {
  it("reads the grant, revokes it by the key ARN DescribeKey returns, verifies it with ListGrants and notifies who stated it, why and the ticket", async () => {
    // Prepare
    const key = fakeKey(kms, { grants: [grant(GRANT_ID, INTRUDER)] });

    // Act
    const { result, failure } = await run("revoke-grant", { keyId: ALIAS, grantId: GRANT_ID });

    // Assess
    // The key's description and aliases are read once after acting, for the notification.
    expect(commandNames(kms)).toEqual([
      "DescribeKeyCommand",
      "ListGrantsCommand",
      "RevokeGrantCommand",
      "ListGrantsCommand",
      "DescribeKeyCommand",
      "ListAliasesCommand",
      "DescribeKeyCommand",
    ]);
    expect(kms).toHaveReceivedNthCommandWith(DescribeKeyCommand, 1, { KeyId: ALIAS });
    expect(kms.commandCalls(RevokeGrantCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, GrantId: GRANT_ID },
    ]);
    expect(kms).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    expect(key.grants).toEqual([]);
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "remediated",
      statedBy: ON_CALL,
      actions: [{ type: "revoke-grant", grantId: GRANT_ID, status: "succeeded", verified: true }],
    });
    expect(result.executedBy).toBeUndefined();
    const note = onlyNotification(sns);
    expect(note.text).toContain(`Stated by: ${ON_CALL}`);
    expect(note.text).toContain("Run by: unknown (not run through SSM Automation)");
    expect(note.text).toContain("key exposed in a public repository");
    expect(note.text).toContain("INC-4711");
    expect(note.doc.request).toEqual({
      at: NOW.toISOString(),
      statedBy: ON_CALL,
      reason: "key exposed in a public repository",
      ticket: "INC-4711",
    });
    expect(note.attributes).toMatchObject({ incident: "runbook", outcome: "remediated" });
    // The grant was read before the revoke, so the undo re-creates exactly that grant.
    expect(note.doc.undo).toEqual([
      `aws kms create-grant --key-id ${KEY_ARN} --grantee-principal ${INTRUDER} --operations Decrypt --region us-east-1`,
    ]);
  });

  it("a grant that is not on the key: nothing to do, no RevokeGrant, outcome notified, the request succeeds", async () => {
    // Prepare
    fakeKey(kms, { grants: [] });

    // Act
    const { result, failure } = await run("revoke-grant", { grantId: GRANT_ID });

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({ outcome: "notified", actions: [] });
    expect(result.details).toContain(`Nothing to do: grant ${GRANT_ID} is not on the key.`);
    expect(onlyNotification(sns).attributes.outcome).toBe("notified");
  });

  it("a grant revoked between the read and the call (NotFoundException): already-remediated", async () => {
    // Prepare
    const key = fakeKey(kms, { grants: [grant(GRANT_ID, INTRUDER)] });
    key.fake.fail(
      "RevokeGrant",
      () => {
        key.grants.length = 0;
        return new KmsError("NotFoundException", `Grant ID ${GRANT_ID} not found`);
      },
      1,
    );

    // Act
    const { result, failure } = await run("revoke-grant", { grantId: GRANT_ID });

    // Assess: "already gone" is tried once more (confirmAfterSeconds later) before it stands.
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 2);
    expect(kms).toHaveReceivedCommandWith(RevokeGrantCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({ outcome: "already-remediated", actions: [{ status: "already-done" }] });
    expect(onlyNotification(sns).attributes.outcome).toBe("already-remediated");
  });

  it("on a dry run plans from ListGrants: no RevokeGrant and no KMS DryRun at all", async () => {
    // Prepare
    const key = fakeKey(kms, { grants: [grant(GRANT_ID, INTRUDER)] });

    // Act
    const { result, failure } = await run("revoke-grant", { grantId: GRANT_ID, dryRun: true });

    // Assess
    expect(commandNames(kms)).toEqual([
      "DescribeKeyCommand",
      "ListGrantsCommand",
      "DescribeKeyCommand",
      "ListAliasesCommand",
    ]);
    expectNoChange();
    expect(key.grants).toHaveLength(1);
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      dryRun: true,
      outcome: "dry-run",
      actions: [{ status: "dry-run", detail: "would revoke the grant (it exists now)" }],
    });
    expect(onlyNotification(sns).attributes).toMatchObject({ outcome: "dry-run", severity: "info" });
  });
});

describe("revoke-grantee-grants", () => {
  /** Seven grants over three ListGrants pages: the intruder's (directly and through a role session) and others. */
  function grantsOverThreePages(): { pageSize: number; grants: FakeGrant[] } {
    return {
      pageSize: 3,
      grants: [
        grant("g1", INTRUDER),
        grant("g2", APP_ROLE),
        grant("g3", "dynamodb.us-east-1.amazonaws.com"),
        grant("g4", "arn:aws:sts::444455556666:assumed-role/Intruder/session-1"),
        grant("g5", "arn:aws:iam::444455556666:role/IntruderTwo"),
        grant("g6", APP_ROLE),
        grant("g7", INTRUDER),
      ],
    };
  }

  it("reads every ListGrants page and revokes exactly the grantee's grants, one by one", async () => {
    // Prepare
    const key = fakeKey(kms, grantsOverThreePages());

    // Act
    const { result, failure } = await run("revoke-grantee-grants", { granteePrincipal: INTRUDER });

    // Assess
    const listings = kms
      .commandCalls(ListGrantsCommand)
      .map((c) => c.args[0].input)
      .filter((input) => input.GrantId === undefined);
    expect(listings).toMatchObject([
      { KeyId: KEY_ARN, Marker: undefined },
      { KeyId: KEY_ARN, Marker: "page-3" },
      { KeyId: KEY_ARN, Marker: "page-6" },
    ]);
    expect(kms.commandCalls(RevokeGrantCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, GrantId: "g1" },
      { KeyId: KEY_ARN, GrantId: "g4" },
      { KeyId: KEY_ARN, GrantId: "g7" },
    ]);
    expect(key.grants.map((g) => g.GrantId)).toEqual(["g2", "g3", "g5", "g6"]);
    expect(failure).toBeUndefined();
    expect(result.outcome).toBe("remediated");
    expect(result.actions.map((a) => [a.type, a.grantId, a.status])).toEqual([
      ["revoke-grant", "g1", "succeeded"],
      ["revoke-grant", "g4", "succeeded"],
      ["revoke-grant", "g7", "succeeded"],
    ]);
  });

  it("revokes nothing and says so (outcome notified) when no grant belongs to the grantee", async () => {
    // Prepare
    fakeKey(kms, { grants: [grant("g2", APP_ROLE), grant("g3", "dynamodb.us-east-1.amazonaws.com")] });

    // Act
    const { result, failure } = await run("revoke-grantee-grants", { granteePrincipal: INTRUDER });

    // Assess
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({ outcome: "notified", actions: [] });
    expect(result.details).toEqual([`Nothing to do: no grant on the key for ${INTRUDER}.`]);
  });

  it("on a dry run lists every page and plans one revoke per matching grant, sending none (no DryRun)", async () => {
    // Prepare
    const key = fakeKey(kms, grantsOverThreePages());

    // Act
    const { result } = await run("revoke-grantee-grants", { granteePrincipal: INTRUDER, dryRun: true });

    // Assess
    expectNoChange();
    expect(kms).toHaveReceivedCommandTimes(ListGrantsCommand, 3);
    expect(key.grants).toHaveLength(7);
    expect(result.outcome).toBe("dry-run");
    expect(result.actions.map((a) => [a.grantId, a.status])).toEqual([
      ["g1", "dry-run"],
      ["g4", "dry-run"],
      ["g7", "dry-run"],
    ]);
  });
});

describe("disable-key", () => {
  it("disables an Enabled key by its key id and reports the states before and after", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "Enabled" });

    // Act
    const { result, failure } = await run("disable-key", { keyId: ALIAS });

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(mutations(kms)).toEqual(["DisableKeyCommand"]);
    expect(key.state).toBe("Disabled");
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "remediated",
      key: { ref: ALIAS, arn: KEY_ARN, stateBefore: "Enabled", stateAfter: "Disabled" },
      actions: [{ type: "disable-key", status: "succeeded", verified: true }],
    });
    expect(onlyNotification(sns).doc.undo).toEqual([
      `aws kms enable-key --key-id ${KEY_ARN} --region us-east-1`,
    ]);
  });

  it("sends no DisableKey when the key is already Disabled: nothing to do, outcome notified", async () => {
    // Prepare
    fakeKey(kms, { state: "Disabled" });

    // Act
    const { result, failure } = await run("disable-key");

    // Assess
    expect(kms).not.toHaveReceivedCommand(DisableKeyCommand);
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "notified",
      actions: [],
      details: ["Nothing to do: the key is Disabled."],
    });
  });

  it("on a dry run only describes the key and says what it would do", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "Enabled" });

    // Act
    const { result, failure } = await run("disable-key", { dryRun: true });

    // Assess
    expect(commandNames(kms)).toEqual(["DescribeKeyCommand", "DescribeKeyCommand", "ListAliasesCommand"]);
    expectNoChange();
    expect(key.state).toBe("Enabled");
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      dryRun: true,
      outcome: "dry-run",
      key: { stateBefore: "Enabled" },
      actions: [{ status: "dry-run", detail: "would disable the key (now Enabled)" }],
    });
    expect(result.key.stateAfter).toBeUndefined();
  });
});

describe("enable-key", () => {
  it("enables a Disabled key by its key id", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "Disabled" });

    // Act
    const { result, failure } = await run("enable-key");

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(key.state).toBe("Enabled");
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "remediated",
      key: { stateBefore: "Disabled", stateAfter: "Enabled" },
    });
  });

  it("refuses a key pending deletion without calling EnableKey: outcome failed, the request fails", async () => {
    // Prepare
    fakeKey(kms, { state: "PendingDeletion" });

    // Act
    const { result, failure } = await run("enable-key");

    // Assess
    expectNoChange();
    expect(failure).toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("cancel the deletion first"),
    });
    expect(result.outcome).toBe("failed");
    expect(result.error).toContain("cancel the deletion first");
    expect(onlyNotification(sns).attributes.outcome).toBe("failed");
  });

  it("KMS denies EnableKey: outcome failed with the error, notified, the request fails", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "Disabled" });
    key.fake.fail(
      "EnableKey",
      new KmsError("AccessDeniedException", "not authorized to perform kms:EnableKey"),
    );

    // Act
    const { result, failure } = await run("enable-key");

    // Assess
    expect(failure).toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("AccessDeniedException"),
    });
    expect(result).toMatchObject({ outcome: "failed", actions: [{ status: "failed" }] });
    expect(result.actions[0]?.error).toContain("AccessDeniedException");
    expect(onlyNotification(sns).attributes.outcome).toBe("failed");
  });
});

describe("enable-key-rotation", () => {
  it("enables rotation by the key ARN and verifies it", async () => {
    // Prepare
    const key = fakeKey(kms, { rotation: false });

    // Act
    const { result, failure } = await run("enable-key-rotation");

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyRotationCommand, { KeyId: KEY_ARN });
    expect(key.rotation).toBe(true);
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ status: "succeeded", verified: true }],
    });
  });

  it("on a dry run reads GetKeyRotationStatus and sends no EnableKeyRotation", async () => {
    // Prepare
    fakeKey(kms, { rotation: false });

    // Act
    const { result, failure } = await run("enable-key-rotation", { dryRun: true });

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetKeyRotationStatusCommand, { KeyId: KEY_ARN });
    expectNoChange();
    expect(failure).toBeUndefined();
    expect(result.actions).toMatchObject([{ status: "dry-run", detail: "would enable automatic rotation" }]);
  });
});

describe("cancel-key-deletion", () => {
  it("cancels by key id and re-enables when the newest DisableKey/EnableKey in history is an EnableKey (restore)", async () => {
    // Prepare
    const key = fakeKey(
      kms,
      {
        state: "PendingDeletion",
        history: [
          { name: "ScheduleKeyDeletion", time: new Date("2026-11-30T10:00:00Z") },
          { name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") },
          { name: "DisableKey", time: new Date("2026-11-01T10:00:00Z") },
        ],
      },
      cloudTrail,
    );

    // Act
    const { result, failure } = await run("cancel-key-deletion");

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(CancelKeyDeletionCommand, { KeyId: KEY_ID });
    expect(cloudTrail).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: KEY_ARN }],
    });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(key.state).toBe("Enabled");
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "remediated",
      key: { stateBefore: "PendingDeletion", stateAfter: "Enabled" },
      actions: [
        { type: "cancel-key-deletion", status: "succeeded", keyStateAfter: "Disabled" },
        { type: "enable-key", status: "succeeded", keyStateAfter: "Enabled" },
      ],
    });
  });

  it("cancels but leaves the key Disabled when the newest DisableKey/EnableKey in history is a DisableKey (restore)", async () => {
    // Prepare
    const key = fakeKey(
      kms,
      {
        state: "PendingDeletion",
        history: [
          { name: "ScheduleKeyDeletion", time: new Date("2026-11-30T10:00:00Z") },
          { name: "DisableKey", time: new Date("2026-11-20T10:00:00Z") },
          { name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") },
        ],
      },
      cloudTrail,
    );

    // Act
    const { result, failure } = await run("cancel-key-deletion");

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(CancelKeyDeletionCommand, { KeyId: KEY_ID });
    expect(kms).not.toHaveReceivedCommand(EnableKeyCommand);
    expect(key.state).toBe("Disabled");
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({
      outcome: "remediated",
      key: { stateAfter: "Disabled" },
      actions: [{ type: "cancel-key-deletion", status: "succeeded" }],
    });
    expect(result.details).toEqual(expect.arrayContaining([expect.stringContaining("Left Disabled")]));
  });

  it("with afterCancel keep-disabled cancels, reads no history and sends no EnableKey", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "PendingDeletion" });

    // Act
    const { result, failure } = await run("cancel-key-deletion", {}, { afterCancel: "keep-disabled" });

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(CancelKeyDeletionCommand, { KeyId: KEY_ID });
    expect(cloudTrail).not.toHaveReceivedAnyCommand();
    expect(kms).not.toHaveReceivedCommand(EnableKeyCommand);
    expect(key.state).toBe("Disabled");
    expect(failure).toBeUndefined();
    expect(result.actions.map((a) => a.type)).toEqual(["cancel-key-deletion"]);
  });

  it("a key that is not pending deletion: nothing to do (no cancel, no restore), outcome notified", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "Enabled" });

    // Act
    const { result, failure } = await run("cancel-key-deletion");

    // Assess
    expectNoChange();
    expect(key.state).toBe("Enabled");
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({ outcome: "notified", actions: [] });
    expect(result.details).toEqual(["Nothing to do: the key is Enabled, not pending deletion."]);
  });

  it("on a dry run only reads (the key, its history) and plans the cancel and the restore", async () => {
    // Prepare
    fakeKey(kms, { state: "PendingDeletion" }, cloudTrail);

    // Act
    const { result, failure } = await run("cancel-key-deletion", { dryRun: true });

    // Assess
    expect(commandNames(kms)).toEqual(["DescribeKeyCommand", "DescribeKeyCommand", "ListAliasesCommand"]);
    expect(commandNames(cloudTrail)).toEqual(["LookupEventsCommand"]);
    expectNoChange();
    expect(failure).toBeUndefined();
    expect(result.outcome).toBe("dry-run");
    expect(result.actions).toMatchObject([
      { type: "cancel-key-deletion", status: "dry-run" },
      { type: "enable-key", status: "dry-run" },
    ]);
    expect(result.actions[0]?.detail).toContain("would cancel the deletion");
  });
});

describe("analyze-key-policy", () => {
  const PUBLIC_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::111122223333:root" },
        Action: "kms:*",
        Resource: "*",
      },
      { Sid: "Anyone", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" },
    ],
  });

  it("reads the default policy, reports a public principal as critical (outcome notified) and changes nothing", async () => {
    // Prepare
    fakeKey(kms, { policy: PUBLIC_POLICY });

    // Act
    const { result, failure } = await run("analyze-key-policy");

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetKeyPolicyCommand, {
      KeyId: KEY_ARN,
      PolicyName: "default",
    });
    expectNoChange();
    expect(failure).toBeUndefined();
    expect(result).toMatchObject({ outcome: "notified", severity: "critical", actions: [] });
    expect(result.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: "public-principal", severity: "critical" })]),
    );
    const note = onlyNotification(sns);
    expect(note.attributes).toMatchObject({ severity: "critical", outcome: "notified" });
    expect(note.subject).toMatch(/^\[CRITICAL\]/);
    expect(note.doc.extra?.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: "public-principal" })]),
    );
  });
});

describe("refusals", () => {
  /** Keys nobody may change: [what, the fake key, the config]. */
  const untouchable: Array<[string, { keyManager?: "AWS" }, ConfigInput]> = [
    ["an AWS managed key", { keyManager: "AWS" }, {}],
    ["a key listed in ignoredKeys by ARN", {}, { ignoredKeys: [KEY_ARN] }],
    ["a key listed in ignoredKeys by key id", {}, { ignoredKeys: [KEY_ID] }],
  ];

  it.each(untouchable)(
    "refuses to change %s: outcome failed, the request fails, no mutating command",
    async (_what, key, config) => {
      // Prepare
      fakeKey(kms, { ...key, grants: [grant(GRANT_ID, INTRUDER)] });

      // Act
      const runs = [
        await run("disable-key", {}, config),
        await run("revoke-grant", { grantId: GRANT_ID }, config),
        await run("cancel-key-deletion", {}, config),
      ];

      // Assess
      expectNoChange();
      for (const { result, failure } of runs) {
        expect(result.outcome).toBe("failed");
        expect(result.actions[0]?.detail).toContain("refused");
        expect(failure).toMatchObject({ name: "ActionError", message: expect.stringContaining("refused") });
      }
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 3);
    },
  );

  it.each(untouchable)("still analyses the policy of %s (read-only)", async (_what, key, config) => {
    // Prepare
    fakeKey(kms, { ...key, policy: JSON.stringify({ Statement: [] }) });

    // Act
    const { result, failure } = await run("analyze-key-policy", {}, config);

    // Assess
    expect(kms).toHaveReceivedCommandOnce(GetKeyPolicyCommand);
    expectNoChange();
    expect(failure).toBeUndefined();
    expect(result.outcome).toBe("notified");
  });
});

describe("failures", () => {
  it("reports a key DescribeKey cannot find as failed and still notifies with outcome failed", async () => {
    // Prepare
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: "Alias not found", $metadata: {} }));

    // Act
    const { result, failure } = await run("disable-key", { keyId: ALIAS });

    // Assess
    // No key, so no description or aliases to read after (nothing was acted on).
    expect(commandNames(kms)).toEqual(["DescribeKeyCommand"]);
    expect(failure).toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("NotFoundException"),
    });
    expect(result).toMatchObject({ outcome: "failed", key: { ref: ALIAS }, actions: [{ status: "failed" }] });
    expect(result.actions[0]?.error).toContain("NotFoundException");
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("failed");
    expect(note.doc.actions[0]?.error).toContain("NotFoundException");
  });

  it("reports a DescribeKey answer without key metadata as failed instead of succeeding with nothing done", async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({});

    // Act
    const { result, failure } = await run("disable-key");

    // Assess
    expect(mutations(kms)).toEqual([]);
    expect(failure).toMatchObject({ name: "ActionError" });
    expect(result.outcome).toBe("failed");
    expect(result.actions).toMatchObject([{ status: "failed" }]);
  });

  it("keeps the action done when SNS is down: no undo sent, the request fails so the retry publishes", async () => {
    // Prepare
    const key = fakeKey(kms, { state: "Enabled" });
    sns.on(PublishCommand).rejects(new Error("SNS is unavailable"));

    // Act
    const { result, failure } = await run("disable-key");

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(kms).not.toHaveReceivedCommand(EnableKeyCommand);
    expect(key.state).toBe("Disabled");
    expect(result.outcome).toBe("remediated");
    expect(failure).toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("SNS is unavailable"),
    });
    expect(result.error).toContain("SNS is unavailable");
    expect(result.notificationId).toBeUndefined();
  });

  it("publishes nothing without a topic (a --direct run)", async () => {
    // Prepare
    fakeKey(kms);

    // Act
    const { result, failure } = await run("disable-key", {}, {}, null);

    // Assess
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(failure).toBeUndefined();
    expect(result.outcome).toBe("remediated");
    expect(result.notificationId).toBeUndefined();
  });
});

describe("result shape", () => {
  it("says what was asked, who stated it, the key's states, each action's status and the notification id", async () => {
    // Prepare
    fakeKey(kms, { state: "Enabled" });

    // Act
    const { result, failure } = await run("disable-key", { keyId: ALIAS });

    // Assess
    expect(result).toEqual({
      action: "disable-key",
      dryRun: false,
      key: { ref: ALIAS, arn: KEY_ARN, stateBefore: "Enabled", stateAfter: "Disabled" },
      statedBy: ON_CALL,
      reason: "key exposed in a public repository",
      ticket: "INC-4711",
      severity: "medium",
      outcome: "remediated",
      actions: [
        {
          type: "disable-key",
          target: KEY_ARN,
          status: "succeeded",
          detail: "key disabled",
          keyStateBefore: "Enabled",
          keyStateAfter: "Disabled",
          verified: true,
        },
      ],
      details: [],
      notificationId: "msg-1",
    });
    expect(failure).toBeUndefined();
  });
});
