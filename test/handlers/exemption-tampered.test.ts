import { KMSClient, TagResourceCommand, UntagResourceCommand } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

beforeEach(() => {
  kms.reset();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("exemption-tampered handler", () => {
  it("removes the exempt tag an unapproved role set, reads the tags back, notifies critical with the undo", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, tags: { "kms-responder:exempt": "true", team: "payments" } });
    const handler = await coldStart("exemption-tampered");

    // Act
    const result = await handler(loadEvent("exemption-tampered/tag-exempt"));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(UntagResourceCommand, {
      KeyId: KEY_ARN,
      TagKeys: ["kms-responder:exempt"],
    });
    expect(kms).not.toHaveReceivedCommand(TagResourceCommand);
    expect(key.tags).toEqual({ team: "payments" });
    expect(result).toMatchObject({
      outcome: "remediated",
      severity: "critical",
      reasons: ["unapproved-exemption"],
      actions: [{ type: "untag-exempt", status: "succeeded", verified: true }],
    });
    const note = onlyNotification(sns);
    expect(note.attributes).toMatchObject({ incident: "exemption-tampered", severity: "critical" });
    expect(note.text).toContain(
      `aws kms tag-resource --key-id ${KEY_ARN} --tags TagKey=kms-responder:exempt,TagValue=true --region us-east-1`,
    );
  });

  it("puts the protected tag back after an unapproved UntagResource", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, tags: {} });
    const handler = await coldStart("exemption-tampered");

    // Act
    const result = await handler(loadEvent("exemption-tampered/untag-protected"));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(TagResourceCommand, {
      KeyId: KEY_ARN,
      Tags: [{ TagKey: "kms-responder:protected", TagValue: "true" }],
    });
    expect(key.tags).toEqual({ "kms-responder:protected": "true" });
    expect(result.actions).toMatchObject([{ type: "retag-protected", status: "succeeded", verified: true }]);
    expect(onlyNotification(sns).text).toContain(
      `aws kms untag-resource --key-id ${KEY_ARN} --tag-keys kms-responder:protected --region us-east-1`,
    );
  });

  it("an approved principal's exemption: reported, nothing changed", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, tags: { "kms-responder:exempt": "migration-2026" } });
    const handler = await coldStart("exemption-tampered", {
      approvedExemptionPrincipals: ["arn:aws:iam::111122223333:role/SecurityAdmin"],
    });

    // Act
    const result = await handler(loadEvent("exemption-tampered/approved-exempt"));

    // Assess
    expect(kms).not.toHaveReceivedCommand(UntagResourceCommand);
    expect(key.tags).toEqual({ "kms-responder:exempt": "migration-2026" });
    expect(result).toMatchObject({ severity: "info", reasons: ["approved-exemption"], actions: [] });
  });

  it("a tag that is neither exempt nor protected: ignored without any AWS call", async () => {
    fakeKey(kms, { arn: KEY_ARN });
    const handler = await coldStart("exemption-tampered");
    const result = await handler(loadEvent("exemption-tampered/other-tag"));
    expect(result).toMatchObject({ outcome: "ignored", skipped: "no-incident" });
    expect(kms.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it("notify mode: reports, never untags", async () => {
    fakeKey(kms, { arn: KEY_ARN, tags: { "kms-responder:exempt": "true" } });
    const handler = await coldStart("exemption-tampered", { mode: "notify" });
    const result = await handler(loadEvent("exemption-tampered/tag-exempt"));
    expect(kms).not.toHaveReceivedCommand(UntagResourceCommand);
    expect(result.actions).toMatchObject([{ type: "untag-exempt", status: "dry-run" }]);
  });
});
