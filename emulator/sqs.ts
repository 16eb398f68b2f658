/**
 * Just enough SQS to read the responder's notifications back from a queue subscribed to the topic
 * on the local emulator: CreateQueue, GetQueueAttributes, ReceiveMessage, DeleteMessage over the
 * SQS JSON protocol. The product never reads SQS, so it has no SQS client dependency; this is a
 * drill and test tool for moto only. moto does not check signatures: the Authorization header
 * only carries the credential scope moto uses to pick the service on its single port.
 */
import { isObject, type JsonObject, str } from "../../shared/model.js";

export interface QueueRef {
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

function authorization(region: string): string {
  return `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/sqs/aws4_request, SignedHeaders=host, Signature=0`;
}

async function call(endpoint: string, region: string, action: string, body: JsonObject): Promise<JsonObject> {
  const res = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": `AmazonSQS.${action}`,
      Authorization: authorization(region),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`SQS ${action} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  const parsed: unknown = text ? JSON.parse(text) : {};
  return isObject(parsed) ? parsed : {};
}

export async function createQueue(endpoint: string, region: string, name: string): Promise<QueueRef> {
  const created = await call(endpoint, region, "CreateQueue", { QueueName: name });
  const url = str(created.QueueUrl);
  if (!url) throw new Error("SQS CreateQueue returned no QueueUrl");
  const attrs = await call(endpoint, region, "GetQueueAttributes", {
    QueueUrl: url,
    AttributeNames: ["QueueArn"],
  });
  const arn = isObject(attrs.Attributes) ? str(attrs.Attributes.QueueArn) : undefined;
  if (!arn) throw new Error("SQS GetQueueAttributes returned no QueueArn");
  return { url, arn };
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
 * Every notification waiting on the queue, oldest first as far as SQS orders them; each is
 * deleted once read so the next read sees only newer ones. moto delivers during Publish, so a
 * read right after the handler returned sees its notification.
 */
export async function drainNotifications(
  endpoint: string,
  region: string,
  queue: QueueRef,
): Promise<ReceivedNotification[]> {
  const out: ReceivedNotification[] = [];
  for (;;) {
    const received = await call(endpoint, region, "ReceiveMessage", {
      QueueUrl: queue.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
    });
    const messages = Array.isArray(received.Messages) ? received.Messages.filter(isObject) : [];
    if (messages.length === 0) return out;
    for (const m of messages) {
      const decoded = decodeNotification(str(m.Body) ?? "");
      if (decoded) out.push(decoded);
      const handle = str(m.ReceiptHandle);
      if (handle)
        await call(endpoint, region, "DeleteMessage", { QueueUrl: queue.url, ReceiptHandle: handle });
    }
  }
}
