/**
 * What the handler tests share: loading a handler with a given config (config and topic are read
 * at import, so every load starts from a fresh module registry), the shared stateful fake KMS
 * (test/helpers/fake-kms.ts) wired onto the mocks, the grant a fixture claims (to seed the fake
 * with the grant as ListGrants would report it), and a reader for the published notifications.
 */
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import type { GrantOperation, KMSClient } from "@aws-sdk/client-kms";
import type { AwsClientStub } from "aws-sdk-client-mock";
import { vi } from "vitest";
import { normalise } from "../../functions/shared/event.js";
import type { HandlerResult } from "../../functions/shared/pipeline.js";
import { type FakeGrant, type FakeKeyInit, FakeKms, type FakeKmsKey } from "../helpers/fake-kms.js";

export const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

const HANDLERS = {
  "rogue-grant": () => import("../../functions/rogue-grant/index.js"),
  "key-deletion-scheduled": () => import("../../functions/key-deletion-scheduled/index.js"),
  "key-policy-violation": () => import("../../functions/key-policy-violation/index.js"),
  "key-disabled": () => import("../../functions/key-disabled/index.js"),
  "key-material-deleted": () => import("../../functions/key-material-deleted/index.js"),
  "key-rotation-disabled": () => import("../../functions/key-rotation-disabled/index.js"),
  "pending-deletion-key-used": () => import("../../functions/pending-deletion-key-used/index.js"),
  "key-rotation-weakened": () => import("../../functions/key-rotation-weakened/index.js"),
  "key-material-imported": () => import("../../functions/key-material-imported/index.js"),
  "custom-key-store-changed": () => import("../../functions/custom-key-store-changed/index.js"),
  "exemption-tampered": () => import("../../functions/exemption-tampered/index.js"),
  "key-deleted": () => import("../../functions/key-deleted/index.js"),
  "responder-tampered": () => import("../../functions/responder-tampered/index.js"),
} as const;

export type HandlerName = keyof typeof HANDLERS;
export type Handler = (event: unknown) => Promise<HandlerResult>;

/**
 * Sets the environment a deployed function gets and imports its handler from a fresh module
 * registry (a cold start). `config` is the `KMS_RESPONDER_CONFIG` document (a string is used as
 * is, to test invalid JSON or typos); `topic: null` leaves `NOTIFICATION_TOPIC_ARN` unset. The
 * topic's account is the responder's account (`responderFromEnv`).
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
  // An object config acts (enforce) unless it sets a mode: these tests pin what acting sends. The
  // fixtures were recorded days ago: no age limit unless a test sets one (test/handlers/delivery.test.ts).
  vi.stubEnv(
    "KMS_RESPONDER_CONFIG",
    typeof config === "string"
      ? config
      : JSON.stringify({ mode: "enforce", maxEventAgeMinutes: 0, confirmAfterSeconds: 0, ...config }),
  );
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", topic ?? undefined);
  const mod = await HANDLERS[name]();
  return mod.handler;
}

/** A fresh fake KMS (and CloudTrail history) behind the mocks. */
export function fakeKms(
  kms: AwsClientStub<KMSClient>,
  cloudTrail?: AwsClientStub<CloudTrailClient>,
): FakeKms {
  return new FakeKms().wire(kms, cloudTrail);
}

/** A fake KMS holding one key; returns the key (tests read and change it) and the fake. */
export function fakeKey(
  kms: AwsClientStub<KMSClient>,
  init: FakeKeyInit,
  cloudTrail?: AwsClientStub<CloudTrailClient>,
): FakeKmsKey & { fake: FakeKms } {
  const fake = fakeKms(kms, cloudTrail);
  return Object.assign(fake.addKey(init), { fake });
}

/** The grant a CreateGrant fixture claims, as ListGrants would list it if the claim is true. */
export function grantClaimedBy(raw: unknown): FakeGrant {
  const event = normalise(raw);
  const d = event?.detail;
  if (d?.kind !== "grant" || !d.grantId || !d.grantee)
    throw new Error("not a CreateGrant fixture with a grant id");
  return {
    GrantId: d.grantId,
    GranteePrincipal: d.grantee,
    // The fixture's operation names are KMS's own (CloudTrail records what the caller sent).
    Operations: d.operations as GrantOperation[],
    ...(d.retiringPrincipal && { RetiringPrincipal: d.retiringPrincipal }),
    ...(d.constraints && {
      Constraints: {
        ...(d.constraints.encryptionContextSubset && {
          EncryptionContextSubset: d.constraints.encryptionContextSubset,
        }),
        ...(d.constraints.encryptionContextEquals && {
          EncryptionContextEquals: d.constraints.encryptionContextEquals,
        }),
      },
    }),
    ...(d.name && { Name: d.name }),
  };
}

/** A published notification, decoded. */
export { onlyNotification, type Published, published } from "../helpers/notifications.js";
