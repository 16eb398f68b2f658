/**
 * One SDK client per service at module scope, shared by every invocation of a warm function.
 * aws-sdk-client-mock intercepts them in tests. The SDK's standard retry strategy retries
 * ThrottlingException, DependencyTimeoutException and KMSInternalException with backoff
 * (kms-facts.md); `AWS_ENDPOINT_URL` points them at a local emulator.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";

const retry = { maxAttempts: 6, retryMode: "standard" } as const;

export const kms = new KMSClient(retry);
export const sns = new SNSClient(retry);
export const cloudTrail = new CloudTrailClient({ maxAttempts: 3 });

export interface Clients {
  kms: KMSClient;
  sns: SNSClient;
  cloudTrail: CloudTrailClient;
}

export const clients: Clients = { kms, sns, cloudTrail };
