import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type CliIo, main, setRunClients } from "../../functions/cli/main.js";
import type { RunbookResult } from "../../functions/runbook/run.js";
import { fakeKey, GRANT_ID, KEY_ARN, ON_CALL, TOPIC_ARN } from "../runbook/harness.js";

const lambda = mockClient(LambdaClient);
const sts = mockClient(STSClient);
const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const REASON = "grant created from a leaked access key";

/** What the deployed runbook function answers for a revoke-grant that worked. */
const REVOKED: RunbookResult = {
  action: "revoke-grant",
  dryRun: false,
  key: { ref: KEY_ARN, arn: KEY_ARN, stateBefore: "Enabled", stateAfter: "Enabled" },
  requestedBy: ON_CALL,
  reason: REASON,
  status: "succeeded",
  actions: [
    {
      type: "revoke-grant",
      target: `${KEY_ARN} grant ${GRANT_ID}`,
      grantId: GRANT_ID,
      status: "succeeded",
      detail: "revoked",
      verified: true,
    },
  ],
  notificationId: "msg-1",
};

/** A Lambda response payload as the SDK hands it out (bytes that can also turn into text). */
function lambdaPayload(value: unknown): InvokeCommandOutput["Payload"] {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
}

/** The runbook payload the CLI sent to Lambda, decoded. */
function invokedPayload(): Record<string, unknown> {
  const [call] = lambda.commandCalls(InvokeCommand);
  const bytes = call?.args[0].input.Payload;
  if (!(bytes instanceof Uint8Array)) throw new Error("no InvokeCommand with a byte payload");
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/** Runs the CLI with captured output. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), isTty: false };
  const code = await main(argv, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** `run revoke-grant` with every required flag. */
const REVOKE = ["run", "revoke-grant", "--key", KEY_ARN, "--grant", GRANT_ID, "--reason", REASON];

beforeEach(() => {
  for (const mock of [lambda, sts, kms, sns, cloudTrail]) mock.reset();
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("KMS_RESPONDER_RUNBOOK_FUNCTION", undefined);
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", undefined);
  setRunClients(() => ({
    lambda: new LambdaClient({}),
    sts: new STSClient({}),
    kms: new KMSClient({}),
    sns: new SNSClient({}),
    cloudTrail: new CloudTrailClient({}),
  }));
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: lambdaPayload(REVOKED) });
  sts.on(GetCallerIdentityCommand).resolves({
    Account: "111122223333",
    Arn: ON_CALL,
    UserId: "AROAEXAMPLE:alice",
  });
  sns.on(PublishCommand).resolves({ MessageId: "msg-direct" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("kms-responder run: through the deployed runbook function", () => {
  it("invokes kms-responder-runbook with the payload and prints the result readably", async () => {
    // Act
    const { code, out } = await cli(...REVOKE, "--requested-by", "alice", "--ticket", "INC-4711");

    // Assess
    expect(code).toBe(0);
    expect(lambda).toHaveReceivedCommandExactlyOnceWith(InvokeCommand, {
      FunctionName: "kms-responder-runbook",
    });
    expect(invokedPayload()).toEqual({
      action: "revoke-grant",
      keyId: KEY_ARN,
      grantId: GRANT_ID,
      dryRun: false,
      reason: REASON,
      requestedBy: "alice",
      ticket: "INC-4711",
    });
    expect(out).toContain(`revoke-grant on ${KEY_ARN}: SUCCEEDED`);
    expect(out).toContain(`requested by ${ON_CALL}: ${REASON}`);
    expect(out).toContain(`- revoke-grant ${KEY_ARN} grant ${GRANT_ID}: succeeded (revoked)`);
    expect(out).toContain("notification: msg-1");
    expect(kms).not.toHaveReceivedAnyCommand();
    expect(sts).not.toHaveReceivedAnyCommand();
  });

  it("invokes the function named by --function-name and passes --dry-run on", async () => {
    // Act
    const { code } = await cli(
      ...REVOKE,
      "--requested-by",
      "alice",
      "--dry-run",
      "--function-name",
      "prod-kms-runbook",
    );

    // Assess
    expect(code).toBe(0);
    expect(lambda).toHaveReceivedCommandExactlyOnceWith(InvokeCommand, { FunctionName: "prod-kms-runbook" });
    expect(invokedPayload()).toMatchObject({ action: "revoke-grant", dryRun: true });
  });

  it("prints the function's result as JSON with --json", async () => {
    // Act
    const { code, out } = await cli(...REVOKE, "--requested-by", "alice", "--json");

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(REVOKED);
  });

  it("exits 1 when the result status is failed", async () => {
    // Prepare
    const failed: RunbookResult = {
      ...REVOKED,
      status: "failed",
      actions: [{ type: "revoke-grant", target: KEY_ARN, status: "failed", detail: "RevokeGrant failed" }],
    };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: lambdaPayload(failed) });

    // Act
    const { code, out } = await cli(...REVOKE, "--requested-by", "alice");

    // Assess
    expect(code).toBe(1);
    expect(out).toContain("FAILED");
  });

  it("exits 2 with the function's message when it refuses the payload (PayloadError)", async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: lambdaPayload({
        errorType: "PayloadError",
        errorMessage: "invalid runbook payload: grantId: must be a KMS grant id (letters and digits)",
        trace: [],
      }),
    });

    // Act
    const { code, err } = await cli(...REVOKE, "--requested-by", "alice");

    // Assess
    expect(code).toBe(2);
    expect(err).toContain("grantId: must be a KMS grant id");
  });

  it("exits 1 naming the function when it fails for another reason", async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: lambdaPayload({ errorType: "Error", errorMessage: "Task timed out after 30.00 seconds" }),
    });

    // Act
    const { code, err } = await cli(...REVOKE, "--requested-by", "alice");

    // Assess
    expect(code).toBe(1);
    expect(err).toContain("kms-responder-runbook failed");
    expect(err).toContain("Task timed out");
  });
});

describe("kms-responder run: who asked", () => {
  it("names the caller from STS GetCallerIdentity when --requested-by is absent", async () => {
    // Act
    const { code } = await cli(...REVOKE);

    // Assess
    expect(code).toBe(0);
    expect(sts).toHaveReceivedCommandOnce(GetCallerIdentityCommand);
    expect(invokedPayload()).toMatchObject({ requestedBy: ON_CALL });
  });

  it("exits 2 with a hint to pass --requested-by when STS fails, and invokes nothing", async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).rejects(new Error("Could not load credentials from any providers"));

    // Act
    const { code, err } = await cli(...REVOKE);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain("pass --requested-by");
    expect(err).toContain("Could not load credentials");
    expect(lambda).not.toHaveReceivedAnyCommand();
  });
});

describe("kms-responder run: argument errors", () => {
  it.each([
    ["a missing --reason", ["run", "disable-key", "--key", KEY_ARN], "--reason"],
    ["a missing --key", ["run", "disable-key", "--reason", REASON], "--key"],
    [
      "revoke-grant without --grant",
      ["run", "revoke-grant", "--key", KEY_ARN, "--reason", REASON],
      "--grant",
    ],
    [
      "revoke-grantee-grants without --grantee",
      ["run", "revoke-grantee-grants", "--key", KEY_ARN, "--reason", REASON],
      "--grantee",
    ],
    [
      "an unknown action",
      ["run", "delete-key", "--key", KEY_ARN, "--reason", REASON],
      'unknown action "delete-key"',
    ],
    [
      "two actions",
      ["run", "disable-key", "enable-key", "--key", KEY_ARN, "--reason", REASON],
      "exactly one ACTION",
    ],
    ["no action", ["run", "--key", KEY_ARN, "--reason", REASON], "exactly one ACTION"],
    ["a malformed --key", ["run", "disable-key", "--key", "not a key", "--reason", REASON], "--key"],
    ["an unknown flag", ["run", "disable-key", "--key", KEY_ARN, "--reason", REASON, "--dryrun"], "--dryrun"],
  ])("exits 2 naming the problem for %s, with no AWS call at all", async (_what, argv, named) => {
    // Act
    const { code, err } = await cli(...argv);

    // Assess: the first line is the message (usage errors add the usage text, which names every flag)
    expect(code).toBe(2);
    expect(err.split("\n")[0]).toContain(named);
    expect(lambda).not.toHaveReceivedAnyCommand();
    expect(sts).not.toHaveReceivedAnyCommand();
    expect(kms).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
  });
});

describe("kms-responder run --direct", () => {
  it("runs the action with the caller's credentials (RevokeGrant on KMS) and never invokes Lambda", async () => {
    // Prepare
    const key = fakeKey(kms, {
      grants: [{ GrantId: GRANT_ID, GranteePrincipal: "arn:aws:iam::444455556666:root" }],
    });

    // Act
    const { code, out } = await cli(
      ...REVOKE,
      "--requested-by",
      "alice",
      "--direct",
      "--topic-arn",
      TOPIC_ARN,
    );

    // Assess
    expect(code).toBe(0);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(key.grants).toEqual([]);
    expect(lambda).not.toHaveReceivedAnyCommand();
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { TopicArn: TOPIC_ARN });
    expect(out).toContain(`revoke-grant on ${KEY_ARN}: SUCCEEDED`);
    expect(out).toContain("notification: msg-direct");
  });

  it("publishes nothing and says so when no topic is given", async () => {
    // Prepare
    fakeKey(kms, { grants: [{ GrantId: GRANT_ID, GranteePrincipal: "arn:aws:iam::444455556666:root" }] });

    // Act
    const { code, out } = await cli(...REVOKE, "--requested-by", "alice", "--direct");

    // Assess
    expect(code).toBe(0);
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(out).toContain("no notification: pass --topic-arn");
  });

  it("exits 1 when the direct action failed (an AWS managed key is refused)", async () => {
    // Prepare
    fakeKey(kms, { keyManager: "AWS" });

    // Act
    const { code, out } = await cli(
      "run",
      "disable-key",
      "--key",
      KEY_ARN,
      "--reason",
      REASON,
      "--requested-by",
      "alice",
      "--direct",
      "--json",
    );

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ status: "failed", actions: [{ status: "failed" }] });
    expect(lambda).not.toHaveReceivedAnyCommand();
  });
});
