/**
 * What the runbook tests share: a valid payload to vary, the deps `runRunbook` takes, the shared
 * stateful fake KMS (test/helpers/fake-kms.ts) holding the key KEY_ARN (alias ALIAS), and
 * readers for the commands and notifications the mocks received.
 */

import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import type { AwsClientStub } from "aws-sdk-client-mock";
import type { RunbookPayloadInput } from "../../functions/runbook/payload.js";
import type { RunbookDeps } from "../../functions/runbook/run.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { cloudTrailHistory } from "../../functions/shared/history.js";
import { type FakeGrant, type FakeKeyInit, FakeKms, type FakeKmsKey } from "../helpers/fake-kms.js";

export const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";
export const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
export const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
export const ALIAS = "alias/app-data";
export const GRANT_ID = "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a1b";
export const ON_CALL = "arn:aws:sts::111122223333:assumed-role/OnCall/alice";

/** The commands that change a key, its policy or its grants: none may be sent on a dry run or a refusal. */
export const MUTATING_KMS_COMMANDS = [
  RevokeGrantCommand,
  RetireGrantCommand,
  CreateGrantCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  CancelKeyDeletionCommand,
  ScheduleKeyDeletionCommand,
  EnableKeyRotationCommand,
  DisableKeyRotationCommand,
  PutKeyPolicyCommand,
] as const;

/** A valid payload for `action` (stated by on-call, with a reason and a ticket); override any field. */
export function payloadFor(
  action: RunbookPayloadInput["action"],
  extra: Partial<RunbookPayloadInput> = {},
): RunbookPayloadInput {
  return {
    action,
    keyId: KEY_ARN,
    reason: "key exposed in a public repository",
    statedBy: ON_CALL,
    ticket: "INC-4711",
    ...extra,
  };
}

/**
 * What `runRunbook` needs; the clients are fresh instances (the mocks intercept every instance).
 * `topicArn: null` is a run without a topic (`--direct` without `--topic-arn`).
 */
export function depsWith(config: ConfigInput = {}, topicArn: string | null = TOPIC_ARN): RunbookDeps {
  return {
    kms: new KMSClient({}),
    sns: new SNSClient({}),
    history: cloudTrailHistory(new CloudTrailClient({})),
    // No wait before an "already done" is tried again: the fake KMS is consistent at once.
    config: parseConfig({ confirmAfterSeconds: 0, ...config }),
    topicArn: topicArn ?? undefined,
  };
}

export type { FakeGrant };

/**
 * The fake KMS holding the key KEY_ARN (alias ALIAS), Enabled and customer managed unless `init`
 * says otherwise; `pageSize` sets ListGrants' page size. Returns the key with its fake.
 */
export function fakeKey(
  kms: AwsClientStub<KMSClient>,
  init: Partial<FakeKeyInit> & { pageSize?: number } = {},
  cloudTrail?: AwsClientStub<CloudTrailClient>,
): FakeKmsKey & { fake: FakeKms } {
  const { pageSize, ...rest } = init;
  const fake = new FakeKms().wire(kms, cloudTrail);
  if (pageSize) fake.pageSize.grants = pageSize;
  return Object.assign(fake.addKey({ aliases: [ALIAS], ...rest, arn: KEY_ARN }), { fake });
}

/** The names of the commands a mock received, in order (`DescribeKeyCommand`, ...). */
export function commandNames(stub: { calls(): ReadonlyArray<{ args: readonly unknown[] }> }): string[] {
  return stub
    .calls()
    .map(({ args: [command] }) =>
      typeof command === "object" && command !== null ? command.constructor.name : String(command),
    );
}

/** Every KMS command the mock received that changes a key, its policy or its grants. */
export function mutations(kms: AwsClientStub<KMSClient>): string[] {
  const names = new Set<string>(MUTATING_KMS_COMMANDS.map((command) => command.name));
  return commandNames(kms).filter((name) => names.has(name));
}

/** A published notification, decoded. */
export { onlyNotification, type Published, published } from "../helpers/notifications.js";

/** The KMS calls sent with `DryRun` set (KMS's DryRun is never used: a dry run plans from reads). */
export function dryRuns(kms: AwsClientStub<KMSClient>): string[] {
  return kms
    .calls()
    .filter(({ args: [command] }) => (command.input as { DryRun?: boolean }).DryRun !== undefined)
    .map(({ args: [command] }) => command.constructor.name);
}
