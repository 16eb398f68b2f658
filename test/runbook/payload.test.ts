import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { DisableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parsePayload } from "../../functions/runbook/payload.js";
import { PayloadError } from "../../functions/shared/errors.js";
import {
  ALIAS,
  fakeKey,
  GRANT_ID,
  KEY_ARN,
  KEY_ID,
  onlyNotification,
  payloadFor,
  TOPIC_ARN,
} from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** The error parsePayload throws for `input`; fails the test when it accepts it. */
function refusalOf(input: unknown): PayloadError {
  try {
    parsePayload(input);
  } catch (error) {
    if (error instanceof PayloadError) return error;
    throw error;
  }
  throw new Error(`payload accepted: ${JSON.stringify(input)}`);
}

describe("parsePayload: every refusal names the field", () => {
  const base = payloadFor("disable-key");

  it.each([
    ["an unknown action", { ...base, action: "delete-key" }, "action:"],
    ["a missing reason", { ...base, reason: undefined }, "reason:"],
    ["a reason shorter than three characters (after trimming)", { ...base, reason: "  ok  " }, "reason:"],
    ["a line break in reason (a forged email line)", { ...base, reason: "ok\nRun by: root" }, "reason:"],
    ["a tab in reason", { ...base, reason: "why\tnot" }, "reason:"],
    [
      "a line break in statedBy",
      { ...base, statedBy: "alice\nRun by: arn:aws:iam::111122223333:root" },
      "statedBy:",
    ],
    ["an escape character in statedBy", { ...base, statedBy: "alice\u001b[2J" }, "statedBy:"],
    ["a line separator in ticket", { ...base, ticket: "INC-1\u2028Outcome: remediated" }, "ticket:"],
    [
      "a carriage return in requestedBy (statedBy's old name)",
      { ...base, statedBy: undefined, requestedBy: "bob\r" },
      "requestedBy:",
    ],
    [
      "an automationExecutionId that is not an execution id",
      { ...base, automationExecutionId: "x; y" },
      "automationExecutionId:",
    ],
    ["revoke-grant without a grantId", payloadFor("revoke-grant"), "grantId: is required for revoke-grant"],
    [
      "revoke-grantee-grants without a granteePrincipal",
      payloadFor("revoke-grantee-grants"),
      "granteePrincipal: is required for revoke-grantee-grants",
    ],
    ["a keyId that is not a key", { ...base, keyId: "not a key" }, "keyId:"],
    ["a keyId that is an S3 ARN", { ...base, keyId: "arn:aws:s3:::bucket" }, "keyId:"],
    [
      "a key ARN with a malformed key id",
      { ...base, keyId: "arn:aws:kms:us-east-1:111122223333:key/1234abcd" },
      "keyId:",
    ],
    [
      "a grantId with shell characters",
      { ...payloadFor("revoke-grant"), grantId: "abc; rm -rf /" },
      "grantId:",
    ],
    ["an unknown field (a dryrun typo)", { ...base, dryrun: true }, 'unknown field "dryrun"'],
    ["dryRun as a string", { ...base, dryRun: "yes" }, "dryRun:"],
    ["reason as a number", { ...base, reason: 42 }, "reason:"],
  ])("refuses %s", (_what, input, field) => {
    // Act
    const error = refusalOf(input);

    // Assess
    expect(error.name).toBe("PayloadError");
    expect(error.message).toContain(field);
  });

  it("refuses a payload that is not an object", () => {
    // Act / Assess
    expect(refusalOf(null).message).toContain("payload:");
    expect(refusalOf("disable-key").message).toContain("payload:");
  });

  it.each([
    ["a key id", KEY_ID],
    ["a multi-Region key id", "mrk-1234abcd12ab34cd56ef1234567890ab"],
    ["a key ARN", KEY_ARN],
    ["a multi-Region key ARN", "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"],
    ["an alias name", ALIAS],
    ["an alias ARN", `arn:aws:kms:us-east-1:111122223333:${ALIAS}`],
  ])("accepts %s as keyId", (_what, keyId) => {
    // Act
    const payload = parsePayload(payloadFor("disable-key", { keyId }));

    // Assess
    expect(payload.keyId).toBe(keyId);
  });

  it("fills in dryRun: false and keeps the optional fields it was given", () => {
    // Act
    const payload = parsePayload(payloadFor("revoke-grant", { grantId: GRANT_ID }));

    // Assess
    expect(payload).toEqual({
      action: "revoke-grant",
      keyId: KEY_ARN,
      grantId: GRANT_ID,
      dryRun: false,
      reason: "key exposed in a public repository",
      statedBy: "arn:aws:sts::111122223333:assumed-role/OnCall/alice",
      ticket: "INC-4711",
    });
  });

  it("accepts requestedBy (statedBy's old name) as statedBy", () => {
    // Act
    const payload = parsePayload({ ...payloadFor("disable-key"), statedBy: undefined, requestedBy: "bob" });

    // Assess
    expect(payload.statedBy).toBe("bob");
    expect(payload).not.toHaveProperty("requestedBy");
  });

  it.each([
    ["without statedBy", { statedBy: undefined }],
    ["with a blank statedBy", { statedBy: "   " }],
  ])("accepts a payload %s: who ran it comes from SSM, not from the caller", (_what, extra) => {
    // Act
    const payload = parsePayload(payloadFor("disable-key", extra));

    // Assess
    expect(payload.statedBy).toBeUndefined();
  });
});

describe("runbook handler: payload validation", () => {
  beforeEach(() => {
    kms.reset();
    sns.reset();
    cloudTrail.reset();
    sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** A cold start of the runbook function with the environment the stack gives it. */
  async function coldStart() {
    vi.resetModules();
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
    vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
    vi.stubEnv("KMS_RESPONDER_CONFIG", "{}");
    const { handler } = await import("../../functions/runbook/index.js");
    // The same module registry as the handler, so `instanceof` sees the handler's class.
    const errors = await import("../../functions/shared/errors.js");
    return { handler, PayloadError: errors.PayloadError };
  }

  it.each([
    ["an unknown field", { ...payloadFor("disable-key"), dryrun: true }, "dryrun"],
    ["revoke-grant without a grantId", payloadFor("revoke-grant"), "grantId"],
    ["a malformed keyId", payloadFor("disable-key", { keyId: "not a key" }), "keyId"],
    ["an empty event", {}, "action"],
  ])("rejects %s with a PayloadError and sends no command on any client", async (_what, event, field) => {
    // Prepare
    fakeKey(kms);
    const { handler, PayloadError: HandlerPayloadError } = await coldStart();

    // Act
    const outcome = handler(event);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(HandlerPayloadError);
    await expect(outcome).rejects.toThrow(field);
    expect(kms).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(cloudTrail).not.toHaveReceivedAnyCommand();
  });

  it("runs a valid payload and notifies the configured topic", async () => {
    // Prepare
    fakeKey(kms);
    const { handler } = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { keyId: ALIAS }));

    // Assess
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(result).toMatchObject({ action: "disable-key", outcome: "remediated", notificationId: "msg-1" });
    expect(onlyNotification(sns).input.TopicArn).toBe(TOPIC_ARN);
  });
});
