/**
 * One stateful fake of KMS (and of CloudTrail's LookupEvents history of its keys), shared by the
 * handler, runbook and reliability tests. It answers the calls the responders make the way KMS
 * does, including the errors that make actions idempotent:
 *
 * - many keys, found by ARN, id, alias name or alias ARN; AWS managed keys (`KeyManager: AWS`);
 * - key states: CancelKeyDeletion leaves the key Disabled and answers "is not pending deletion."
 *   on a key that is not; Enable/DisableKey on a key pending deletion answer
 *   KMSInvalidStateException; ScheduleKeyDeletion takes 7-30 days;
 * - tags (ListResourceTags paged with Limit/Marker), grants (ListGrants by GrantId or
 *   GranteePrincipal, paged; RevokeGrant of a missing grant answers NotFoundException, a DryRun
 *   that would succeed DryRunOperationException), the key policy (Get/PutKeyPolicy, policy name
 *   `default`), rotation, and the key's DisableKey/EnableKey history for LookupEvents;
 * - a command log of every call with its answer, and injected failures per operation.
 *
 * The model is transport-free (`call(operation, input)`): `wire()` puts it behind
 * aws-sdk-client-mock stubs; the reliability tests put it behind an HTTP request handler so the
 * SDK's retry middleware runs (test/reliability/fake-aws.ts).
 */

import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type GrantOperation,
  type KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-kms";
import type { AwsClientStub } from "aws-sdk-client-mock";

export type KeyState =
  | "Enabled"
  | "Disabled"
  | "PendingDeletion"
  | "PendingReplicaDeletion"
  | "PendingImport"
  | "Unavailable";

export interface FakeGrant {
  GrantId: string;
  GranteePrincipal: string;
  RetiringPrincipal?: string;
  Operations: GrantOperation[];
  Constraints?: {
    EncryptionContextSubset?: Record<string, string>;
    EncryptionContextEquals?: Record<string, string>;
  };
  Name?: string;
  IssuingAccount?: string;
}

/** One entry of a key's CloudTrail history; `errorCode` marks a failed call. */
export interface HistoryEntry {
  name: string;
  time: Date;
  errorCode?: string;
  /** The record's `requestParameters` (an EnableKeyRotation's period, an import's type, ...). */
  request?: Record<string, unknown>;
  /** The caller's ARN (an IAM user), when the test needs one. */
  caller?: string;
}

export interface FakeKmsKey {
  arn: string;
  id: string;
  account: string;
  region: string;
  state: KeyState;
  keyManager: "CUSTOMER" | "AWS";
  aliases: string[];
  tags: Record<string, string>;
  grants: FakeGrant[];
  policy: string;
  rotation: boolean;
  /** `AWS_KMS` by default; `EXTERNAL` for imported material (with `materials`). */
  origin: string;
  /** Imported materials as ListKeyRotations lists them (IncludeKeyMaterial), oldest first. */
  materials: Array<{ id: string; state: string; importState: string }>;
  /** GetKeyLastUsage's answer; undefined: the operation is denied (a role without the permission). */
  lastUsage: { operation: string; time: Date } | null | undefined;
  /** The rotation period; GetKeyRotationStatus reports it only while rotation is on. */
  rotationPeriodInDays: number;
  deletionDate: Date | undefined;
  /** Newest first, as LookupEvents answers. */
  history: HistoryEntry[];
}

export type FakeKeyInit = Partial<Omit<FakeKmsKey, "arn" | "id" | "account" | "region">> & { arn: string };

/** One call the fake answered: `error` is the error name when it answered with one. */
export interface LoggedCall {
  service: "kms" | "cloudtrail";
  operation: string;
  input: Readonly<Record<string, unknown>>;
  error?: string;
}

/** The KMS operations that change a key, its policy or its grants. */
export const MUTATING_OPERATIONS: ReadonlySet<string> = new Set([
  "RevokeGrant",
  "RetireGrant",
  "CreateGrant",
  "DisableKey",
  "EnableKey",
  "CancelKeyDeletion",
  "ScheduleKeyDeletion",
  "EnableKeyRotation",
  "DisableKeyRotation",
  "PutKeyPolicy",
  "TagResource",
  "UntagResource",
]);

/** An error shaped like the SDK's service exceptions: the `name` is KMS's error code. */
export class KmsError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? "server" : "client";
    this.$metadata = { httpStatusCode: status };
  }
}

/** The default key policy: the account root may do everything (what KMS sets when none is given). */
export function defaultPolicy(account: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "key-default-1",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  });
}

/** A policy that lets anyone use the key: critical for the analyser. */
export function publicPolicy(account: string): string {
  const policy = JSON.parse(defaultPolicy(account)) as { Statement: unknown[] };
  policy.Statement.push({
    Sid: "Public",
    Effect: "Allow",
    Principal: "*",
    Action: "kms:Decrypt",
    Resource: "*",
  });
  return JSON.stringify(policy);
}

const KEY_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function page<T>(items: readonly T[], marker: unknown, limit: number): { items: T[]; next?: string } {
  const start = Number(str(marker)?.replace("page-", "") ?? 0) || 0;
  const end = start + limit;
  return end < items.length
    ? { items: items.slice(start, end), next: `page-${end}` }
    : { items: items.slice(start) };
}

interface Failure {
  operation: string;
  error: () => Error;
  remaining: number;
}

export class FakeKms {
  readonly keys: FakeKmsKey[] = [];
  readonly log: LoggedCall[] = [];
  /** Default page sizes when a call gives no Limit (KMS's defaults are 50). */
  pageSize = { tags: 50, grants: 50, history: 50 };
  /**
   * How ListGrants answers a GrantId that is not on the key: an empty list, or NotFoundException
   * (the responders accept both as "gone").
   */
  missingGrant: "empty" | "not-found" = "empty";
  private failures: Failure[] = [];
  private grantCounter = 0;

  constructor(readonly defaultRegion = "us-east-1") {}

  addKey(init: FakeKeyInit): FakeKmsKey {
    const m = KEY_ARN.exec(init.arn);
    if (!m?.[2] || !m[3] || !m[4]) throw new Error(`not a key ARN: ${init.arn}`);
    const account = m[3];
    const key: FakeKmsKey = {
      state: "Enabled",
      keyManager: "CUSTOMER",
      aliases: [],
      tags: {},
      grants: [],
      policy: defaultPolicy(account),
      rotation: false,
      rotationPeriodInDays: 365,
      origin: "AWS_KMS",
      materials: [],
      lastUsage: undefined,
      deletionDate: undefined,
      history: [],
      ...init,
      id: m[4],
      account,
      region: m[2],
    };
    this.keys.push(key);
    return key;
  }

  /** The key a KeyId (ARN, id, alias name or alias ARN) names; NotFoundException like KMS. */
  find(ref: unknown, region = this.defaultRegion): FakeKmsKey {
    const text = str(ref) ?? "";
    const alias = ALIAS_ARN.exec(text);
    const found = alias
      ? this.keys.find(
          (k) => k.region === alias[1] && k.account === alias[2] && k.aliases.includes(alias[3] ?? ""),
        )
      : text.startsWith("arn:")
        ? this.keys.find((k) => k.arn === text)
        : text.startsWith("alias/")
          ? this.keys.find((k) => k.region === region && k.aliases.includes(text))
          : (this.keys.find((k) => k.id === text && k.region === region) ??
            this.keys.find((k) => k.id === text));
    if (!found) {
      throw new KmsError(
        "NotFoundException",
        text.includes("alias/") ? `Alias ${text} is not found.` : `Key '${text}' does not exist`,
      );
    }
    return found;
  }

  /** Answers the next `times` calls of `operation` with the error (default: every one). */
  fail(operation: string, error: Error | (() => Error), times = Number.POSITIVE_INFINITY): void {
    this.failures.push({
      operation,
      error: typeof error === "function" ? error : () => error,
      remaining: times,
    });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** The inputs of the calls of one operation, in order (answered or not). */
  sent(operation: string): Array<Readonly<Record<string, unknown>>> {
    return this.log.filter((c) => c.operation === operation).map((c) => c.input);
  }

  /** The operations called, in order. */
  operations(): string[] {
    return this.log.map((c) => c.operation);
  }

  /** The mutating KMS operations called (attempted), in order. */
  mutations(): string[] {
    return this.log
      .filter((c) => c.service === "kms" && MUTATING_OPERATIONS.has(c.operation))
      .map((c) => c.operation);
  }

  /** One call: logs it, applies an injected failure, else answers from the model. */
  call(
    service: "kms" | "cloudtrail",
    operation: string,
    input: Record<string, unknown>,
    region?: string,
  ): unknown {
    const entry: LoggedCall = { service, operation, input: { ...input } };
    this.log.push(entry);
    try {
      const failure = this.failures.find((f) => f.operation === operation && f.remaining > 0);
      if (failure) {
        failure.remaining--;
        throw failure.error();
      }
      return service === "kms" ? this.kms(operation, input, region) : this.cloudTrail(operation, input);
    } catch (error) {
      entry.error = error instanceof Error ? error.name : String(error);
      throw error;
    }
  }

  /**
   * Puts the fake behind aws-sdk-client-mock stubs (after `stub.reset()`). Tests that need one
   * odd answer use `fail()`, so the log stays complete.
   */
  wire(kms: AwsClientStub<KMSClient>, cloudTrail?: AwsClientStub<CloudTrailClient>): this {
    const commands = [
      CancelKeyDeletionCommand,
      CreateGrantCommand,
      DescribeKeyCommand,
      DisableKeyCommand,
      DisableKeyRotationCommand,
      EnableKeyCommand,
      EnableKeyRotationCommand,
      GetKeyPolicyCommand,
      GetKeyLastUsageCommand,
      GetKeyRotationStatusCommand,
      ListAliasesCommand,
      ListKeyRotationsCommand,
      ListGrantsCommand,
      ListResourceTagsCommand,
      PutKeyPolicyCommand,
      RetireGrantCommand,
      RevokeGrantCommand,
      ScheduleKeyDeletionCommand,
      TagResourceCommand,
      UntagResourceCommand,
    ];
    // The stub's typing is per command; the model takes any input object.
    const stub = kms as unknown as {
      on(command: unknown): { callsFake(fn: (input: Record<string, unknown>) => unknown): unknown };
    };
    for (const command of commands) {
      const operation = command.name.replace(/Command$/, "");
      stub
        .on(command)
        .callsFake(async (input: Record<string, unknown>) => this.call("kms", operation, input));
    }
    cloudTrail
      ?.on(LookupEventsCommand)
      .callsFake(async (input) => this.call("cloudtrail", "LookupEvents", { ...input }) as never);
    return this;
  }

  private metadata(key: FakeKmsKey): Record<string, unknown> {
    return {
      KeyId: key.id,
      Arn: key.arn,
      AWSAccountId: key.account,
      KeyState: key.state,
      Enabled: key.state === "Enabled",
      KeyManager: key.keyManager,
      KeyUsage: "ENCRYPT_DECRYPT",
      Origin: key.origin,
      ...(key.materials.find((m) => m.state === "CURRENT") && {
        CurrentKeyMaterialId: key.materials.find((m) => m.state === "CURRENT")?.id,
      }),
      MultiRegion: key.id.startsWith("mrk-"),
      ...(key.deletionDate && { DeletionDate: key.deletionDate }),
    };
  }

  private kms(operation: string, input: Record<string, unknown>, region?: string): unknown {
    if (operation === "ListAliases") {
      const owner = input.KeyId === undefined ? undefined : this.find(input.KeyId, region);
      return {
        Aliases: this.keys
          .filter((k) => !owner || k === owner)
          .flatMap((k) => k.aliases.map((AliasName) => ({ AliasName, TargetKeyId: k.id }))),
        Truncated: false,
      };
    }
    const key = this.find(input.KeyId, region);
    const mutating =
      MUTATING_OPERATIONS.has(operation) && operation !== "RevokeGrant" && operation !== "RetireGrant";
    if (mutating && key.keyManager === "AWS") {
      // Nobody may change an AWS managed key: its policy allows only the service.
      throw new KmsError("AccessDeniedException", `not authorized to perform kms:${operation} on ${key.arn}`);
    }
    return this.keyOperation(operation, key, input);
  }

  /** An operation on one key the caller may call it on. */
  private keyOperation(operation: string, key: FakeKmsKey, input: Record<string, unknown>): unknown {
    const pending = key.state === "PendingDeletion" || key.state === "PendingReplicaDeletion";
    const invalid = (message: string) => new KmsError("KMSInvalidStateException", `${key.arn} ${message}`);
    switch (operation) {
      case "DescribeKey":
        return { KeyMetadata: this.metadata(key) };
      case "ListResourceTags":
        return this.listResourceTags(key, input);
      case "TagResource":
      case "UntagResource":
        return this.changeTags(operation, key, input);
      case "ListGrants":
        return this.listGrants(key, input);
      case "CreateGrant":
        return this.createGrant(key, input);
      case "RevokeGrant":
      case "RetireGrant":
        return this.removeGrant(key, input);
      case "CancelKeyDeletion":
        if (!pending) throw invalid("is not pending deletion.");
        // KMS leaves the key Disabled after a cancelled deletion.
        key.state = "Disabled";
        key.deletionDate = undefined;
        return { KeyId: key.arn };
      case "ScheduleKeyDeletion":
        if (pending) throw invalid("is pending deletion.");
        return this.scheduleDeletion(key, input);
      case "EnableKey":
        if (pending) throw invalid("is pending deletion.");
        key.state = "Enabled";
        return {};
      case "DisableKey":
        if (pending) throw invalid("is pending deletion.");
        key.state = "Disabled";
        return {};
      case "GetKeyPolicy":
        this.policyName(input);
        return { Policy: key.policy, PolicyName: "default" };
      case "PutKeyPolicy":
        return this.putKeyPolicy(key, input);
      case "ListKeyRotations":
        return {
          Rotations: key.materials.map((m) => ({
            KeyId: key.id,
            KeyMaterialId: m.id,
            KeyMaterialState: m.state,
            ImportState: m.importState,
          })),
          Truncated: false,
        };
      case "GetKeyLastUsage":
        return this.keyLastUsage(key);
      case "GetKeyRotationStatus":
        return key.rotation
          ? { KeyRotationEnabled: true, RotationPeriodInDays: key.rotationPeriodInDays }
          : { KeyRotationEnabled: false };
      case "EnableKeyRotation":
      case "DisableKeyRotation":
        if (pending) throw invalid("is pending deletion.");
        return this.setRotation(operation, key, input);
      default:
        throw new KmsError("UnsupportedOperationException", `the fake does not model ${operation}`);
    }
  }

  /** TagResource and UntagResource. */
  private changeTags(operation: string, key: FakeKmsKey, input: Record<string, unknown>): unknown {
    if (operation === "TagResource") {
      for (const t of (input.Tags as Array<{ TagKey: string; TagValue: string }> | undefined) ?? []) {
        key.tags[t.TagKey] = t.TagValue;
      }
    } else for (const k of (input.TagKeys as string[] | undefined) ?? []) delete key.tags[k];
    return {};
  }

  /** EnableKeyRotation and DisableKeyRotation of a key not pending deletion. */
  private setRotation(operation: string, key: FakeKmsKey, input: Record<string, unknown>): unknown {
    key.rotation = operation === "EnableKeyRotation";
    // Without a period, EnableKeyRotation sets the API's default, whatever the key had.
    if (key.rotation) key.rotationPeriodInDays = num(input.RotationPeriodInDays) ?? 365;
    return {};
  }

  private listResourceTags(key: FakeKmsKey, input: Record<string, unknown>): unknown {
    const tags = Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    const p = page(tags, input.Marker, num(input.Limit) ?? this.pageSize.tags);
    return p.next
      ? { Tags: p.items, Truncated: true, NextMarker: p.next }
      : { Tags: p.items, Truncated: false };
  }

  private listGrants(key: FakeKmsKey, input: Record<string, unknown>): unknown {
    const grantId = str(input.GrantId);
    const grantee = str(input.GranteePrincipal);
    const grants = key.grants.filter(
      (g) => (!grantId || g.GrantId === grantId) && (!grantee || g.GranteePrincipal === grantee),
    );
    if (grantId && grants.length === 0 && this.missingGrant === "not-found") {
      throw new KmsError("NotFoundException", `Grant ID ${grantId} not found`);
    }
    const listed = grants.map((g) => ({
      KeyId: key.arn,
      IssuingAccount: `arn:aws:iam::${key.account}:root`,
      ...g,
    }));
    const p = page(listed, input.Marker, num(input.Limit) ?? this.pageSize.grants);
    return p.next
      ? { Grants: p.items, Truncated: true, NextMarker: p.next }
      : { Grants: p.items, Truncated: false };
  }

  private createGrant(key: FakeKmsKey, input: Record<string, unknown>): unknown {
    if (input.DryRun)
      throw new KmsError(
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun flag is set.",
      );
    const GrantId = `${(++this.grantCounter).toString(16).padStart(64, "0")}`;
    key.grants.push({
      GrantId,
      GranteePrincipal: str(input.GranteePrincipal) ?? "",
      Operations: (input.Operations as GrantOperation[] | undefined) ?? [],
      ...(str(input.RetiringPrincipal) && { RetiringPrincipal: str(input.RetiringPrincipal) }),
      ...(str(input.Name) && { Name: str(input.Name) }),
    });
    return { GrantId, GrantToken: `token-${GrantId}` };
  }

  /** RevokeGrant and RetireGrant. */
  private removeGrant(key: FakeKmsKey, input: Record<string, unknown>): unknown {
    const grantId = str(input.GrantId) ?? "";
    if (!/^[A-Za-z0-9]+$/.test(grantId))
      throw new KmsError("InvalidGrantIdException", `Invalid grant ID ${grantId}`);
    const index = key.grants.findIndex((g) => g.GrantId === grantId);
    if (index < 0) throw new KmsError("NotFoundException", `Grant ID ${grantId} not found`);
    if (input.DryRun)
      throw new KmsError(
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun flag is set.",
      );
    key.grants.splice(index, 1);
    return {};
  }

  /** ScheduleKeyDeletion of a key not pending deletion. */
  private scheduleDeletion(key: FakeKmsKey, input: Record<string, unknown>): unknown {
    const days = num(input.PendingWindowInDays) ?? 30;
    if (days < 7 || days > 30) throw new KmsError("ValidationException", "PendingWindowInDays must be 7-30");
    key.state = "PendingDeletion";
    key.deletionDate = new Date(Date.now() + days * 86_400_000);
    return {
      KeyId: key.arn,
      DeletionDate: key.deletionDate,
      KeyState: key.state,
      PendingWindowInDays: days,
    };
  }

  private putKeyPolicy(key: FakeKmsKey, input: Record<string, unknown>): unknown {
    this.policyName(input);
    const policy = str(input.Policy) ?? "";
    try {
      JSON.parse(policy);
    } catch {
      // KMS rejects a document that is not JSON before judging it.
      throw new KmsError("MalformedPolicyDocumentException", "The policy is not valid JSON");
    }
    key.policy = policy;
    return {};
  }

  private keyLastUsage(key: FakeKmsKey): unknown {
    if (key.lastUsage === undefined)
      throw new KmsError("AccessDeniedException", "not authorized to perform: kms:GetKeyLastUsage");
    return {
      KeyId: key.id,
      TrackingStartDate: new Date("2026-01-01T00:00:00Z"),
      ...(key.lastUsage && {
        KeyLastUsage: { Operation: key.lastUsage.operation, Timestamp: key.lastUsage.time },
      }),
    };
  }

  /** KMS keys have one policy, named `default`; another name is not found. */
  private policyName(input: Record<string, unknown>): void {
    const name = str(input.PolicyName);
    if (name !== undefined && name !== "default")
      throw new KmsError("NotFoundException", `Policy ${name} not found`);
  }

  private cloudTrail(operation: string, input: Record<string, unknown>): unknown {
    if (operation !== "LookupEvents") {
      throw new KmsError("UnsupportedOperationException", `the fake does not model ${operation}`);
    }
    const attributes = Array.isArray(input.LookupAttributes) ? (input.LookupAttributes as unknown[]) : [];
    const first = attributes[0] as { AttributeValue?: unknown } | undefined;
    const arn = str(first?.AttributeValue);
    const key = this.keys.find((k) => k.arn === arn);
    const events = (key?.history ?? []).map((h) => ({
      EventName: h.name,
      EventTime: h.time,
      EventSource: "kms.amazonaws.com",
      CloudTrailEvent: JSON.stringify({
        eventName: h.name,
        eventTime: h.time.toISOString(),
        eventSource: "kms.amazonaws.com",
        awsRegion: key?.region,
        recipientAccountId: key?.account,
        ...(h.caller && { userIdentity: { type: "IAMUser", arn: h.caller, accountId: key?.account } }),
        ...(h.request && { requestParameters: h.request }),
        resources: [{ type: "AWS::KMS::Key", ARN: key?.arn }],
        ...(h.errorCode && { errorCode: h.errorCode }),
      }),
    }));
    const p = page(events, input.NextToken, num(input.MaxResults) ?? this.pageSize.history);
    return p.next ? { Events: p.items, NextToken: p.next } : { Events: p.items };
  }
}
