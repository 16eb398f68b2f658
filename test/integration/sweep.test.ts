/**
 * The built sweep bundle (what Lambda runs) against moto, invoked as the single-account schedule
 * invokes it: its record in a real S3 bucket, its notifications through the real topic to the
 * test queue. The first sweep notifies each finding once; a second sweep of the same state
 * notifies nothing new; a fixed problem leaves the record; a new problem is notified alone.
 */
import {
  CreateGrantCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  type KMSClient,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import { loadHandler } from "../../cli/drill/bundles.js";
import { ENDPOINT, freshWorld, notifications, REGION, SKIP, type World } from "./harness.js";

const BUCKET = "kms-responder-sweep";
const OUTSIDER = "999988887777";
const s3 = new S3Client({
  endpoint: ENDPOINT || "http://127.0.0.1:1",
  region: REGION,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  forcePathStyle: true,
  maxAttempts: 1,
});

/** A cold start of the sweep with the environment the stack gives it. */
function sweepHandler(world: World) {
  return loadHandler("scan", {
    AWS_ENDPOINT_URL: ENDPOINT,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    NOTIFICATION_TOPIC_ARN: world.topicArn,
    KMS_RESPONDER_CONFIG: "{}",
    SCAN_BUCKET: BUCKET,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
}

async function key(kms: KMSClient, rotation = true): Promise<string> {
  const id = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? "";
  if (rotation) await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
  return id;
}

/** The schedule's event: EventBridge's Scheduled Event. */
const SCHEDULED = { "detail-type": "Scheduled Event", source: "aws.events", detail: {} };

describe.skipIf(SKIP)("the scheduled sweep on moto", () => {
  let world: World;
  beforeEach(async () => {
    world = await freshWorld();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  it("notifies each finding once; a second sweep notifies nothing new; a new problem alone", async () => {
    // Prepare: ten clean keys, one with rotation off, one with a grant to an outside account.
    for (let i = 0; i < 10; i++) await key(world.kms);
    const rotationOff = await key(world.kms, false);
    const granted = await key(world.kms);
    const grant = await world.kms.send(
      new CreateGrantCommand({
        KeyId: granted,
        GranteePrincipal: `arn:aws:iam::${OUTSIDER}:role/contractor`,
        Operations: ["Decrypt"],
        Constraints: { EncryptionContextSubset: { app: "billing" } },
      }),
    );
    const handler = await sweepHandler(world);

    // Act + Assess: the first sweep.
    const first = (await handler(SCHEDULED)) as Record<string, unknown>;
    expect(first).toMatchObject({ keys: 12, findings: 2, notified: 2, unchanged: 0 });
    const firstBatch = await notifications(world);
    expect(firstBatch.map((n) => n.attributes.incident).sort()).toEqual([
      "key-rotation-disabled",
      "rogue-grant",
    ]);
    // Nothing changed on the keys: the sweep reports only by default.
    const grants = await world.kms.send(new ListGrantsCommand({ KeyId: granted }));
    expect(grants.Grants?.map((g) => g.GrantId)).toEqual([grant.GrantId]);

    // The second sweep of the same state.
    const second = (await handler(SCHEDULED)) as Record<string, unknown>;
    expect(second).toMatchObject({ findings: 2, notified: 0, unchanged: 2 });
    expect(await notifications(world)).toEqual([]);

    // The grant is revoked, a public policy appears elsewhere: one new notification.
    await world.kms.send(new RevokeGrantCommand({ KeyId: granted, GrantId: grant.GrantId }));
    const root = {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${world.account}:root` },
      Action: "kms:*",
      Resource: "*",
    };
    const open = { Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" };
    await world.kms.send(
      new PutKeyPolicyCommand({
        KeyId: rotationOff,
        PolicyName: "default",
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [root, open] }),
      }),
    );
    const third = (await handler(SCHEDULED)) as Record<string, unknown>;
    expect(third).toMatchObject({ findings: 2, notified: 1, unchanged: 1, resolved: 1 });
    const thirdBatch = await notifications(world);
    expect(thirdBatch.map((n) => n.attributes.incident)).toEqual(["key-policy-violation"]);
    const record = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `notified/${world.account}/${REGION}.json` }),
    );
    const kept = Object.keys(JSON.parse((await record.Body?.transformToString()) ?? "{}") as object);
    expect(kept.map((k) => k.split("/").pop()).sort()).toEqual([
      "key-policy-violation",
      "key-rotation-disabled",
    ]);
  });
});
