/**
 * A negative read is confirmed by a second one: KMS reads are eventually consistent, so a read
 * that says "nothing to do" (the grant is not listed, the policy is not the event's, the key is
 * not pending deletion) is read again `confirmAfterSeconds` later before the invocation settles
 * on it. The wait is injected: the test's wait records the delay asked for and lets the fake KMS
 * catch up (or not) in between, as KMS's own propagation would.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { keyDeletionScheduled } from "../../functions/key-deletion-scheduled/incident.js";
import { keyPolicyViolation } from "../../functions/key-policy-violation/incident.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import { parseConfig } from "../../functions/shared/config.js";
import { createHandler, type PipelineDeps } from "../../functions/shared/pipeline.js";
import { KmsError } from "../helpers/fake-kms.js";
import { GRANT_KEY_ARN, loadEvent } from "../helpers/fixtures.js";
import { fakeKey, grantClaimedBy, onlyNotification, TOPIC_ARN } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** Enforce, no age limit (the fixtures are days old), the default confirmation delay (5 s). */
const CONFIG = parseConfig({ mode: "enforce", maxEventAgeMinutes: 0 });

const GRANT_EVENT = "rogue-grant/external-grantee";
const CLAIMED = grantClaimedBy(loadEvent(GRANT_EVENT));
const POLICY_EVENT = "key-policy-violation/public-policy";
const POLICY_KEY = "arn:aws:kms:us-east-1:111122223333:key/1d2e3f4a-5b6c-4d14-a8f9-a0b1c2d3e4f5";
const PUBLIC_POLICY = String(loadEvent(POLICY_EVENT).detail.requestParameters?.policy);
const SAFE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "Enable IAM User Permissions",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::111122223333:root" },
      Action: "kms:*",
      Resource: "*",
    },
  ],
});
const DELETION_EVENT = "key-deletion-scheduled/unapproved";
const DELETION_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const DELETION_KEY = `arn:aws:kms:us-east-1:111122223333:key/${DELETION_KEY_ID}`;

/** The wait the pipeline calls: records the delay and runs `meanwhile` (KMS catching up). */
function waitThen(meanwhile: () => void = () => undefined) {
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
    meanwhile();
  };
  return { waits, wait };
}

function deps(wait: PipelineDeps["wait"]): PipelineDeps {
  return {
    kms: new KMSClient({ region: "us-east-1" }),
    sns: new SNSClient({ region: "us-east-1" }),
    config: CONFIG,
    topicArn: TOPIC_ARN,
    responder: { region: "us-east-1", account: "111122223333" },
    ...(wait && { wait }),
  };
}

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

describe("a negative read is confirmed by a second read", () => {
  it("grant: the first ListGrants does not list it, the second (5 s later) does: the grant is revoked", async () => {
    // Prepare: the grant is not listed yet; it shows while the pipeline waits.
    const key = fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [] });
    const { waits, wait } = waitThen(() => key.grants.push(structuredClone(CLAIMED)));

    // Act
    const result = await createHandler(rogueGrant, deps(wait))(loadEvent(GRANT_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: GRANT_KEY_ARN,
      GrantId: CLAIMED.GrantId,
    });
    // Two judging reads, then the revoke's read-back.
    expect(kms).toHaveReceivedCommandTimes(ListGrantsCommand, 3);
    expect(key.grants).toEqual([]);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "revoke-grant", status: "succeeded" }],
    });
    expect(result.verdicts).toBeUndefined();
    expect(onlyNotification(sns).text).toContain(
      "A first read showed grant-gone; a second read 5 s later did not",
    );
  });

  it("grant: both reads say it is gone: nothing sent, one extra read, the notification says it was confirmed", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [] });
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(rogueGrant, deps(wait))(loadEvent(GRANT_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(ListGrantsCommand, 2);
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
    expect(key.fake.mutations()).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"], actions: [] });
    expect(onlyNotification(sns).text).toContain("Confirmed by a second read 5 s later");
  });

  it("grant: the first read lists it: no wait, no second read", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [structuredClone(CLAIMED)] });
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(rogueGrant, deps(wait))(loadEvent(GRANT_EVENT));

    // Assess: one judging read and the revoke's read-back.
    expect(waits).toEqual([]);
    expect(kms).toHaveReceivedCommandTimes(ListGrantsCommand, 2);
    expect(result.outcome).toBe("remediated");
  });

  it("policy: the first GetKeyPolicy shows the safe policy, the second the event's public one: the key is disabled", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: POLICY_KEY, policy: SAFE_POLICY });
    const { waits, wait } = waitThen(() => {
      key.policy = PUBLIC_POLICY;
    });

    // Act
    const result = await createHandler(keyPolicyViolation, deps(wait))(loadEvent(POLICY_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 2);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: expect.any(String) });
    expect(key.state).toBe("Disabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "disable-key", status: "succeeded" }],
    });
    expect(onlyNotification(sns).text).toContain("A first read showed policy-differs");
  });

  it("policy: both reads show a safe policy: nothing sent, one extra read, confirmed", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: POLICY_KEY, policy: SAFE_POLICY });
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(keyPolicyViolation, deps(wait))(loadEvent(POLICY_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 2);
    expect(kms).not.toHaveReceivedCommand(DisableKeyCommand);
    expect(kms).not.toHaveReceivedCommand(PutKeyPolicyCommand);
    expect(key.fake.mutations()).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["policy-differs"], actions: [] });
    expect(onlyNotification(sns).text).toContain("Confirmed by a second read 5 s later");
  });

  it("deletion: the first DescribeKey says Enabled, the second PendingDeletion: the deletion is cancelled", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: DELETION_KEY, state: "Enabled" }, cloudTrail);
    const { waits, wait } = waitThen(() => {
      key.state = "PendingDeletion";
    });

    // Act
    const result = await createHandler(keyDeletionScheduled, deps(wait))(loadEvent(DELETION_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(CancelKeyDeletionCommand, { KeyId: DELETION_KEY_ID });
    expect(key.state).not.toBe("PendingDeletion");
    expect(result.actions?.[0]).toMatchObject({ type: "cancel-key-deletion", status: "succeeded" });
    expect(onlyNotification(sns).text).toContain("A first read showed not-pending-deletion");
  });

  it("deletion: both reads say Enabled: nothing sent, one extra round of reads, confirmed", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: DELETION_KEY, state: "Enabled" }, cloudTrail);
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(keyDeletionScheduled, deps(wait))(loadEvent(DELETION_EVENT));

    // Assess: two rounds of reads (each with the notification's aliases), nothing after them.
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(DescribeKeyCommand, 2);
    expect(kms).toHaveReceivedCommandTimes(ListAliasesCommand, 2);
    expect(kms).not.toHaveReceivedCommand(CancelKeyDeletionCommand);
    expect(kms).not.toHaveReceivedCommand(EnableKeyCommand);
    expect(key.fake.mutations()).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["not-pending-deletion"], actions: [] });
    expect(onlyNotification(sns).text).toContain("Confirmed by a second read 5 s later");
  });

  it("the delay is the config's confirmAfterSeconds", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [] });
    const { waits, wait } = waitThen();
    const config = parseConfig({ mode: "enforce", maxEventAgeMinutes: 0, confirmAfterSeconds: 12 });

    // Act
    await createHandler(rogueGrant, { ...deps(wait), config })(loadEvent(GRANT_EVENT));

    // Assess
    expect(waits).toEqual([12000]);
  });
});

describe("an action that finds its target already done is tried again", () => {
  const notFound = () => new KmsError("NotFoundException", `Grant ID ${CLAIMED.GrantId} not found`);

  it("revoke-grant: the first RevokeGrant says the grant is gone, the second (5 s later) revokes it", async () => {
    // Prepare: the judging read lists the grant; the revoke first meets a replica that has not seen it.
    const key = fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [structuredClone(CLAIMED)] });
    key.fake.fail("RevokeGrant", notFound, 1);
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(rogueGrant, deps(wait))(loadEvent(GRANT_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 2);
    expect(key.grants).toEqual([]);
    expect(result.actions).toEqual([
      expect.objectContaining({
        type: "revoke-grant",
        status: "succeeded",
        detail:
          "revoked (a first attempt found it already done; a second attempt 5 s later did not (KMS reads are eventually consistent))",
      }),
    ]);
    expect(result.outcome).toBe("remediated");
  });

  it("revoke-grant: both attempts find the grant gone: already done, confirmed", async () => {
    // Prepare: the grant is listed when judged, then someone else revokes it.
    const key = fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [structuredClone(CLAIMED)] });
    key.fake.fail("RevokeGrant", notFound, 2);
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(rogueGrant, deps(wait))(loadEvent(GRANT_EVENT));

    // Assess
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 2);
    expect(result.actions).toEqual([
      expect.objectContaining({
        status: "already-done",
        detail: "the grant was already gone (NotFoundException) (confirmed by a second attempt 5 s later)",
      }),
    ]);
  });

  it("cancel-key-deletion: a stale 'not pending deletion' is tried again; the deletion is cancelled and the key restored", async () => {
    // Prepare: the first CancelKeyDeletion meets a replica that has not seen the schedule, so the
    // restore's EnableKey after it fails on the key still pending deletion.
    const key = fakeKey(kms, { arn: DELETION_KEY, state: "PendingDeletion" }, cloudTrail);
    key.fake.fail(
      "CancelKeyDeletion",
      new KmsError("KMSInvalidStateException", `${DELETION_KEY} is not pending deletion`),
      1,
    );
    const { waits, wait } = waitThen();

    // Act
    const result = await createHandler(keyDeletionScheduled, deps(wait))(loadEvent(DELETION_EVENT));

    // Assess: both actions ran again after the wait, and the second results stand.
    expect(waits).toEqual([5000]);
    expect(kms).toHaveReceivedCommandTimes(CancelKeyDeletionCommand, 2);
    expect(key.state).toBe("Enabled");
    expect(result.actions?.map((a) => [a.type, a.status])).toEqual([
      ["cancel-key-deletion", "succeeded"],
      ["enable-key", "succeeded"],
    ]);
    expect(result.outcome).toBe("remediated");
  });

  it("an action that does what it should causes no wait and no second attempt", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [structuredClone(CLAIMED)] });
    const { waits, wait } = waitThen();

    // Act
    await createHandler(rogueGrant, deps(wait))(loadEvent(GRANT_EVENT));

    // Assess
    expect(waits).toEqual([]);
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 1);
  });
});
