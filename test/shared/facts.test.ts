/**
 * readFacts: what a handler reads about the key before deciding again. Independent reads go out
 * together (one round trip before the remediating call), an alias is resolved first, a failed read
 * lands in readErrors (the deciders then hold their actions), and a grant that is gone is `null`.
 */
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  NotFoundException,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parseKeyArn } from "../../functions/shared/arn.js";
import { lastUsage, readFacts } from "../../functions/shared/facts.js";
import type { HistoryReader } from "../../functions/shared/history-reader.js";

const kmsMock = mockClient(KMSClient);
const kms = new KMSClient({ region: "us-east-1" });

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY = parseKeyArn(KEY_ARN);
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [] });

/** Lets every pending promise callback and timer-free continuation run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

beforeEach(() => {
  kmsMock.reset();
});

describe("readFacts: reads in parallel", () => {
  it("sends every read before any of them answers", async () => {
    // Prepare: each read answers only when the test says so.
    const describe = deferred<object>();
    const tags = deferred<object>();
    const grants = deferred<object>();
    const policy = deferred<object>();
    kmsMock.on(DescribeKeyCommand).callsFake(() => describe.promise);
    kmsMock.on(ListResourceTagsCommand).callsFake(() => tags.promise);
    kmsMock.on(ListGrantsCommand).callsFake(() => grants.promise);
    kmsMock.on(GetKeyPolicyCommand).callsFake(() => policy.promise);

    // Act
    const reading = readFacts(kms, {
      names: ["key", "tags", "grant", "policy"],
      key: KEY,
      keyHint: undefined,
      grantId: GRANT_ID,
    });
    await settle();
    const sentBeforeAnyAnswer = kmsMock.calls().length;
    describe.resolve({
      KeyMetadata: { KeyId: "k", Arn: KEY_ARN, KeyState: "Enabled", KeyManager: "CUSTOMER" },
    });
    tags.resolve({ Tags: [{ TagKey: "team", TagValue: "payments" }] });
    grants.resolve({ Grants: [] });
    policy.resolve({ Policy: POLICY });
    const { facts } = await reading;

    // Assess
    expect(sentBeforeAnyAnswer).toBe(4);
    expect(facts).toEqual({
      keyDescription: "",
      keyState: "Enabled",
      keyManager: "CUSTOMER",
      tags: { team: "payments" },
      grant: null,
      policy: POLICY,
    });
  });

  it("reads the history beside the KMS reads, not after them", async () => {
    // Prepare
    const history = deferred<{ prior: { state: "enabled"; detail: string } }>();
    const asked: string[] = [];
    const reader: HistoryReader = {
      read: (keyArn, before) => {
        asked.push(`${keyArn} ${before}`);
        return history.promise;
      },
    };
    const describe = deferred<object>();
    kmsMock.on(DescribeKeyCommand).callsFake(() => describe.promise);
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });

    // Act
    const reading = readFacts(kms, {
      names: ["key", "tags", "history"],
      key: KEY,
      keyHint: undefined,
      eventTime: "2026-11-28T18:31:12Z",
      history: reader,
    });
    await settle();
    const historyAskedBeforeDescribe = asked.length;
    describe.resolve({ KeyMetadata: { KeyId: "k", KeyState: "PendingDeletion" } });
    history.resolve({ prior: { state: "enabled", detail: "enabled before" } });
    const { facts } = await reading;

    // Assess
    expect(historyAskedBeforeDescribe).toBe(1);
    expect(asked).toEqual([`${KEY_ARN} 2026-11-28T18:31:12Z`]);
    expect(facts).toMatchObject({ keyState: "PendingDeletion", prior: { state: "enabled" } });
  });

  it("reads only what it is asked for", async () => {
    // Prepare
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });

    // Act
    const { facts } = await readFacts(kms, { names: ["rotation"], key: KEY, keyHint: undefined });

    // Assess
    expect(facts).toEqual({ rotationEnabled: true });
    expect(kmsMock.calls().map((c) => c.args[0].constructor.name)).toEqual(["GetKeyRotationStatusCommand"]);
  });

  it("keeps the rotation period the rotation read returns", async () => {
    // Prepare
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });

    // Act
    const { facts } = await readFacts(kms, { names: ["rotation"], key: KEY, keyHint: undefined });

    // Assess
    expect(facts).toEqual({ rotationEnabled: true, rotationPeriodInDays: 90 });
  });

  it("reads an incident's own fact with its own reader, by name, and records its failure like any read", async () => {
    // Prepare: a reader the shared table does not have
    const seen: string[] = [];
    const readers = {
      "key-spec": {
        permissions: ["kms:DescribeKey"],
        read: async ({ arn }: { arn: string }) => {
          seen.push(arn);
          return { keyState: "Enabled" };
        },
      },
      broken: {
        permissions: [],
        read: async () => {
          throw new Error("AccessDenied");
        },
      },
    };

    // Act
    const { facts } = await readFacts(kms, {
      names: ["key-spec", "broken"],
      readers,
      key: KEY,
      keyHint: undefined,
    });

    // Assess
    expect(seen).toEqual([KEY_ARN]);
    expect(facts).toEqual({ keyState: "Enabled", readErrors: { broken: "Error: AccessDenied" } });
    expect(kmsMock.calls()).toEqual([]);
  });

  it("reads no grant without a grant id", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "k", KeyState: "Enabled" } });

    // Act
    await readFacts(kms, { names: ["key", "grant"], key: KEY, keyHint: undefined });

    // Assess
    expect(kmsMock).not.toHaveReceivedCommand(ListGrantsCommand);
  });
});

describe("readFacts: an alias is resolved first", () => {
  it("resolves the alias with DescribeKey, then reads by the key ARN", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand, { KeyId: "alias/payments" }).resolves({
      KeyMetadata: { KeyId: "k", Arn: KEY_ARN, KeyState: "Enabled", KeyManager: "CUSTOMER" },
    });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: POLICY });

    // Act
    const { key, facts } = await readFacts(kms, {
      names: ["key", "tags", "policy"],
      key: undefined,
      keyHint: "alias/payments",
    });

    // Assess
    expect(key).toEqual({ ...KEY, alias: "alias/payments" });
    expect(facts).toEqual({
      keyState: "Enabled",
      keyManager: "CUSTOMER",
      keyDescription: "",
      tags: {},
      policy: POLICY,
    });
    const calls = kmsMock.calls().map((c) => c.args[0].input as { KeyId?: string });
    expect(calls[0]).toEqual({ KeyId: "alias/payments" });
    expect(calls.slice(1).map((c) => c.KeyId)).toEqual([KEY_ARN, KEY_ARN]);
    // DescribeKey is not sent twice: the resolution already read the state.
    expect(kmsMock.commandCalls(DescribeKeyCommand)).toHaveLength(1);
  });

  it("records a failed resolution as readErrors.key and reads nothing else", async () => {
    // Prepare
    kmsMock
      .on(DescribeKeyCommand)
      .rejects(new NotFoundException({ message: "Alias not found", $metadata: {} }));

    // Act
    const { key, facts } = await readFacts(kms, {
      names: ["key", "tags"],
      key: undefined,
      keyHint: "alias/gone",
    });

    // Assess
    expect(key).toBeUndefined();
    expect(facts).toEqual({ readErrors: { key: expect.stringContaining("NotFoundException") } });
    expect(kmsMock.calls()).toHaveLength(1);
  });
});

describe("readFacts: failures and missing grants", () => {
  it("a failed read goes to readErrors under its name; the others still arrive", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "k", KeyState: "Enabled" } });
    kmsMock
      .on(GetKeyPolicyCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));

    // Act
    const { facts } = await readFacts(kms, { names: ["key", "policy"], key: KEY, keyHint: undefined });

    // Assess
    expect(facts).toEqual({
      keyDescription: "",
      keyState: "Enabled",
      readErrors: { policy: "ThrottlingException: Rate exceeded" },
    });
  });

  it("ListGrants answering NotFoundException means the grant is gone: null, not an error", async () => {
    // Prepare
    kmsMock
      .on(ListGrantsCommand)
      .rejects(new NotFoundException({ message: "Grant not found", $metadata: {} }));

    // Act
    const { facts } = await readFacts(kms, {
      names: ["grant"],
      key: KEY,
      keyHint: undefined,
      grantId: GRANT_ID,
    });

    // Assess
    expect(facts).toEqual({ grant: null });
    expect(kmsMock).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
  });

  it("a listed grant becomes a GrantFact (constraints as a flag)", async () => {
    // Prepare
    kmsMock.on(ListGrantsCommand).resolves({
      Grants: [
        {
          GrantId: GRANT_ID,
          GranteePrincipal: "arn:aws:iam::111122223333:role/orders",
          RetiringPrincipal: "arn:aws:iam::111122223333:role/janitor",
          Operations: ["Decrypt"],
          Constraints: { EncryptionContextSubset: { app: "orders" } },
          Name: "orders",
        },
      ],
    });

    // Act
    const { facts } = await readFacts(kms, {
      names: ["grant"],
      key: KEY,
      keyHint: undefined,
      grantId: GRANT_ID,
    });

    // Assess
    expect(facts.grant).toEqual({
      grantee: "arn:aws:iam::111122223333:role/orders",
      retiringPrincipal: "arn:aws:iam::111122223333:role/janitor",
      operations: ["Decrypt"],
      constrained: true,
      name: "orders",
    });
  });

  it("any other ListGrants error is a failed read", async () => {
    // Prepare
    kmsMock
      .on(ListGrantsCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));

    // Act
    const { facts } = await readFacts(kms, {
      names: ["grant"],
      key: KEY,
      keyHint: undefined,
      grantId: GRANT_ID,
    });

    // Assess
    expect(facts).toEqual({ readErrors: { grant: "AccessDeniedException: denied" } });
  });
});

describe("readFacts: what the notification names the key by (notice), in the same round", () => {
  it("with the key read: ListAliases beside it, the description from its DescribeKey (sent once)", async () => {
    // Prepare
    const describe = deferred<object>();
    kmsMock.on(DescribeKeyCommand).callsFake(() => describe.promise);
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [{ AliasName: "alias/payments" }, {}] });

    // Act
    const reading = readFacts(kms, { names: ["key", "notice"], key: KEY, keyHint: undefined });
    await settle();
    const sentBeforeAnyAnswer = kmsMock.calls().map((c) => c.args[0].constructor.name);
    describe.resolve({ KeyMetadata: { KeyId: "k", KeyState: "Enabled", Description: "payments" } });
    const { facts } = await reading;

    // Assess
    expect(sentBeforeAnyAnswer).toEqual(["DescribeKeyCommand", "ListAliasesCommand"]);
    expect(kmsMock.commandCalls(DescribeKeyCommand)).toHaveLength(1);
    expect(kmsMock).toHaveReceivedCommandWith(ListAliasesCommand, { KeyId: KEY_ARN });
    expect(facts).toEqual({ keyState: "Enabled", keyDescription: "payments", aliases: ["alias/payments"] });
  });

  it("without the key read: its own DescribeKey and ListAliases; failures leave them unknown, never a read error", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "k", KeyState: "Disabled" } });
    kmsMock
      .on(ListAliasesCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));

    // Act
    const { facts } = await readFacts(kms, { names: ["notice"], key: KEY, keyHint: undefined });

    // Assess: the description only (the state is not a fact this incident asked for)
    expect(
      kmsMock
        .calls()
        .map((c) => c.args[0].constructor.name)
        .sort(),
    ).toEqual(["DescribeKeyCommand", "ListAliasesCommand"]);
    expect(facts).toEqual({ keyDescription: "" });
  });

  it("a key resolved from its alias: the resolution's DescribeKey gives the description", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: "k", Arn: KEY_ARN, KeyState: "Enabled", Description: "payments" },
    });
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [{ AliasName: "alias/payments" }] });

    // Act
    const { facts } = await readFacts(kms, { names: ["notice"], key: undefined, keyHint: "alias/payments" });

    // Assess
    expect(kmsMock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      "DescribeKeyCommand",
      "ListAliasesCommand",
    ]);
    expect(facts).toMatchObject({ keyDescription: "payments", aliases: ["alias/payments"] });
  });
});

describe("lastUsage", () => {
  const ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  it("gives up after its wait and says unknown: a throttled read never holds back the action", async () => {
    // Arrange: a GetKeyLastUsage that answers only when its request is aborted.
    const neverAnswers = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
        new Promise<never>((_resolve, reject) => {
          options?.abortSignal?.addEventListener("abort", () =>
            reject(Object.assign(new Error("Request aborted"), { name: "AbortError" })),
          );
        }),
    } as unknown as Parameters<typeof lastUsage>[0];

    // Act
    const said = await lastUsage(neverAnswers, ARN, 20);

    // Assert
    expect(said).toMatch(/^unknown \(AbortError/);
  });
});
