import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { EnableKeyRotationCommand, KMSClient } from "@aws-sdk/client-kms";
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

describe("key-rotation-weakened handler", () => {
  it("no earlier EnableKeyRotation in the history: the previous period is unknown, notify only", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, rotation: true, rotationPeriodInDays: 2560 }, cloudTrail);
    const handler = await coldStart("key-rotation-weakened");

    // Act
    const result = await handler(loadEvent("key-rotation-weakened/lengthened"));

    // Assess
    expect(result).toMatchObject({ outcome: "notified", actions: [] });
    expect(kms).toHaveReceivedCommandTimes(EnableKeyRotationCommand, 0);
  });

  it("puts the previous period (90 days, from the key's history) back and says how to undo", async () => {
    // Prepare: rotation at 90 days, then the attacker's EnableKeyRotation at 2560
    const key = fakeKey(
      kms,
      {
        arn: KEY_ARN,
        rotation: true,
        rotationPeriodInDays: 2560,
        history: [
          {
            name: "EnableKeyRotation",
            time: new Date("2026-11-28T18:41:02Z"),
            request: { keyId: KEY_ARN, rotationPeriodInDays: 2560 },
          },
          {
            name: "EnableKeyRotation",
            time: new Date("2026-10-01T09:00:00Z"),
            request: { keyId: KEY_ARN, rotationPeriodInDays: 90 },
          },
        ],
      },
      cloudTrail,
    );
    const handler = await coldStart("key-rotation-weakened");

    // Act
    const result = await handler(loadEvent("key-rotation-weakened/lengthened"));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(EnableKeyRotationCommand, {
      KeyId: KEY_ARN,
      RotationPeriodInDays: 90,
    });
    expect(key.rotationPeriodInDays).toBe(90);
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "medium",
      actions: [{ type: "enable-key-rotation", status: "succeeded", verified: true }],
    });
    const note = onlyNotification(sns);
    expect(note.doc.undo).toEqual([
      `aws kms enable-key-rotation --key-id ${KEY_ARN} --rotation-period-in-days 2560 --region us-east-1`,
    ]);
  });

  it("history unreadable: the restore is held (never guessed), it notifies, then fails for the retry", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, rotation: true, rotationPeriodInDays: 2560 });
    cloudTrail.rejects(new Error("AccessDenied"));
    const handler = await coldStart("key-rotation-weakened");

    // Act
    const run = handler(loadEvent("key-rotation-weakened/lengthened"));

    // Assess
    await expect(run).rejects.toThrow(/earlier/);
    expect(kms).toHaveReceivedCommandTimes(EnableKeyRotationCommand, 0);
    expect(onlyNotification(sns).attributes.outcome).toBe("failed");
  });
});

describe("key-rotation-weakened handler: its own options, checked at cold start", () => {
  it("a wrong or unknown option of its own fails the cold start, naming the field", async () => {
    // Act
    const start = coldStart("key-rotation-weakened", {
      incidents: { "key-rotation-weakened": { maxPeriodDays: 30, maxPeriod: 100 } },
    });

    // Assess
    await expect(start).rejects.toThrow(
      'invalid config: unknown field "incidents.key-rotation-weakened.maxPeriod"; ' +
        "incidents.key-rotation-weakened.maxPeriodDays: expected >=90, received number",
    );
  });

  it("another incident's function starts: it checks its own options only (the stack checked the rest)", async () => {
    // Act
    const handler = await coldStart("key-disabled", {
      incidents: { "key-rotation-weakened": { maxPeriod: 100 }, "later-incident": {} },
    });

    // Assess
    expect(typeof handler).toBe("function");
    await expect(
      coldStart("key-disabled", { incidents: { "key-disabled": { colour: "red" } } }),
    ).rejects.toThrow('invalid config: unknown field "incidents.key-disabled.colour"');
  });
});
