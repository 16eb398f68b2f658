/**
 * `kms-responder notify-test`: one test notification through the deployed topic, shaped like a
 * real one (text for email, a JSON document for queues and functions, the three filter
 * attributes), so every subscriber, filter policy included, can be checked end to end.
 */

import { parseArgs } from "node:util";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ConfigError, describeError } from "../functions/shared/errors.js";
import { NOTIFICATION_SCHEMA } from "../functions/shared/notify.js";
import { DEFAULT_STACK } from "./doctor.js";
import { type CliIo, UsageError } from "./io.js";

export const TEST_SUBJECT = "[TEST] kms-responder notification test";

export interface NotifyTestClients {
  sns: SNSClient;
  cloudFormation: CloudFormationClient;
}

let clientFactory: ((region: string | undefined) => NotifyTestClients) | undefined;
/** Tests replace the clients. */
export function setNotifyTestClients(
  factory: ((region: string | undefined) => NotifyTestClients) | undefined,
): void {
  clientFactory = factory;
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
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "topic-arn": { type: "string" },
      "stack-name": { type: "string", default: DEFAULT_STACK },
      region: { type: "string" },
    },
  });
  if (positionals.length)
    throw new UsageError(`notify-test takes no arguments (got ${positionals.join(" ")})`);
  const topicFlag = values["topic-arn"];
  if (topicFlag !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(topicFlag))
    throw new UsageError(`--topic-arn ${topicFlag} is not an SNS topic ARN`);
  // A topic ARN names its Region: publish there whatever Region is configured.
  const region = values.region ?? topicFlag?.split(":")[3];
  const at = region ? { region } : {};
  const clients = clientFactory
    ? clientFactory(region)
    : { sns: new SNSClient(at), cloudFormation: new CloudFormationClient(at) };
  let topicArn = topicFlag;
  if (!topicArn) {
    const stackName = values["stack-name"];
    try {
      const stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName })))
        .Stacks?.[0];
      topicArn = stack?.Outputs?.find((o) => o.OutputKey === "NotificationTopicArn")?.OutputValue;
    } catch (error) {
      throw new ConfigError(
        `cannot read the stack ${stackName} (${describeError(error)}): pass --topic-arn or --stack-name`,
      );
    }
    if (!topicArn)
      throw new ConfigError(`the stack ${stackName} has no NotificationTopicArn output: pass --topic-arn`);
  }
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
