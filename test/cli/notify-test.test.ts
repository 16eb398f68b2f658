/**
 * notify-test without --topic-arn goes through the deployed runbook function: the topic admits
 * only the responder roles, so the caller's own Publish would be refused on AWS. The function runs
 * analyze-key-policy on the stack's own notification key (read-only) and publishes like a finding.
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { notifyTestCommand, testPayload } from "../../cli/notify-test.js";
import { parsePayload } from "../../functions/runbook/payload.js";

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/0b5c2f6e-8d1a-4c3b-9e7f-6a5b4c3d2e1f";
const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const sns = mockClient(SNSClient);

/** A Lambda response payload as the SDK types it (bytes that can also say themselves as text). */
function blob(text: string) {
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cli: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

afterEach(() => {
  cfn.reset();
  lambda.reset();
  sns.reset();
});

function useMocks(): void {
  // aws-sdk-client-mock intercepts every client instance the command creates.
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: "kms-responder",
        CreationTime: new Date(),
        StackStatus: "CREATE_COMPLETE",
        Outputs: [
          { OutputKey: "RunbookFunctionName", OutputValue: "kms-responder-runbook" },
          { OutputKey: "NotificationKeyArn", OutputValue: KEY_ARN },
          { OutputKey: "NotificationTopicArn", OutputValue: "arn:aws:sns:us-east-1:111122223333:t" },
        ],
      },
    ],
  });
}

describe("notify-test through the runbook function", () => {
  it("invokes the runbook with a valid read-only payload on the notification key, and publishes nothing itself", async () => {
    // Prepare
    useMocks();
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: blob(JSON.stringify({ notificationId: "m-1" })),
    });
    const { out, cli } = io();

    // Act
    const code = await notifyTestCommand([], cli as never);

    // Assess
    expect(code).toBe(0);
    const sent = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(sent?.FunctionName).toBe("kms-responder-runbook");
    const payload = JSON.parse(new TextDecoder().decode(sent?.Payload as Uint8Array));
    expect(payload).toEqual(testPayload(KEY_ARN));
    // The runbook accepts it as is (a read-only action).
    expect(parsePayload(payload)).toMatchObject({
      action: "analyze-key-policy",
      keyId: KEY_ARN,
      dryRun: false,
    });
    expect(sns.calls()).toHaveLength(0);
    expect(out[0]).toContain("test notification m-1 published");
  });

  it("exits 1 and says why when the runbook function fails", async () => {
    useMocks();
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: blob('{"errorMessage":"notification failed: AuthorizationError"}'),
    });
    const { err, cli } = io();
    expect(await notifyTestCommand([], cli as never)).toBe(1);
    expect(err.join("\n")).toContain("notification failed: AuthorizationError");
  });
});
