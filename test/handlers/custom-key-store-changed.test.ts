import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { BatchImportFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);
const securityHub = mockClient(SecurityHubClient);

const STORE = "cks-1234567890abcdef0";

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  securityHub.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  securityHub
    .on(BatchImportFindingsCommand)
    .resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("custom-key-store-changed handler: an incident without a key", () => {
  it("a disconnect: no KMS read, a critical notification naming the store (subject, text, JSON)", async () => {
    // Prepare
    const handler = await coldStart("custom-key-store-changed");

    // Act
    const result = await handler(loadEvent("custom-key-store-changed/disconnect"));

    // Assess
    expect(kms.calls()).toHaveLength(0);
    expect(result).toMatchObject({ outcome: "notified", severity: "critical", actions: [] });
    const note = onlyNotification(sns);
    expect(note.subject).toBe(
      // At most 99 characters: the title is cut first, the store, account and Region stay.
      `[CRITICAL] KMS custom key..., for review: store ${STORE} in 111122223333/us-east-1`,
    );
    // Once, at the head: the details do not repeat it.
    expect(note.text.split(`Custom key store: ${STORE} (ExampleKeyStore)`)).toHaveLength(2);
    expect(note.text).not.toContain("Key: unknown");
    expect(note.doc.key).toEqual({ account: "111122223333", region: "us-east-1" });
    expect((note.doc as unknown as { customKeyStore: unknown }).customKeyStore).toEqual({
      id: STORE,
      name: "ExampleKeyStore",
    });
    expect(note.doc.undo).toEqual([
      `aws kms connect-custom-key-store --custom-key-store-id ${STORE} --region us-east-1`,
    ]);
    expect(note.attributes).toMatchObject({ severity: "critical", incident: "custom-key-store-changed" });
  });

  it("Security Hub: the resource is the store (Other, its id), not an unknown key", async () => {
    // Prepare
    const handler = await coldStart("custom-key-store-changed", { securityHub: true });

    // Act
    await handler(loadEvent("custom-key-store-changed/update-proxy-endpoint"));

    // Assess
    const [call] = securityHub.commandCalls(BatchImportFindingsCommand);
    const finding = call?.args[0].input.Findings?.[0];
    expect(finding?.Resources).toEqual([
      {
        Type: "Other",
        Id: `arn:aws:kms:us-east-1:111122223333:custom-key-store/${STORE}`,
        Partition: "aws",
        Region: "us-east-1",
        Details: { Other: { customKeyStoreId: STORE, customKeyStoreName: "payments-xks" } },
      },
    ]);
    expect(finding?.Title).toBe(
      `KMS custom key store repointed: custom key store ${STORE} in 111122223333/us-east-1`,
    );
    expect(finding?.ProductFields?.["kms-responder/customKeyStoreId"]).toBe(STORE);
  });
});
