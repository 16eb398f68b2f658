/**
 * What the integration tests share: a fresh emulator world per test (moto reset, an SNS topic with
 * an SQS queue subscribed, raw delivery off so the envelope keeps Subject and attributes), cold
 * starts of the built bundles with the environment a deployed function gets, fixtures rewritten
 * for the real keys and grants, and the notifications read back from the queue.
 */
import { KMSClient, type Tag, TagResourceCommand } from "@aws-sdk/client-kms";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { inject } from "vitest";
import { type BundleName, type Handler, loadHandler } from "../../cli/drill/bundles.js";
import { type EventTarget, eventForKey } from "../../cli/drill/events.js";
import { createDrillKey, type DrillKey } from "../../cli/drill/scenarios.js";
import { resetMoto } from "../../emulator/moto.js";
import {
  createQueue,
  drainNotifications,
  type QueueRef,
  type ReceivedNotification,
} from "../../emulator/sqs.js";
import type { ConfigInput } from "../../functions/shared/config.js";
import type { JsonObject } from "../../functions/shared/json.js";
import { loadEvent } from "../helpers/fixtures.js";

/** The emulator's endpoint; "" when moto_server is missing and the tier is skipped. */
export const ENDPOINT = inject("motoEndpoint");
/** For `describe.skipIf(SKIP)`: global-setup.ts has already said loudly why. */
export const SKIP = !ENDPOINT;
export const REGION = "us-east-1";

const clientConfig = {
  endpoint: ENDPOINT || "http://127.0.0.1:1",
  region: REGION,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  maxAttempts: 1,
};

export interface World {
  /** The SDK client the tests build the world with and read end states back with. */
  kms: KMSClient;
  account: string;
  topicArn: string;
  queue: QueueRef;
}

/**
 * Resets moto and builds the notification plumbing: topic, queue, subscription. Call in
 * `beforeEach`: every test starts from an empty emulator.
 */
export async function freshWorld(): Promise<World> {
  await resetMoto(ENDPOINT);
  const kms = new KMSClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  const topic = await sns.send(new CreateTopicCommand({ Name: "kms-responder-notifications" }));
  if (!topic.TopicArn) throw new Error("CreateTopic returned no ARN");
  const queue = await createQueue(ENDPOINT, REGION, "kms-responder-subscriber");
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: "sqs", Endpoint: queue.arn }));
  const account = topic.TopicArn.split(":")[4] ?? "";
  return { kms, account, topicArn: topic.TopicArn, queue };
}

/** A customer managed key with an alias, optionally tagged. */
export async function createKey(world: World, name: string, tags: Tag[] = []): Promise<DrillKey> {
  const key = await createDrillKey(world.kms, name);
  if (tags.length) await world.kms.send(new TagResourceCommand({ KeyId: key.arn, Tags: tags }));
  return key;
}

/**
 * A cold start of a built bundle with the environment a deployed function gets (emulator
 * endpoint, Region, fake credentials, topic, config, and `env` on top). Each call loads a fresh
 * module. The environment is the process's: a test that sets more in `env` unsets it after.
 */
export function coldStart(
  name: BundleName,
  world: World,
  config: ConfigInput = {},
  env: Record<string, string | undefined> = {},
): Promise<Handler> {
  return loadHandler(name, {
    AWS_ENDPOINT_URL: ENDPOINT,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    NOTIFICATION_TOPIC_ARN: world.topicArn,
    // Enforce unless the config sets a mode: these tests pin what acting does to the emulator,
    // whose reads are consistent at once (a negative read is confirmed without waiting).
    KMS_RESPONDER_CONFIG: JSON.stringify({ mode: "enforce", confirmAfterSeconds: 0, ...config }),
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...env,
  });
}

/** A fixture (`events/<name>.json`) rewritten for a real key (and grant): what AWS would deliver. */
export function eventFor(name: string, target: EventTarget): JsonObject {
  return eventForKey(loadEvent(name) as unknown as JsonObject, target);
}

/** The notifications that arrived on the subscribed queue since the last read. */
export function notifications(world: World): Promise<ReceivedNotification[]> {
  return drainNotifications(world.queue);
}

/** The one notification that arrived since the last read; fails the test on zero or several. */
export async function onlyNotification(world: World): Promise<ReceivedNotification> {
  const received = await notifications(world);
  if (received.length !== 1) {
    throw new Error(
      `expected exactly one notification, got ${received.length}: ${received.map((n) => n.subject).join(" | ")}`,
    );
  }
  const [only] = received;
  if (!only) throw new Error("unreachable: one notification expected");
  return only;
}

/** The handler's result as the tests read it. */
export interface Result {
  outcome: string;
  skipped?: string;
  severity?: string;
  reasons?: string[];
  actions?: Array<{ type: string; status: string; verified?: boolean; detail: string }>;
}

export async function invoke(handler: Handler, event: unknown): Promise<Result> {
  return (await handler(event)) as Result;
}
