import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/5d6e7f8a-9b0c-4dbe-82f3-a4b5c6d7e8f9";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("key-rotation-disabled handler", () => {
  it("re-enables rotation on the key, verifies it with GetKeyRotationStatus, and notifies", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, rotation: false });
    const handler = await coldStart("key-rotation-disabled");

    // Act
    const result = await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListResourceTagsCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyRotationCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandWith(GetKeyRotationStatusCommand, { KeyId: KEY_ARN });
    expect(key.rotation).toBe(true);
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "medium",
      actions: [{ type: "enable-key-rotation", status: "succeeded", verified: true }],
    });
    const note = onlyNotification(sns);
    expect(note.attributes).toMatchObject({ incident: "key-rotation-disabled", outcome: "remediated" });
    expect(note.text).toContain(`aws kms disable-key-rotation --key-id ${KEY_ARN}`);
  });

  it("a key at 90 days: re-enabled at 90 days (the period from its EnableKeyRotation), never the API's 365", async () => {
    // Prepare: rotation was on at 90 days, then switched off (the status no longer reports a period)
    const key = fakeKey(
      kms,
      {
        arn: KEY_ARN,
        rotation: false,
        rotationPeriodInDays: 90,
        history: [
          { name: "DisableKeyRotation", time: new Date("2026-11-28T18:37:19Z") },
          {
            name: "EnableKeyRotation",
            time: new Date("2026-10-01T09:00:00Z"),
            request: { keyId: KEY_ARN, rotationPeriodInDays: 90 },
          },
        ],
      },
      cloudTrail,
    );
    const handler = await coldStart("key-rotation-disabled");

    // Act
    const result = await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyRotationCommand, {
      KeyId: KEY_ARN,
      RotationPeriodInDays: 90,
    });
    expect(key.rotation).toBe(true);
    expect(key.rotationPeriodInDays).toBe(90);
    expect(result.actions).toMatchObject([
      { type: "enable-key-rotation", status: "succeeded", verified: true, rotationPeriodInDays: 90 },
    ]);
    expect(onlyNotification(sns).text).toContain("Rotation period before it was switched off: 90 days");
  });

  it("no period in the history: the period the round's status read reports is kept, not read again", async () => {
    // Prepare: the status reports the period the key had while rotation is off
    fakeKey(kms, { arn: KEY_ARN, rotation: false }, cloudTrail);
    kms
      .on(GetKeyRotationStatusCommand)
      .resolvesOnce({ KeyRotationEnabled: false, RotationPeriodInDays: 180 })
      .resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    const handler = await coldStart("key-rotation-disabled");

    // Act
    const result = await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess: one status read before acting (the round), one verifying
    expect(kms).toHaveReceivedCommandWith(EnableKeyRotationCommand, {
      KeyId: KEY_ARN,
      RotationPeriodInDays: 180,
    });
    expect(kms).toHaveReceivedCommandTimes(GetKeyRotationStatusCommand, 2);
    expect(result.actions).toMatchObject([{ status: "succeeded", verified: true }]);
  });

  it("no period anywhere: EnableKeyRotation without one, and no second status read before it", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, rotation: false }, cloudTrail);
    kms
      .on(GetKeyRotationStatusCommand)
      .resolvesOnce({ KeyRotationEnabled: false })
      .resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
    const handler = await coldStart("key-rotation-disabled");

    // Act
    await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: KEY_ARN });
    expect(kms.commandCalls(EnableKeyRotationCommand)[0]?.args[0].input.RotationPeriodInDays).toBeUndefined();
    expect(kms).toHaveReceivedCommandTimes(GetKeyRotationStatusCommand, 2);
    expect(key.fake.operations().filter((op) => op !== "GetKeyRotationStatus")).toEqual([
      "DescribeKey",
      "ListResourceTags",
      "ListAliases",
      "LookupEvents",
      "EnableKeyRotation",
    ]);
  });

  it("rotation still reads as off after EnableKeyRotation: succeeded, reported as not verified", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const handler = await coldStart("key-rotation-disabled");

    // Act
    const result = await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    expect(result.actions).toMatchObject([{ status: "succeeded", verified: false }]);
  });

  it.each([
    ["failed-call", "failed-call"],
    ["own-call", "own-call"],
  ])("%s: ignored (%s), no EnableKeyRotation", async (variant, skipped) => {
    // Prepare
    const handler = await coldStart("key-rotation-disabled", {
      responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-KeyRotationRole-EXAMPLE"],
    });

    // Act
    const result = await handler(loadEvent(`key-rotation-disabled/${variant}`));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped });
    expect(kms).toHaveReceivedCommandTimes(EnableKeyRotationCommand, 0);
    expect(sns.calls()).toHaveLength(0);
  });
});
