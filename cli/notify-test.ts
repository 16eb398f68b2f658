/**
 * `kms-responder notify-test`: one test notification through the deployed topic.
 *
 * The topic accepts `sns:Publish` only from the responder roles (a forged "remediated" message
 * must be refused), so by default the test goes through the deployed runbook function: it runs
 * `analyze-key-policy` on the stack's own notification key (read-only, changes nothing) and
 * publishes like any finding: through the encrypted topic, with the filter attributes, to every
 * subscriber. That also proves the notification key and the runbook role work. `--topic-arn`
 * publishes a `[TEST]` message with the caller's own credentials instead (a topic without the
 * stack's policy, or a local emulator).
 */

import { parseArgs } from "node:util";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ConfigError, describeError } from "../functions/shared/errors.js";
import { NOTIFICATION_SCHEMA } from "../functions/shared/notify.js";
import { AWS_OPTIONS, applyAwsFlags, isCredentialsError, isMissingRegion } from "./aws.js";
import { DEFAULT_STACK } from "./doctor.js";
import { type CliIo, UsageError } from "./io.js";

export const TEST_SUBJECT = "[TEST] kms-responder notification test";

export interface NotifyTestClients {
  sns: SNSClient;
  cloudFormation: CloudFormationClient;
  lambda?: LambdaClient;
}

/** The runbook payload of the default test: read-only, on the stack's own notification key. */
export function testPayload(notificationKeyArn: string): Record<string, unknown> {
  return {
    action: "analyze-key-policy",
    keyId: notificationKeyArn,
    reason: "kms-responder notify-test: checking that notifications reach every subscriber",
    statedBy: "kms-responder notify-test",
  };
}

/** The message: the same structure as a real notification (text and a versioned JSON document). */
export function testMessage(at: Date, topicArn: string): string {
  const text = [
    TEST_SUBJECT,
    "",
    `A test sent with kms-responder notify-test at ${at.toISOString()} through ${topicArn}.`,
    "Nothing happened to any key: if you read this, notifications reach you.",
  ].join("\n");
  const document = JSON.stringify({
    schema: NOTIFICATION_SCHEMA,
    test: true,
    incident: "test",
    severity: "info",
    outcome: "notified",
    title: "notification test",
    summary: "a test notification: nothing happened to any key",
    at: at.toISOString(),
  });
  return JSON.stringify({ default: text, email: text, sqs: document, lambda: document, https: document });
}

export async function notifyTestCommand(args: string[], io: CliIo): Promise<number> {
  const { topicFlag, stackName, region } = notifyTestArgs(args);
  const at = region ? { region } : {};
  const clients: NotifyTestClients = {
    sns: new SNSClient(at),
    cloudFormation: new CloudFormationClient(at),
    lambda: new LambdaClient(at),
  };
  if (!topicFlag) return viaRunbook(clients, at, stackName, io);
  return viaTopic(clients, topicFlag, io);
}

/** The command line checked: the topic flag (an SNS topic ARN), the stack name and the Region to use. */
function notifyTestArgs(args: string[]): { topicFlag?: string; stackName: string; region?: string } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "topic-arn": { type: "string" },
      "stack-name": { type: "string", default: DEFAULT_STACK },
      ...AWS_OPTIONS,
    },
  });
  if (positionals.length)
    throw new UsageError(`notify-test takes no arguments (got ${positionals.join(" ")})`);
  const flagProblems = applyAwsFlags(values);
  if (flagProblems.length) throw new UsageError(flagProblems.join("; "));
  const topicFlag = values["topic-arn"];
  if (topicFlag !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(topicFlag))
    throw new UsageError(`--topic-arn ${topicFlag} is not an SNS topic ARN`);
  // A topic ARN names its Region: publish there whatever Region is configured.
  const region = values.region ?? topicFlag?.split(":")[3];
  return { topicFlag, stackName: values["stack-name"], region };
}

/** The stack's outputs by key. */
async function stackOutputs(clients: NotifyTestClients, stackName: string): Promise<Record<string, string>> {
  try {
    const stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName })))
      .Stacks?.[0];
    return Object.fromEntries(
      (stack?.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (error) {
    // Neither says anything about the stack: main says them as they are.
    if (isCredentialsError(error) || isMissingRegion(error)) throw error;
    throw new ConfigError(
      `cannot read the stack ${stackName} (${describeError(error)}): pass --topic-arn or --stack-name`,
    );
  }
}

/** The default test: the deployed runbook function publishes through the stack's topic. */
async function viaRunbook(
  clients: NotifyTestClients,
  at: { region?: string },
  stackName: string,
  io: CliIo,
): Promise<number> {
  const outputs = await stackOutputs(clients, stackName);
  const functionName = outputs.RunbookFunctionName;
  const keyArn = outputs.NotificationKeyArn;
  if (!functionName || !keyArn) {
    throw new ConfigError(
      `the stack ${stackName} has no RunbookFunctionName/NotificationKeyArn output: pass --topic-arn`,
    );
  }
  const lambda = clients.lambda ?? new LambdaClient(at);
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(testPayload(keyArn))),
    }),
  );
  const body = out.Payload ? new TextDecoder().decode(out.Payload) : "";
  if (out.FunctionError) {
    io.err(`kms-responder notify-test: the runbook function failed: ${body.slice(0, 500)}`);
    return 1;
  }
  const id = notificationId(body);
  io.out(
    `test notification ${typeof id === "string" ? id : "(no id)"} published through ${outputs.NotificationTopicArn ?? "the stack's topic"} by the runbook function ${functionName}`,
  );
  io.out(
    'subject "[INFO] Runbook analyze-key-policy..." (or the key policy\'s findings): every subscriber should receive it',
  );
  return 0;
}

/** The runbook function's answer's notification id, if it says one. */
function notificationId(body: string): unknown {
  try {
    return (JSON.parse(body) as { notificationId?: unknown }).notificationId;
  } catch {
    // An unreadable answer: the function ran; say what is known.
    return undefined;
  }
}

/** `--topic-arn`: a `[TEST]` message published with the caller's own credentials. */
async function viaTopic(clients: NotifyTestClients, topicArn: string, io: CliIo): Promise<number> {
  const out = await clients.sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: TEST_SUBJECT,
      Message: testMessage(new Date(), topicArn),
      MessageStructure: "json",
      MessageAttributes: {
        severity: { DataType: "String", StringValue: "info" },
        incident: { DataType: "String", StringValue: "test" },
        outcome: { DataType: "String", StringValue: "notified" },
      },
    }),
  );
  io.out(`test notification ${out.MessageId ?? "(no id)"} published to ${topicArn}`);
  io.out("every subscriber should receive it; a subscription with a filter policy on severity may drop info");
  return 0;
}
