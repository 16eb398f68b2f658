/**
 * The runbook Lambda (functions/runbook/index.ts): who ran it comes from SSM Automation's
 * ExecutedBy (read with the execution id the document passes), only executions of this stack's
 * runbook documents are trusted, and a failed request fails the invocation after notifying.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DisableKeyCommand, GetKeyPolicyCommand, KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  type AutomationExecutionStatus,
  GetAutomationExecutionCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KmsError, publicPolicy } from "../helpers/fake-kms.js";
import { fakeKey, KEY_ID, ON_CALL, onlyNotification, payloadFor, TOPIC_ARN } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const ssm = mockClient(SSMClient);
const cloudTrail = mockClient(CloudTrailClient);
const dynamodb = mockClient(DynamoDBClient);

const PREFIX = "kms-responder-Runbook";
const EXECUTION_ID = "5f2a1c3e-8b7d-4e6f-9a0b-1c2d3e4f5a6b";
const ALICE = "arn:aws:sts::111122223333:assumed-role/SecurityOnCall/alice";

beforeEach(() => {
  kms.reset();
  sns.reset();
  ssm.reset();
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
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
  vi.stubEnv("KMS_RESPONDER_CONFIG", "{}");
  vi.stubEnv("RUNBOOK_DOCUMENT_PREFIX", PREFIX);
  const { handler } = await import("../../functions/runbook/index.js");
  return handler;
}

/** SSM's record of the execution: which document ran, who ran it, its state and parameters. */
function execution(
  documentName: string,
  executedBy: string,
  state: { status?: AutomationExecutionStatus; keyId?: string } = {},
): void {
  ssm.on(GetAutomationExecutionCommand, { AutomationExecutionId: EXECUTION_ID }).resolves({
    AutomationExecution: {
      AutomationExecutionId: EXECUTION_ID,
      DocumentName: documentName,
      ExecutedBy: executedBy,
      AutomationExecutionStatus: state.status ?? "InProgress",
      Parameters: { KeyId: [state.keyId ?? payloadFor("disable-key").keyId], Reason: ["x"] },
    },
  });
}

describe("runbook handler: who ran it", () => {
  it("reads ExecutedBy from SSM with the execution id and shows it as Run by, the typed name as Stated by", async () => {
    // Prepare
    fakeKey(kms);
    execution(`${PREFIX}-DisableKey`, ALICE);
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(ssm).toHaveReceivedCommandExactlyOnceWith(GetAutomationExecutionCommand, {
      AutomationExecutionId: EXECUTION_ID,
    });
    expect(result).toMatchObject({ executedBy: ALICE, statedBy: ON_CALL, outcome: "remediated" });
    const note = onlyNotification(sns);
    expect(note.text).toContain(`Run by: ${ALICE}`);
    expect(note.text).toContain(`Stated by: ${ON_CALL} (as typed by the caller, not verified)`);
    expect(note.doc.request).toMatchObject({ executedBy: ALICE, statedBy: ON_CALL });
  });

  it("an approved execution of the action's approval document is proof like the runbook's own", async () => {
    // Prepare: a responder in approval mode started it; an approver approved; its runbook step runs now.
    fakeKey(kms);
    const responderRole = "arn:aws:sts::111122223333:assumed-role/kms-responder-rogue-grant/fn";
    execution(`${PREFIX}-Approved-DisableKey`, responderRole);
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(result).toMatchObject({ executedBy: responderRole, outcome: "remediated" });
    // Used once: the same execution cannot serve a second request.
    await expect(handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }))).rejects.toThrow(
      `execution ${EXECUTION_ID} was already used for a runbook request`,
    );
  });

  it("an approval document of another action proves nothing", async () => {
    // Prepare
    fakeKey(kms);
    execution(`${PREFIX}-Approved-EnableKey`, ALICE);
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(result.executedBy).toBeUndefined();
  });

  it("an execution of a document that is not one of this stack's runbooks proves nothing: Run by unknown", async () => {
    // Prepare: a direct caller passes the id of someone else's execution of another document.
    fakeKey(kms);
    execution("SomeoneElses-Document", ALICE);
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(result.executedBy).toBeUndefined();
    const note = onlyNotification(sns);
    expect(note.text).not.toContain(ALICE);
    expect(note.text).toContain("Run by: unknown");
    expect(note.doc.request?.executedBy).toBeUndefined();
  });

  it.each([
    ["a finished execution", `${PREFIX}-DisableKey`, { status: "Success" as const }],
    ["an execution of another action's document", `${PREFIX}-EnableKey`, {}],
    [
      "an execution for another key",
      `${PREFIX}-DisableKey`,
      { keyId: "arn:aws:kms:us-east-1:111122223333:key/other" },
    ],
  ])("%s proves nothing: Run by unknown", async (_label, document, state) => {
    // Prepare
    fakeKey(kms);
    execution(document, ALICE, state);
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(result.executedBy).toBeUndefined();
    expect(onlyNotification(sns).text).not.toContain(ALICE);
  });

  it("an execution proves one request: a second request with its id is refused and does nothing", async () => {
    // Prepare: no table (a function deployed by hand): the claim holds in this environment.
    fakeKey(kms);
    execution(`${PREFIX}-DisableKey`, ALICE);
    const handler = await coldStart();
    await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));
    kms.resetHistory();
    sns.resetHistory();
    ssm.resetHistory();

    // Act
    const second = handler(payloadFor("enable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    await expect(second).rejects.toThrow(
      `automationExecutionId: execution ${EXECUTION_ID} was already used for a runbook request: request refused, nothing was done`,
    );
    expect(kms).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it("without an execution id SSM is not asked and Run by says unknown", async () => {
    // Prepare
    fakeKey(kms);
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key"));

    // Assess
    expect(ssm).not.toHaveReceivedAnyCommand();
    expect(result.executedBy).toBeUndefined();
    expect(onlyNotification(sns).text).toContain("Run by: unknown (not run through SSM Automation)");
  });

  it("an execution SSM cannot read leaves Run by unknown and still runs the request", async () => {
    // Prepare
    fakeKey(kms);
    ssm
      .on(GetAutomationExecutionCommand)
      .rejects(new Error("AccessDeniedException: ssm:GetAutomationExecution"));
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(result).toMatchObject({ outcome: "remediated" });
    expect(result.executedBy).toBeUndefined();
  });
});

describe("runbook handler: an execution is used once, across every environment (the stack's table)", () => {
  const TABLE = "kms-responder-RunbookExecutions";
  beforeEach(() => dynamodb.reset());

  /** A cold start with the table the stack names. */
  async function withTable() {
    vi.stubEnv("RUNBOOK_EXECUTIONS_TABLE", TABLE);
    return coldStart();
  }

  it("claims the execution id with a conditional write before reading or acting", async () => {
    // Prepare
    fakeKey(kms);
    execution(`${PREFIX}-DisableKey`, ALICE);
    dynamodb.on(PutItemCommand).resolves({});
    const handler = await withTable();

    // Act
    const result = await handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    expect(result).toMatchObject({ executedBy: ALICE, outcome: "remediated" });
    expect(dynamodb).toHaveReceivedCommandExactlyOnceWith(PutItemCommand, {
      TableName: TABLE,
      Item: expect.objectContaining({
        executionId: { S: EXECUTION_ID },
        usedFor: { S: `disable-key ${payloadFor("disable-key").keyId}` },
      }),
      ConditionExpression: "attribute_not_exists(executionId)",
    });
    const expiresAt = Number(dynamodb.commandCalls(PutItemCommand)[0]?.args[0].input.Item?.expiresAt?.N);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it("an id another environment claimed already is refused: no SSM read, no KMS call, no notification", async () => {
    // Prepare: the first request ran in another Lambda environment, so this one has no memory of it.
    fakeKey(kms);
    execution(`${PREFIX}-DisableKey`, ALICE);
    dynamodb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }),
      );
    const handler = await withTable();

    // Act
    const outcome = handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    await expect(outcome).rejects.toThrow(
      `automationExecutionId: execution ${EXECUTION_ID} was already used for a runbook request: request refused, nothing was done`,
    );
    expect(kms).not.toHaveReceivedAnyCommand();
    expect(ssm).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  it("a claim that cannot be written refuses the request (it cannot know the id is unused)", async () => {
    // Prepare
    fakeKey(kms);
    execution(`${PREFIX}-DisableKey`, ALICE);
    const denied = new Error("not authorized to perform: dynamodb:PutItem");
    denied.name = "AccessDeniedException";
    dynamodb.on(PutItemCommand).rejects(denied);
    const handler = await withTable();

    // Act
    const outcome = handler(payloadFor("disable-key", { automationExecutionId: EXECUTION_ID }));

    // Assess
    await expect(outcome).rejects.toThrow(
      /could not be recorded as used \(AccessDeniedException: not authorized/,
    );
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  it("a request without an execution id claims nothing", async () => {
    // Prepare
    fakeKey(kms);
    const handler = await withTable();

    // Act
    const result = await handler(payloadFor("disable-key"));

    // Assess
    expect(result.outcome).toBe("remediated");
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });
});

describe("runbook handler: one failure policy with the responders", () => {
  it("a runbook action KMS denies fails the invocation, after publishing a failed notification", async () => {
    // Prepare
    const key = fakeKey(kms);
    key.fake.fail(
      "DisableKey",
      new KmsError("AccessDeniedException", "not authorized to perform kms:DisableKey"),
    );
    const handler = await coldStart();

    // Act
    const outcome = handler(payloadFor("disable-key"));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("AccessDeniedException"),
    });
    expect(kms).toHaveReceivedCommandExactlyOnceWith(DisableKeyCommand, { KeyId: KEY_ID });
    expect(key.state).toBe("Enabled");
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("failed");
    expect(note.subject).toContain("ACTION FAILED");
  });

  it("analyze-key-policy on a public policy: outcome notified, severity critical, nothing changed, resolves", async () => {
    // Prepare
    const key = fakeKey(kms, { policy: publicPolicy("111122223333") });
    const handler = await coldStart();

    // Act
    const result = await handler(payloadFor("analyze-key-policy"));

    // Assess
    expect(kms).toHaveReceivedCommandOnce(GetKeyPolicyCommand);
    expect(key.fake.mutations()).toEqual([]);
    expect(result).toMatchObject({ outcome: "notified", severity: "critical" });
    expect(onlyNotification(sns).attributes).toMatchObject({ outcome: "notified", severity: "critical" });
  });
});
