/** The S3 client at module scope (see clients/kms.ts): the sweep's record of what it notified, and its results. */
import { S3Client } from "@aws-sdk/client-s3";
import { RETRY } from "./retry.js";

export const s3 = new S3Client(RETRY);
