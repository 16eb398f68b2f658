/**
 * The SNS calls that deliver a notification: the formatted notification (notify.ts) and the chat
 * message (chat.ts) are pure, so the command line's preview formats them without the SNS client;
 * the handlers publish them from here. The chat message comes formatted (chat.ts loads on demand).
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { ChatMessage } from "./chat.js";
import { PublishCommand } from "./clients/sns-sdk.js";
import type { Notification } from "./notify.js";

/** Publishes a formatted notification; returns the SNS message id. Throws what SNS throws. */
export async function publish(
  sns: SNSClient,
  topicArn: string,
  notification: Notification,
): Promise<string | undefined> {
  const out = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: notification.subject,
      Message: notification.message,
      MessageStructure: "json",
      MessageAttributes: notification.attributes,
    }),
  );
  return out.MessageId;
}

/** Publishes the chat message (plain JSON: the chat service reads the message body as is). */
export async function publishChat(
  sns: SNSClient,
  topicArn: string,
  message: ChatMessage,
): Promise<string | undefined> {
  const out = await sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(message) }));
  return out.MessageId;
}
