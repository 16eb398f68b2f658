import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { DisableKeyCommand, EnableKeyCommand, GetKeyLastUsageCommand, KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** The key of events/key-disabled/iam-user.json. */
const KEY_ID = "9d0e1f2a-3b4c-4d5e-a6f7-a8b9c0d1e2f3";
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const KEY_ADMIN = "arn:aws:iam::111122223333:role/KeyAdmin";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("key-disabled handler", () => {
  it("by default only notifies: the key stays disabled", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, state: "Disabled" });
    const handler = await coldStart("key-disabled");

    // Act
    const result = await handler(loadEvent("key-disabled/iam-user"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(kms).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
    expect(key.state).toBe("Disabled");
    expect(result).toMatchObject({
      outcome: "notified",
      severity: "medium",
      reasons: ["unapproved-disable"],
    });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[MEDIUM\] /);
    expect(note.text).toContain("reenableDisabledKeys is off");
    // The role may not read the key's last use: said, never a failure.
    expect(kms).toHaveReceivedCommandWith(GetKeyLastUsageCommand, { KeyId: KEY_ARN });
    expect(note.doc.details.find((d) => d.startsWith("Last used: "))).toMatch(/^Last used: unknown \(/);
  });

  it("says when and for what the key was last used: what stops working now", async () => {
    // Prepare
    fakeKey(kms, {
      arn: KEY_ARN,
      state: "Disabled",
      lastUsage: { operation: "GenerateDataKey", time: new Date("2026-11-28T18:02:00Z") },
    });
    const handler = await coldStart("key-disabled");

    // Act
    const result = await handler(loadEvent("key-disabled/iam-user"));

    // Assess
    expect(result).toMatchObject({ outcome: "notified", severity: "medium" });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetKeyLastUsageCommand, { KeyId: KEY_ARN });
    expect(onlyNotification(sns).doc.details).toContain(
      "Last used: 2026-11-28T18:02:00.000Z (GenerateDataKey)",
    );
  });

  it("reenableDisabledKeys: re-enables a key disabled by an unapproved principal (by key ID)", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, state: "Disabled" });
    const handler = await coldStart("key-disabled", { reenableDisabledKeys: true });

    // Act
    const result = await handler(loadEvent("key-disabled/iam-user"));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyCommand, { KeyId: KEY_ID });
    expect(key.state).toBe("Enabled");
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "enable-key", status: "succeeded", verified: true }],
    });
    expect(onlyNotification(sns).text).toContain(`aws kms disable-key --key-id ${KEY_ARN}`);
  });

  it("an approved admin's disable is not undone, even with reenableDisabledKeys", async () => {
    // Prepare
    fakeKey(kms, { arn: "arn:aws:kms:us-east-1:111122223333:key/0e1f2a3b-4c5d-4e6f-b7a8-b9c0d1e2f3a4" });
    const handler = await coldStart("key-disabled", {
      reenableDisabledKeys: true,
      approvedDisablePrincipals: [KEY_ADMIN],
    });

    // Act
    const result = await handler(loadEvent("key-disabled/approved-admin"));

    // Assess
    expect(kms).toHaveReceivedCommandTimes(EnableKeyCommand, 0);
    expect(result).toMatchObject({ outcome: "notified", severity: "low", reasons: ["approved-disable"] });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it.each([
    ["failed-call", "failed-call"],
    ["own-call", "own-call"],
  ])("%s: ignored (%s) without any AWS call", async (variant, skipped) => {
    // Prepare
    const handler = await coldStart("key-disabled", {
      responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-KeyPolicyViolationRole-EXAMPLE"],
    });

    // Act
    const result = await handler(loadEvent(`key-disabled/${variant}`));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });
});
