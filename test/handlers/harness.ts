/**
 * What the handler tests share: loading a handler with a given config (config and topic are read
 * at import, so every load starts from a fresh module registry), a fake KMS key that answers the
 * calls the executors make the way KMS does (kms-facts.md "Key states"), and a reader for the
 * notifications published to the SNS mock.
 */
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  KMSInvalidStateException,
  ListGrantsCommand,
  ListResourceTagsCommand,
  NotFoundException,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import type { AwsClientStub } from "aws-sdk-client-mock";
import { vi } from "vitest";
import type { HandlerResult } from "../../functions/shared/respond.js";

export const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

const HANDLERS = {
  "rogue-grant": () => import("../../functions/rogue-grant/index.js"),
  "key-deletion-scheduled": () => import("../../functions/key-deletion-scheduled/index.js"),
  "key-policy-violation": () => import("../../functions/key-policy-violation/index.js"),
  "key-disabled": () => import("../../functions/key-disabled/index.js"),
  "key-material-deleted": () => import("../../functions/key-material-deleted/index.js"),
  "key-rotation-disabled": () => import("../../functions/key-rotation-disabled/index.js"),
  "pending-deletion-key-used": () => import("../../functions/pending-deletion-key-used/index.js"),
} as const;

export type HandlerName = keyof typeof HANDLERS;
export type Handler = (event: unknown) => Promise<HandlerResult>;

/**
 * Sets the environment a deployed function gets and imports its handler from a fresh module
 * registry (a cold start). `config` is the `KMS_RESPONDER_CONFIG` document (a string is used as
 * is, to test invalid JSON or typos); `topic: null` leaves `NOTIFICATION_TOPIC_ARN` unset.
 * Call `vi.unstubAllEnvs()` after each test.
 */
export async function coldStart(
  name: HandlerName,
  config: object | string = {},
  topic: string | null = TOPIC_ARN,
  region = "us-east-1",
): Promise<Handler> {
  vi.resetModules();
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  // Lambda sets AWS_REGION: the Region whose keys the responder acts on.
  vi.stubEnv("AWS_REGION", region);
  vi.stubEnv("KMS_RESPONDER_CONFIG", typeof config === "string" ? config : JSON.stringify(config));
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", topic ?? undefined);
  const mod = await HANDLERS[name]();
  return mod.handler;
}

/** A KMS key as the fake sees it; tests read and change it. */
export interface FakeKey {
  arn: string;
  state: "Enabled" | "Disabled" | "PendingDeletion" | "PendingReplicaDeletion";
  tags: Record<string, string>;
  grants: Set<string>;
  rotation: boolean;
}

function invalidState(message: string): KMSInvalidStateException {
  return new KMSInvalidStateException({ message, $metadata: { httpStatusCode: 400 } });
}

/**
 * Wires the KMS mock to behave like one key: tags, state transitions (CancelKeyDeletion leaves it
 * Disabled; Enable/Disable on a key pending deletion answer KMSInvalidStateException), grants
 * (RevokeGrant of a missing grant answers NotFoundException) and rotation. Individual tests
 * override single commands with `kms.on(X)...` after calling this.
 */
export function fakeKey(kms: AwsClientStub<KMSClient>, key: Partial<FakeKey> & { arn: string }): FakeKey {
  const k: FakeKey = { state: "Enabled", tags: {}, grants: new Set(), rotation: false, ...key };
  const pending = () => k.state === "PendingDeletion" || k.state === "PendingReplicaDeletion";
  kms.on(ListResourceTagsCommand).callsFake(async () => ({
    Tags: Object.entries(k.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    Truncated: false,
  }));
  kms.on(DescribeKeyCommand).callsFake(async () => ({
    KeyMetadata: { KeyId: k.arn.split("/").pop(), Arn: k.arn, KeyState: k.state, KeyManager: "CUSTOMER" },
  }));
  kms.on(RevokeGrantCommand).callsFake(async (input: { GrantId?: string }) => {
    if (!input.GrantId || !k.grants.delete(input.GrantId)) {
      throw new NotFoundException({ message: `Grant ID ${input.GrantId} not found`, $metadata: {} });
    }
    return {};
  });
  kms.on(ListGrantsCommand).callsFake(async (input: { GrantId?: string }) => ({
    Grants: [...k.grants]
      .filter((g) => !input.GrantId || g === input.GrantId)
      .map((GrantId) => ({ GrantId })),
    Truncated: false,
  }));
  kms.on(CancelKeyDeletionCommand).callsFake(async () => {
    if (!pending()) throw invalidState(`${k.arn} is not pending deletion.`);
    k.state = "Disabled";
    return { KeyId: k.arn };
  });
  kms.on(EnableKeyCommand).callsFake(async () => {
    if (pending()) throw invalidState(`${k.arn} is pending deletion.`);
    k.state = "Enabled";
    return {};
  });
  kms.on(DisableKeyCommand).callsFake(async () => {
    if (pending()) throw invalidState(`${k.arn} is pending deletion.`);
    k.state = "Disabled";
    return {};
  });
  kms.on(EnableKeyRotationCommand).callsFake(async () => {
    k.rotation = true;
    return {};
  });
  kms.on(GetKeyRotationStatusCommand).callsFake(async () => ({ KeyRotationEnabled: k.rotation }));
  return k;
}

/** A published notification, decoded. */
export { onlyNotification, type Published, published } from "../helpers/notifications.js";
