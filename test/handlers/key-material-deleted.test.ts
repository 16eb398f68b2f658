import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKms, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/3b4c5d6e-7f8a-4b9c-a0d1-e2f3a4b5c6d7";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("key-material-deleted handler", () => {
  it("publishes a critical notification; reads the key only (nothing can undo it, no tag lookup, no change)", async () => {
    // Prepare
    const fake = fakeKms(kms, cloudTrail);
    fake.addKey({ arn: KEY_ARN });
    const handler = await coldStart("key-material-deleted");

    // Act
    const result = await handler(loadEvent("key-material-deleted/delete-imported"));

    // Assess
    // The second DescribeKey and ListAliases: the key's description and aliases for the notification.
    expect(fake.operations()).toEqual(["DescribeKey", "DescribeKey", "ListAliases"]);
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: KEY_ARN });
    expect(cloudTrail.calls()).toHaveLength(0);
    expect(result).toMatchObject({ outcome: "notified", severity: "critical", actions: [] });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[CRITICAL\] /);
    expect(note.attributes).toMatchObject({
      severity: "critical",
      incident: "key-material-deleted",
      outcome: "notified",
    });
    expect(note.doc.key.arn).toBe(KEY_ARN);
    expect(note.text).toContain("arn:aws:iam::111122223333:user/alice");
  });

  it("failed-call: ignored, nothing published", async () => {
    // Prepare
    const handler = await coldStart("key-material-deleted");

    // Act
    const result = await handler(loadEvent("key-material-deleted/failed-call"));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "failed-call" });
    expect(sns.calls()).toHaveLength(0);
  });
});
