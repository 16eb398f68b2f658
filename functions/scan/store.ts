/**
 * The sweep's record of what it notified, in the stack's bucket (`notified.ts` says what it holds).
 * Loaded on demand, with the S3 client: the client is the largest package of the sweep's bundle
 * (141 KiB), and a cold start that reads it before the first key is judged pays for it twice over
 * the KMS reads' own start. One client per container, made on the first read.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { RETRY } from "../shared/clients/retry.js";
import { awsErrorName } from "../shared/errors.js";
import { type Notified, objectKey } from "./notified.js";

let client: S3Client | undefined;

/** The S3 client of the sweep's bucket, made once per container. */
export function bucketClient(): S3Client {
  client ??= new S3Client(RETRY);
  return client;
}

/** The record, or an empty one the first time. @throws on any other S3 error (the sweep fails, nothing is notified twice). */
export async function readNotified(
  s3: S3Client,
  bucket: string,
  account: string,
  region: string,
): Promise<Notified> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(account, region) }));
    const text = (await out.Body?.transformToString()) ?? "{}";
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as Notified) : {};
  } catch (error) {
    if (awsErrorName(error) === "NoSuchKey") return {};
    throw error;
  }
}

export async function writeNotified(
  s3: S3Client,
  bucket: string,
  account: string,
  region: string,
  notified: Notified,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: objectKey(account, region),
      Body: JSON.stringify(notified),
      ContentType: "application/json",
    }),
  );
}
