import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  GetAutomationExecutionCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type CliIo, main, setRunClients } from "../../cli/main.js";
import type { RunbookResult } from "../../functions/runbook/run.js";
import { publicPolicy } from "../helpers/fake-kms.js";
import {
  type FakeGrant,
  fakeKey,
  GRANT_ID,
  KEY_ARN,
  mutations,
  ON_CALL,
  TOPIC_ARN,
} from "../runbook/harness.js";

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
  statedBy: ON_CALL,
  reason: REASON,
  severity: "medium",
  outcome: "remediated",
  details: [],
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
  // Naming the function invokes it directly; without one, run starts the stack's SSM document.
  vi.stubEnv("KMS_RESPONDER_RUNBOOK_FUNCTION", "kms-responder-runbook");
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
    const { code, out } = await cli(...REVOKE, "--stated-by", "alice", "--ticket", "INC-4711");

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
      statedBy: "alice",
      ticket: "INC-4711",
    });
    expect(out).toContain(`revoke-grant on ${KEY_ARN}: REMEDIATED (severity medium)`);
    expect(out).toContain(`stated by ${ON_CALL}: ${REASON}`);
    expect(out).not.toContain("executed by");
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

  it("sends --requested-by, the flag's old name, as statedBy", async () => {
    // Act
    const { code } = await cli(...REVOKE, "--requested-by", "alice");

    // Assess
    expect(code).toBe(0);
    expect(invokedPayload()).toMatchObject({ statedBy: "alice" });
    expect(invokedPayload()).not.toHaveProperty("requestedBy");
  });

  it("shows who SSM says ran it apart from who the request says asked", async () => {
    // Prepare
    const viaSsm: RunbookResult = {
      ...REVOKED,
      executedBy: "arn:aws:sts::111122223333:assumed-role/OnCall/bob",
    };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: lambdaPayload(viaSsm) });

    // Act
    const { code, out } = await cli(...REVOKE, "--stated-by", "alice");

    // Assess
    expect(code).toBe(0);
    expect(out).toContain("executed by arn:aws:sts::111122223333:assumed-role/OnCall/bob (SSM Automation)");
    expect(out).toContain(`stated by ${ON_CALL}: ${REASON}`);
  });

  it("exits 1 when the result's outcome is failed", async () => {
    // Prepare
    const failed: RunbookResult = {
      ...REVOKED,
      outcome: "failed",
      error: "revoke-grant: RevokeGrant failed",
      actions: [{ type: "revoke-grant", target: KEY_ARN, status: "failed", detail: "RevokeGrant failed" }],
    };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: lambdaPayload(failed) });

    // Act
    const { code, out } = await cli(...REVOKE, "--requested-by", "alice");

    // Assess
    expect(code).toBe(1);
    expect(out).toContain(`revoke-grant on ${KEY_ARN}: FAILED`);
    expect(out).toContain("FAILED: revoke-grant: RevokeGrant failed");
  });

  it("exits 1 when the function fails the invocation because an action failed (ActionError)", async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: lambdaPayload({ errorType: "ActionError", errorMessage: "revoke-grant: RevokeGrant failed" }),
    });

    // Act
    const { code, err } = await cli(...REVOKE, "--stated-by", "alice");

    // Assess
    expect(code).toBe(1);
    expect(err).toContain("ActionError: revoke-grant: RevokeGrant failed");
  });

  it.each([
    ["critical", 1],
    ["high", 1],
    ["medium", 0],
    ["info", 0],
  ] as const)("exits %s -> %i for analyze-key-policy, like analyze-policy", async (severity, exit) => {
    // Prepare
    const analysed: RunbookResult = {
      ...REVOKED,
      action: "analyze-key-policy",
      severity,
      outcome: "notified",
      actions: [],
    };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: lambdaPayload(analysed) });

    // Act
    const { code, out } = await cli("run", "analyze-key-policy", "--key", KEY_ARN, "--reason", REASON);

    // Assess
    expect(code).toBe(exit);
    expect(out).toContain(`analyze-key-policy on ${KEY_ARN}: NOTIFIED (severity ${severity})`);
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
  it("states the caller's STS identity when --stated-by is absent (a statement, not executedBy)", async () => {
    // Act
    const { code } = await cli(...REVOKE);

    // Assess
    expect(code).toBe(0);
    expect(sts).toHaveReceivedCommandOnce(GetCallerIdentityCommand);
    expect(invokedPayload()).toMatchObject({ statedBy: ON_CALL });
    expect(invokedPayload()).not.toHaveProperty("executedBy");
  });

  it("exits 2 when both --stated-by and its old name --requested-by are given, and invokes nothing", async () => {
    // Act
    const { code, err } = await cli(...REVOKE, "--stated-by", "alice", "--requested-by", "bob");

    // Assess
    expect(code).toBe(2);
    expect(err.split("\n")[0]).toContain("--requested-by is the old name of --stated-by");
    expect(lambda).not.toHaveReceivedAnyCommand();
    expect(sts).not.toHaveReceivedAnyCommand();
  });

  it("exits 2 with a hint to pass --stated-by when STS fails, and invokes nothing", async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).rejects(new Error("Could not load credentials from any providers"));

    // Act
    const { code, err } = await cli(...REVOKE);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain("pass --stated-by");
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
    ["no action", ["run", "--key", KEY_ARN, "--reason", REASON], "run needs an ACTION"],
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
  const FOREIGN_GRANT: FakeGrant = {
    GrantId: GRANT_ID,
    GranteePrincipal: "arn:aws:iam::444455556666:root",
    Operations: ["Decrypt"],
  };

  it("runs the action with the caller's credentials (RevokeGrant on KMS) and never invokes Lambda", async () => {
    // Prepare
    const key = fakeKey(kms, { grants: [FOREIGN_GRANT] });

    // Act
    const { code, out } = await cli(...REVOKE, "--stated-by", "alice", "--direct", "--topic-arn", TOPIC_ARN);

    // Assess
    expect(code).toBe(0);
    expect(kms).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(key.grants).toEqual([]);
    expect(lambda).not.toHaveReceivedAnyCommand();
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { TopicArn: TOPIC_ARN });
    expect(out).toContain(`revoke-grant on ${KEY_ARN}: REMEDIATED`);
    expect(out).toContain(`stated by alice: ${REASON}`);
    expect(out).toContain("notification: msg-direct");
  });

  it("claims no executedBy: outside SSM nobody's identity is proven, the caller only states one", async () => {
    // Prepare
    fakeKey(kms, { grants: [FOREIGN_GRANT] });

    // Act
    const { code, out } = await cli(...REVOKE, "--direct", "--json");

    // Assess
    expect(code).toBe(0);
    const result = JSON.parse(out) as RunbookResult;
    expect(result).not.toHaveProperty("executedBy");
    expect(result.statedBy).toBe(ON_CALL);
    expect(result.outcome).toBe("remediated");
  });

  it("publishes nothing and says so when no topic is given", async () => {
    // Prepare
    fakeKey(kms, { grants: [FOREIGN_GRANT] });

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
      "--stated-by",
      "alice",
      "--direct",
      "--json",
    );

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ outcome: "failed", actions: [{ status: "failed" }] });
    expect(mutations(kms)).toEqual([]);
    expect(lambda).not.toHaveReceivedAnyCommand();
  });

  it("exits 1 when KMS denies the action, after notifying the failure", async () => {
    // Prepare
    fakeKey(kms, { grants: [FOREIGN_GRANT] });
    const denied = Object.assign(new Error("not authorized to perform kms:RevokeGrant"), {
      name: "AccessDeniedException",
    });
    kms.on(RevokeGrantCommand).rejects(denied);

    // Act
    const { code, out } = await cli(...REVOKE, "--stated-by", "alice", "--direct", "--topic-arn", TOPIC_ARN);

    // Assess
    expect(code).toBe(1);
    expect(out).toContain(`revoke-grant on ${KEY_ARN}: FAILED`);
    expect(out).toContain("not authorized to perform kms:RevokeGrant");
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { TopicArn: TOPIC_ARN });
  });

  it("reports a public key policy as notified (nothing changed) and exits 1 on the critical finding", async () => {
    // Prepare
    fakeKey(kms, { policy: publicPolicy("111122223333") });

    // Act
    const { code, out } = await cli(
      "run",
      "analyze-key-policy",
      "--key",
      KEY_ARN,
      "--reason",
      REASON,
      "--stated-by",
      "alice",
      "--direct",
      "--json",
    );

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ outcome: "notified", severity: "critical", actions: [] });
    expect(mutations(kms)).toEqual([]);
  });
});

describe("kms-responder run: through the stack's SSM Automation document (the default)", () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => {
    ssm.reset();
    vi.stubEnv("KMS_RESPONDER_RUNBOOK_FUNCTION", undefined);
    setRunClients(() => ({
      lambda: new LambdaClient({}),
      sts: new STSClient({}),
      kms: new KMSClient({}),
      sns: new SNSClient({}),
      cloudTrail: new CloudTrailClient({}),
      ssm: new SSMClient({}),
      pollMs: 1,
    }));
  });

  it("starts <stack>-RevokeGrant with the request as parameters, waits, and prints who SSM says ran it", async () => {
    // Prepare
    ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-1" });
    ssm
      .on(GetAutomationExecutionCommand)
      .resolvesOnce({ AutomationExecution: { AutomationExecutionStatus: "InProgress" } })
      .resolves({
        AutomationExecution: {
          AutomationExecutionStatus: "Success",
          Outputs: { "InvokeRunbook.Payload": [JSON.stringify({ ...REVOKED, executedBy: ON_CALL })] },
        },
      });

    // Act
    const { code, out } = await cli(
      ...REVOKE,
      "--stated-by",
      "alice",
      "--ticket",
      "INC-4711",
      "--stack-name",
      "kms-prod",
    );

    // Assess
    expect(code).toBe(0);
    expect(ssm).toHaveReceivedCommandWith(StartAutomationExecutionCommand, {
      DocumentName: "kms-prod-RevokeGrant",
      Parameters: {
        KeyId: [KEY_ARN],
        Reason: [REASON],
        GrantId: [GRANT_ID],
        Ticket: ["INC-4711"],
        StatedBy: ["alice"],
        DryRun: ["false"],
      },
    });
    expect(ssm).toHaveReceivedCommandTimes(GetAutomationExecutionCommand, 2);
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    expect(out).toContain(`executed by ${ON_CALL} (SSM Automation)`);
  });

  it("a failed execution (the function failed the request after notifying) exits 1 with SSM's reason", async () => {
    ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-2" });
    ssm.on(GetAutomationExecutionCommand).resolves({
      AutomationExecution: {
        AutomationExecutionStatus: "Failed",
        FailureMessage: "ActionError: revoke-grant: RevokeGrant failed",
      },
    });
    const { code, err } = await cli(...REVOKE, "--stated-by", "alice");
    expect(code).toBe(1);
    expect(err).toContain("ended Failed: ActionError: revoke-grant: RevokeGrant failed");
  });

  it("a missing document says which and what to pass instead", async () => {
    const missing = new Error("Document kms-responder-RevokeGrant not found");
    missing.name = "AutomationDefinitionNotFoundException";
    ssm.on(StartAutomationExecutionCommand).rejects(missing);
    const { code, err } = await cli(...REVOKE, "--stated-by", "alice");
    expect(code).toBe(2);
    expect(err).toContain("the automation document kms-responder-RevokeGrant was not found");
    expect(err).toContain("--function-name");
    expect(err).toContain("--direct");
  });
});
