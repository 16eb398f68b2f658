/**
 * The sweep's reads: every page of ListKeys, ListAliases, ListGrants and ListResourceTags; AWS
 * managed keys recognised from DescribeKey and not read further; a failed read recorded, never
 * thrown; reads an incident does not need not made; every call takes a turn from the budget.
 */
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type Budget,
  keysPerSecondBound,
  PER_KEY_OPERATIONS,
  READ_QUOTAS,
  requestBudget,
  UNLIMITED,
} from "../../functions/scan/budget.js";
import { listAliases, listKeyIds, readKeyState } from "../../functions/scan/read.js";
import { scanRegion } from "../../functions/scan/scan.js";
import { parseConfig } from "../../functions/shared/config.js";

const kmsMock = mockClient(KMSClient);
const kms = new KMSClient({ region: "eu-west-1" });
const ACCOUNT = "111122223333";
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const arn = (n: number) => `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${id(n)}`;
const ROOT_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
  ],
});

function customerKey(n: number, over: Record<string, unknown> = {}) {
  return {
    KeyMetadata: {
      KeyId: id(n),
      Arn: arn(n),
      KeyState: "Enabled",
      KeyManager: "CUSTOMER",
      KeySpec: "SYMMETRIC_DEFAULT",
      Origin: "AWS_KMS",
      ...over,
    },
  } as const;
}

function counting(): Budget & { taken: number } {
  const b = {
    taken: 0,
    take() {
      b.taken++;
      return Promise.resolve();
    },
  };
  return b;
}

beforeEach(() => {
  kmsMock.reset();
});

describe("paging", () => {
  it("ListKeys: every page, following NextMarker while Truncated", async () => {
    kmsMock
      .on(ListKeysCommand, { Marker: undefined })
      .resolves({ Keys: [{ KeyId: id(1) }, { KeyId: id(2) }], Truncated: true, NextMarker: "m1" })
      .on(ListKeysCommand, { Marker: "m1" })
      .resolves({ Keys: [{ KeyId: id(3) }], Truncated: false, NextMarker: "ignored" });
    expect(await listKeyIds({ kms, budget: UNLIMITED })).toEqual([id(1), id(2), id(3)]);
    expect(kmsMock).toHaveReceivedCommandTimes(ListKeysCommand, 2);
  });

  it("ListAliases: every page, grouped by key; aliases without a key are left out", async () => {
    kmsMock
      .on(ListAliasesCommand, { Marker: undefined })
      .resolves({
        Aliases: [{ AliasName: "alias/a", TargetKeyId: id(1) }, { AliasName: "alias/aws/ebs" }],
        Truncated: true,
        NextMarker: "p2",
      })
      .on(ListAliasesCommand, { Marker: "p2" })
      .resolves({ Aliases: [{ AliasName: "alias/b", TargetKeyId: id(1) }], Truncated: false });
    const aliases = await listAliases({ kms, budget: UNLIMITED });
    expect([...aliases.entries()]).toEqual([[id(1), ["alias/a", "alias/b"]]]);
  });

  it("ListGrants and ListResourceTags: every page of one key", async () => {
    kmsMock.on(DescribeKeyCommand).resolves(customerKey(1));
    kmsMock
      .on(ListGrantsCommand, { KeyId: id(1), Marker: undefined })
      .resolves({ Grants: [{ GrantId: "g1", GranteePrincipal: "a" }], Truncated: true, NextMarker: "g" })
      .on(ListGrantsCommand, { KeyId: id(1), Marker: "g" })
      .resolves({
        Grants: [{ GrantId: "g2", GranteePrincipal: "b", Operations: ["Decrypt"] }],
        Truncated: false,
      });
    kmsMock
      .on(ListResourceTagsCommand, { Marker: undefined })
      .resolves({ Tags: [{ TagKey: "team", TagValue: "pay" }], Truncated: true, NextMarker: "t" })
      .on(ListResourceTagsCommand, { Marker: "t" })
      .resolves({ Tags: [{ TagKey: "kms-responder:exempt", TagValue: "" }], Truncated: false });
    const read = await readKeyState({ kms, budget: UNLIMITED }, id(1), new Map(), new Set(["grants"]));
    if (read.kind !== "customer") throw new Error(`expected a customer key, got ${read.kind}`);
    expect(read.state.grants?.map((g) => g.grantId)).toEqual(["g1", "g2"]);
    expect(read.state.tags).toEqual({ team: "pay", "kms-responder:exempt": "" });
    expect(kmsMock).not.toHaveReceivedCommand(GetKeyPolicyCommand);
    expect(kmsMock).not.toHaveReceivedCommand(GetKeyRotationStatusCommand);
  });
});

describe("one key", () => {
  it("an AWS managed key: DescribeKey only, nothing else read", async () => {
    kmsMock.on(DescribeKeyCommand).resolves(customerKey(1, { KeyManager: "AWS" }));
    const read = await readKeyState(
      { kms, budget: UNLIMITED },
      id(1),
      new Map(),
      new Set(["grants", "policy", "rotation"]),
    );
    expect(read).toEqual({ kind: "aws-managed", keyId: id(1) });
    expect(kmsMock.calls()).toHaveLength(1);
  });

  it("a failed read is recorded under its name, the rest still read", async () => {
    kmsMock.on(DescribeKeyCommand).resolves(customerKey(1));
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock
      .on(GetKeyPolicyCommand)
      .rejects(Object.assign(new Error("no"), { name: "AccessDeniedException" }));
    kmsMock
      .on(GetKeyRotationStatusCommand)
      .resolves({ KeyRotationEnabled: false, RotationPeriodInDays: 365 });
    const read = await readKeyState(
      { kms, budget: UNLIMITED },
      id(1),
      new Map(),
      new Set(["policy", "rotation"]),
    );
    if (read.kind !== "customer") throw new Error(`expected a customer key, got ${read.kind}`);
    expect(read.state.readErrors).toEqual({ policy: "AccessDeniedException: no" });
    expect(read.state.rotation).toEqual({ enabled: false, periodDays: 365 });
    expect(kmsMock).toHaveReceivedCommandWith(GetKeyPolicyCommand, { KeyId: id(1), PolicyName: "default" });
  });

  it("rotation status is not asked of keys that cannot rotate (imported material)", async () => {
    kmsMock.on(DescribeKeyCommand).resolves(customerKey(1, { Origin: "EXTERNAL" }));
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    await readKeyState({ kms, budget: UNLIMITED }, id(1), new Map(), new Set(["rotation"]));
    expect(kmsMock).not.toHaveReceivedCommand(GetKeyRotationStatusCommand);
  });

  it("DescribeKey failing leaves the key unjudged, with the error", async () => {
    kmsMock
      .on(DescribeKeyCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    expect(await readKeyState({ kms, budget: UNLIMITED }, id(1), new Map(), new Set())).toEqual({
      kind: "error",
      keyId: id(1),
      error: "DescribeKey: AccessDeniedException: denied",
    });
  });
});

describe("scanRegion", () => {
  function world() {
    kmsMock.on(ListKeysCommand).resolves({ Keys: [1, 2, 3].map((n) => ({ KeyId: id(n) })) });
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [{ AliasName: "alias/two", TargetKeyId: id(2) }] });
    kmsMock.on(DescribeKeyCommand, { KeyId: id(1) }).resolves(customerKey(1));
    kmsMock.on(DescribeKeyCommand, { KeyId: id(2) }).resolves(customerKey(2));
    kmsMock.on(DescribeKeyCommand, { KeyId: id(3) }).resolves(customerKey(3, { KeyManager: "AWS" }));
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: ROOT_POLICY });
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
    kmsMock.on(GetKeyRotationStatusCommand, { KeyId: id(2) }).resolves({ KeyRotationEnabled: false });
    kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
  }

  it("judges the customer keys, counts the AWS managed ones, names keys by alias", async () => {
    world();
    const budget = counting();
    const result = await scanRegion(
      { kms, budget },
      { account: ACCOUNT, region: "eu-west-1" },
      parseConfig({}),
      {
        concurrency: 2,
      },
    );
    expect(result).toMatchObject({ keys: 2, awsManaged: 1, errors: [] });
    expect(result.findings.map((f) => [f.incident, f.key?.arn, f.key?.alias])).toEqual([
      ["key-rotation-disabled", arn(2), "alias/two"],
    ]);
    // Every call took its turn from the budget of the account and Region.
    expect(budget.taken).toBe(kmsMock.calls().length);
  });

  it("keys that cannot be listed: failed, nothing judged", async () => {
    kmsMock
      .on(ListKeysCommand)
      .rejects(Object.assign(new Error("bad token"), { name: "UnrecognizedClientException" }));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    const result = await scanRegion(
      { kms, budget: UNLIMITED },
      { account: ACCOUNT, region: "eu-west-1" },
      parseConfig({}),
      {
        concurrency: 2,
      },
    );
    expect(result.failed).toBe("UnrecognizedClientException: bad token");
    expect(kmsMock).not.toHaveReceivedCommand(DescribeKeyCommand);
  });
});

describe("requestBudget", () => {
  it("spaces each operation's requests at its share of the quota, operations independent", async () => {
    let now = 1_000;
    const waits: number[] = [];
    const budget = requestBudget(
      0.5,
      () => now,
      (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    // ListGrants: 100 requests/s by default, half of it is one request every 20 ms.
    await budget.take("ListGrants");
    await budget.take("ListGrants");
    await budget.take("ListGrants");
    expect(waits).toEqual([20, 20]);
    // DescribeKey has its own quota (2000/s): its first request does not wait behind ListGrants.
    await budget.take("DescribeKey");
    expect(waits).toEqual([20, 20]);
    now += 1_000;
    await budget.take("ListGrants");
    expect(waits).toEqual([20, 20]);
  });

  it("spaces the listings at half of their 500 requests/s (ListKeys, ListAliases), each on its own quota", async () => {
    let now = 0;
    const waits: number[] = [];
    const budget = requestBudget(
      0.5,
      () => now,
      (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    for (let i = 0; i < 3; i++) await budget.take("ListKeys");
    await budget.take("ListAliases");
    expect(waits).toEqual([4, 4]);
  });

  it("the quotas are the 2026 defaults of the KMS request quotas table", () => {
    expect(READ_QUOTAS).toEqual({
      ListKeys: 500,
      ListAliases: 500,
      ListGrants: 100,
      DescribeKey: 2000,
      ListResourceTags: 2000,
      GetKeyPolicy: 1000,
      GetKeyRotationStatus: 1000,
    });
  });

  it("refuses a share outside (0, 1]", () => {
    expect(() => requestBudget(0)).toThrow(/share/);
    expect(() => requestBudget(1.5)).toThrow(/share/);
  });

  it("the keys/s bound is the lowest per-key quota (ListGrants)", () => {
    expect(keysPerSecondBound(PER_KEY_OPERATIONS)).toBe(100);
    expect(keysPerSecondBound(PER_KEY_OPERATIONS, 0.5)).toBe(50);
  });
});
