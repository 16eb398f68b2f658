/**
 * What the runbook tests share: a valid payload to vary, the deps `runRunbook` takes, a fake KMS
 * key that answers the calls the runbook makes the way KMS does (kms-facts.md "Key states"), and
 * readers for the commands and notifications the mocks received.
 */

import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  KMSInvalidStateException,
  ListGrantsCommand,
  type ListGrantsCommandInput,
  NotFoundException,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  type RevokeGrantCommandInput,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import type { AwsClientStub } from "aws-sdk-client-mock";
import type { RunbookPayloadInput } from "../../functions/runbook/payload.js";
import type { RunbookDeps } from "../../functions/runbook/run.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";

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

/** A valid payload for `action` (requested by on-call, with a reason and a ticket); override any field. */
export function payloadFor(
  action: RunbookPayloadInput["action"],
  extra: Partial<RunbookPayloadInput> = {},
): RunbookPayloadInput {
  return {
    action,
    keyId: KEY_ARN,
    reason: "key exposed in a public repository",
    requestedBy: ON_CALL,
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
    cloudTrail: new CloudTrailClient({}),
    config: parseConfig(config),
    topicArn: topicArn ?? undefined,
  };
}

export interface FakeGrant {
  GrantId: string;
  GranteePrincipal: string;
  Operations?: string[];
}

/** A KMS key as the fake sees it; tests read and change it. */
export interface FakeKey {
  state: "Enabled" | "Disabled" | "PendingDeletion" | "PendingReplicaDeletion";
  keyManager: "CUSTOMER" | "AWS";
  grants: FakeGrant[];
  /** ListGrants page size (without a GrantId filter), to exercise Truncated/NextMarker. */
  pageSize: number;
  rotation: boolean;
}

function invalidState(message: string): KMSInvalidStateException {
  return new KMSInvalidStateException({ message, $metadata: { httpStatusCode: 400 } });
}

/**
 * Wires the KMS mock to behave like the key KEY_ARN: DescribeKey (by id, ARN or alias), state
 * transitions (CancelKeyDeletion leaves it Disabled; Enable/Disable on a key pending deletion and
 * CancelKeyDeletion on one that is not answer KMSInvalidStateException), grants (RevokeGrant of a
 * missing grant answers NotFoundException, with DryRun one that exists answers
 * DryRunOperationException; ListGrants pages with Truncated/NextMarker) and rotation. Tests
 * override single commands with `kms.on(X)` after calling this.
 */
export function fakeKey(kms: AwsClientStub<KMSClient>, key: Partial<FakeKey> = {}): FakeKey {
  const k: FakeKey = {
    state: "Enabled",
    keyManager: "CUSTOMER",
    grants: [],
    pageSize: 100,
    rotation: false,
    ...key,
  };
  const pending = () => k.state === "PendingDeletion" || k.state === "PendingReplicaDeletion";
  kms.on(DescribeKeyCommand).callsFake(async () => ({
    KeyMetadata: {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      AWSAccountId: "111122223333",
      KeyState: k.state,
      KeyManager: k.keyManager,
    },
  }));
  kms.on(RevokeGrantCommand).callsFake(async (input: RevokeGrantCommandInput) => {
    const index = k.grants.findIndex((g) => g.GrantId === input.GrantId);
    if (index < 0) {
      throw new NotFoundException({ message: `Grant ID ${input.GrantId} not found`, $metadata: {} });
    }
    if (input.DryRun) throw dryRunOk();
    k.grants.splice(index, 1);
    return {};
  });
  kms.on(ListGrantsCommand).callsFake(async (input: ListGrantsCommandInput) => {
    if (input.GrantId) {
      return { Grants: k.grants.filter((g) => g.GrantId === input.GrantId), Truncated: false };
    }
    const start = input.Marker ? Number(input.Marker.replace("page-", "")) : 0;
    const end = start + k.pageSize;
    return end < k.grants.length
      ? { Grants: k.grants.slice(start, end), Truncated: true, NextMarker: `page-${end}` }
      : { Grants: k.grants.slice(start, end), Truncated: false };
  });
  kms.on(CancelKeyDeletionCommand).callsFake(async () => {
    if (!pending()) throw invalidState(`${KEY_ARN} is not pending deletion.`);
    k.state = "Disabled";
    return { KeyId: KEY_ARN };
  });
  kms.on(EnableKeyCommand).callsFake(async () => {
    if (pending()) throw invalidState(`${KEY_ARN} is pending deletion.`);
    k.state = "Enabled";
    return {};
  });
  kms.on(DisableKeyCommand).callsFake(async () => {
    if (pending()) throw invalidState(`${KEY_ARN} is pending deletion.`);
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

/** What KMS answers a DryRun request that would succeed. */
export function dryRunOk(): Error {
  const error = new Error("The request would have succeeded, but the DryRun flag is set.");
  error.name = "DryRunOperationException";
  return error;
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
