/**
 * Reads the responder's notifications back from a queue subscribed to the topic on the local
 * emulator, with the SDK's own SQS client. The product never reads SQS (no Lambda bundle holds
 * this client); the drill and the integration tests do, against moto only.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { isObject, type JsonObject, str } from "../functions/shared/json.js";

export interface QueueRef {
  /** The client that created the queue (pointed at the emulator); reads use it too. */
  sqs: SQSClient;
  url: string;
  arn: string;
}

/** A notification as an SQS subscriber (raw delivery off) receives it: the SNS envelope, decoded. */
export interface ReceivedNotification {
  subject: string | undefined;
  /** `MessageAttributes` of the envelope, as `name -> value`. */
  attributes: Record<string, string>;
  /** The `sqs` member of the published message: the JSON document. */
  document: JsonObject;
  topicArn: string | undefined;
}

/** An SQS client for the emulator at `endpoint`: fake credentials, no retries. */
export function emulatorSqs(endpoint: string, region: string): SQSClient {
  return new SQSClient({
    endpoint,
    region,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
}

/** Creates a queue on the emulator and reads its ARN (what an SNS subscription names). */
export async function createQueue(endpoint: string, region: string, name: string): Promise<QueueRef> {
  const sqs = emulatorSqs(endpoint, region);
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = created.QueueUrl;
  if (!url) throw new Error("SQS CreateQueue returned no QueueUrl");
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error("SQS GetQueueAttributes returned no QueueArn");
  return { sqs, url, arn };
}

/** Decodes one SNS envelope (raw message delivery off), or undefined when it is not one. */
export function decodeNotification(body: string): ReceivedNotification | undefined {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(envelope) || envelope.Type !== "Notification") return undefined;
  let document: unknown;
  try {
    document = JSON.parse(str(envelope.Message) ?? "");
  } catch {
    document = undefined;
  }
  const attributes: Record<string, string> = {};
  if (isObject(envelope.MessageAttributes)) {
    for (const [name, value] of Object.entries(envelope.MessageAttributes)) {
      const v = isObject(value) ? str(value.Value) : undefined;
      if (v !== undefined) attributes[name] = v;
    }
  }
  return {
    subject: str(envelope.Subject),
    attributes,
    document: isObject(document) ? document : {},
    topicArn: str(envelope.TopicArn),
  };
}

/**
 * Every notification waiting on the queue, oldest first as far as SQS orders them; each batch is
 * deleted once read so the next read sees only newer ones. moto delivers during Publish, so a
 * read right after the handler returned sees its notification.
 */
export async function drainNotifications(queue: QueueRef): Promise<ReceivedNotification[]> {
  const out: ReceivedNotification[] = [];
  for (;;) {
    const received = await queue.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return out;
    for (const m of messages) {
      const decoded = decodeNotification(m.Body ?? "");
      if (decoded) out.push(decoded);
    }
    const entries = messages.flatMap((m, i) =>
      m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
    );
    if (entries.length)
      await queue.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
  }
}
