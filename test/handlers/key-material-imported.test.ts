import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient, ListKeyRotationsCommand } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MUTATING_OPERATIONS } from "../helpers/fake-kms.js";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKms, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const OLD = "1111111111111111111111111111111111111111111111111111111111111111";
const NEW = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("key-material-imported handler", () => {
  it("RotateKeyOnDemand onto material mallory imported: critical, the material read as current, nothing changed", async () => {
    // Prepare: the key's history holds mallory's import of new material
    const fake = fakeKms(kms, cloudTrail);
    fake.addKey({
      arn: KEY_ARN,
      origin: "EXTERNAL",
      materials: [
        { id: OLD, state: "NON_CURRENT", importState: "IMPORTED" },
        { id: NEW, state: "CURRENT", importState: "IMPORTED" },
      ],
      history: [
        {
          name: "ImportKeyMaterial",
          time: new Date("2026-11-28T18:50:11Z"),
          caller: "arn:aws:iam::111122223333:user/mallory",
          request: { keyId: KEY_ARN, importType: "NEW_KEY_MATERIAL" },
        },
      ],
    });
    // The history entry's response (keyMaterialId) is what correlates: the fake writes the request only,
    // so the material is told by the key's current material here.
    const handler = await coldStart("key-material-imported");

    // Act
    const result = await handler(loadEvent("key-material-imported/rotate-on-demand"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListKeyRotationsCommand, {
      KeyId: KEY_ARN,
      IncludeKeyMaterial: "ALL_KEY_MATERIAL",
    });
    expect(fake.operations().filter((o) => MUTATING_OPERATIONS.has(o))).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", severity: "critical" });
    const note = onlyNotification(sns);
    expect(note.subject).toMatch(/^\[CRITICAL\] /);
    expect(note.doc.details.join(" ")).toContain("imported by arn:aws:iam::111122223333:user/mallory");
    expect(note.doc.details).toContain(`Current material now: ${NEW}.`);
  });

  it("an AWS_KMS key rotated on demand: ignored after reading the key", async () => {
    // Prepare
    fakeKms(kms, cloudTrail).addKey({ arn: KEY_ARN });
    const handler = await coldStart("key-material-imported");

    // Act
    const result = await handler(loadEvent("key-material-imported/rotate-on-demand"));

    // Assess
    expect(result).toMatchObject({ outcome: "ignored", skipped: "no-incident" });
    expect(sns.calls()).toHaveLength(0);
  });
});
