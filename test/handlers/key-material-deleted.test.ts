import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  ListKeyRotationsCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MUTATING_OPERATIONS } from "../helpers/fake-kms.js";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKms, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/3b4c5d6e-7f8a-4b9c-a0d1-e2f3a4b5c6d7";
const CURRENT = "bd9ff774943745e38c231d65c19f6a1dd2d04a27d9813b77935a6ef09bcc15ab";
const PENDING_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const PENDING = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1";

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
  it("current material deleted: critical, names the material, when the key was last used, and the re-import", async () => {
    // Prepare
    const fake = fakeKms(kms, cloudTrail);
    fake.addKey({
      arn: KEY_ARN,
      origin: "EXTERNAL",
      state: "PendingImport",
      materials: [{ id: CURRENT, state: "CURRENT", importState: "PENDING_IMPORT" }],
      lastUsage: { operation: "Decrypt", time: new Date("2026-11-28T17:59:00Z") },
    });
    const handler = await coldStart("key-material-deleted");

    // Act
    const result = await handler(loadEvent("key-material-deleted/delete-imported"));

    // Assess: reads only, nothing changed
    expect(fake.operations().filter((o) => MUTATING_OPERATIONS.has(o))).toEqual([]);
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: KEY_ARN });
    expect(kms).toHaveReceivedCommandWith(ListKeyRotationsCommand, {
      KeyId: KEY_ARN,
      IncludeKeyMaterial: "ALL_KEY_MATERIAL",
    });
    expect(kms).toHaveReceivedCommandWith(GetKeyLastUsageCommand, { KeyId: KEY_ARN });
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
    expect(note.doc.details).toContain(`Key material: ${CURRENT}`);
    expect(note.doc.details).toContain("Last used: 2026-11-28T17:59:00.000Z (Decrypt)");
    expect(note.doc.undo).toEqual([
      `aws kms import-key-material --key-id ${KEY_ARN} --encrypted-key-material fileb://EncryptedKeyMaterial.bin --import-token fileb://ImportToken.bin --import-type EXISTING_KEY_MATERIAL --key-material-id ${CURRENT} --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --region us-east-1`,
    ]);
  });

  it("material pending rotation deleted: high (the key keeps working); last use unknown without the permission", async () => {
    // Prepare
    const fake = fakeKms(kms, cloudTrail);
    fake.addKey({
      arn: PENDING_KEY_ARN,
      origin: "EXTERNAL",
      materials: [
        {
          id: "1111111111111111111111111111111111111111111111111111111111111111",
          state: "CURRENT",
          importState: "IMPORTED",
        },
        { id: PENDING, state: "PENDING_ROTATION", importState: "PENDING_IMPORT" },
      ],
    });
    const handler = await coldStart("key-material-deleted");

    // Act
    const result = await handler(loadEvent("key-material-deleted/delete-pending-rotation"));

    // Assess
    expect(result).toMatchObject({
      outcome: "notified",
      severity: "high",
      reasons: ["key-material-deleted", "pending-rotation-material"],
    });
    const note = onlyNotification(sns);
    expect(note.doc.details).toContain(`Key material: ${PENDING}`);
    expect(note.doc.details.find((d) => d.startsWith("Last used: "))).toMatch(/^Last used: unknown \(/);
    expect(note.doc.undo[0]).toContain(`--import-type EXISTING_KEY_MATERIAL --key-material-id ${PENDING}`);
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
