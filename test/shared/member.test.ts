/**
 * Member-account access for a central responder: the member role is assumed by its exact ARN in
 * the key's partition, under a session name that says which incident and event acted; credentials
 * are cached per account and incident until five minutes before they expire; a role that cannot
 * be assumed fails with an error naming it.
 */
import { KMSClient, type KMSClientConfig } from "@aws-sdk/client-kms";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { type KeyRef, parseKeyArn } from "../../functions/shared/arn.js";
import { type MemberAccess, memberRoleArn, sessionName } from "../../functions/shared/clients/member.js";

const stsMock = mockClient(STSClient);
/** What the pipeline passes: its own KMS client class. */
const makeKms = (config: KMSClientConfig) => new KMSClient(config);

const NOW = Date.parse("2026-11-28T18:00:00Z");
const MINUTE = 60_000;
const EVENT_ID = "7404c6cc-a32e-4c17-bddb-150a93c40481";

function key(arn: string): KeyRef {
  const parsed = parseKeyArn(arn);
  if (!parsed) throw new Error(`not a key ARN: ${arn}`);
  return parsed;
}

const MEMBER_KEY = key("arn:aws:kms:eu-west-1:444455556666:key/0b0b0b0b-1111-4222-8333-444444444444");
const access: MemberAccess = {
  partition: "aws",
  roleName: "kms-responder-member",
  incident: "rogue-grant",
  eventId: EVENT_ID,
};

/** An AssumeRole answer whose credentials expire `minutes` after NOW. */
function assumed(id: string, minutes = 60) {
  return {
    Credentials: {
      AccessKeyId: id,
      SecretAccessKey: `secret-${id}`,
      SessionToken: `token-${id}`,
      Expiration: new Date(NOW + minutes * MINUTE),
    },
  };
}

// The credential cache lives in the module: each test gets a fresh one.
let memberCredentials: typeof import("../../functions/shared/clients/member.js").memberCredentials;
let memberKms: typeof import("../../functions/shared/clients/member.js").memberKms;

beforeEach(async () => {
  stsMock.reset();
  vi.resetModules();
  ({ memberCredentials, memberKms } = await import("../../functions/shared/clients/member.js"));
});

describe("memberCredentials: the role assumed", () => {
  it("assumes arn:<partition>:iam::<key account>:role/<member role> with a session naming incident and event", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(assumed("ASIA1"));

    // Act
    const credentials = await memberCredentials(MEMBER_KEY, access, NOW);

    // Assess
    expect(stsMock).toHaveReceivedCommandExactlyOnceWith(AssumeRoleCommand, {
      RoleArn: "arn:aws:iam::444455556666:role/kms-responder-member",
      RoleSessionName: `kmsr-rogue-grant-${EVENT_ID}`,
      SourceIdentity: "kms-responder",
    });
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input.Policy).toBeUndefined();
    expect(credentials).toEqual({
      accessKeyId: "ASIA1",
      secretAccessKey: "secret-ASIA1",
      sessionToken: "token-ASIA1",
    });
  });

  it("passes a session policy of only this function's actions when it is given them", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(assumed("ASIA1"));

    // Act
    await memberCredentials(
      MEMBER_KEY,
      { ...access, incident: "scoped", actions: ["kms:ListGrants", "kms:RevokeGrant"] },
      NOW,
    );

    // Assess
    const input = stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.Policy ?? "{}")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["kms:ListGrants", "kms:RevokeGrant"], Resource: "*" }],
    });
  });

  it("a session scoped to one key is never reused for another key: one AssumeRole per key scope", async () => {
    // Prepare: two runbook requests in one environment, about two keys of the same account.
    stsMock.on(AssumeRoleCommand).resolvesOnce(assumed("ASIA1")).resolvesOnce(assumed("ASIA2"));
    const other = key("arn:aws:kms:eu-west-1:444455556666:key/1c1c1c1c-2222-4333-8444-555555555555");
    const scoped = (k: KeyRef): MemberAccess => ({
      ...access,
      incident: "runbook",
      scope: { keyArn: k.arn, onKey: ["kms:DescribeKey", "kms:DisableKey"], anywhere: ["kms:ListAliases"] },
    });

    // Act
    const first = await memberCredentials(MEMBER_KEY, scoped(MEMBER_KEY), NOW);
    const again = await memberCredentials(MEMBER_KEY, scoped(MEMBER_KEY), NOW);
    const second = await memberCredentials(other, scoped(other), NOW);

    // Assess
    expect([first.accessKeyId, again.accessKeyId, second.accessKeyId]).toEqual(["ASIA1", "ASIA1", "ASIA2"]);
    const policies = stsMock
      .commandCalls(AssumeRoleCommand)
      .map((c) => JSON.parse(c.args[0].input.Policy ?? "null").Statement[0].Resource);
    expect(policies).toEqual([MEMBER_KEY.arn, other.arn]);
  });

  it.each([
    ["aws-cn", "cn-north-1"],
    ["aws-us-gov", "us-gov-west-1"],
  ])("assumes the role in the %s partition for a key there", async (partition, region) => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(assumed("ASIA1"));
    const there = key(`arn:${partition}:kms:${region}:444455556666:key/0b0b0b0b-1111-4222-8333-444444444444`);

    // Act
    await memberCredentials(there, { ...access, partition }, NOW);

    // Assess
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:${partition}:iam::444455556666:role/kms-responder-member`,
    });
  });

  it("memberRoleArn builds the ARN from the account, partition and role name", () => {
    // Act / Assess
    expect(memberRoleArn("444455556666", { partition: "aws-cn", roleName: "r" })).toBe(
      "arn:aws-cn:iam::444455556666:role/r",
    );
  });

  it("a failed AssumeRole throws an Error naming the role ARN and the cause", async () => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .rejects(new Error("AccessDenied: not authorized to perform sts:AssumeRole"));

    // Act / Assess
    await expect(memberCredentials(MEMBER_KEY, access, NOW)).rejects.toThrow(
      /^could not assume arn:aws:iam::444455556666:role\/kms-responder-member: Error: AccessDenied/,
    );
  });

  it("an AssumeRole answer without credentials throws naming the role, and nothing is cached", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolvesOnce({}).resolves(assumed("ASIA2"));

    // Act
    const first = memberCredentials(MEMBER_KEY, access, NOW);

    // Assess
    await expect(first).rejects.toThrow(
      "could not assume arn:aws:iam::444455556666:role/kms-responder-member",
    );
    expect((await memberCredentials(MEMBER_KEY, access, NOW)).accessKeyId).toBe("ASIA2");
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("a failed AssumeRole is not cached: the next call tries again", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).rejectsOnce(new Error("Throttling")).resolves(assumed("ASIA3"));

    // Act
    await expect(memberCredentials(MEMBER_KEY, access, NOW)).rejects.toThrow(/could not assume/);
    const credentials = await memberCredentials(MEMBER_KEY, access, NOW);

    // Assess
    expect(credentials.accessKeyId).toBe("ASIA3");
  });
});

describe("sessionName", () => {
  const STS_SESSION = /^[\w+=,.@-]{2,64}$/;

  it("is kmsr-<incident>-<event id>", () => {
    // Act / Assess
    expect(sessionName("key-deletion-scheduled", EVENT_ID)).toBe(`kmsr-key-deletion-scheduled-${EVENT_ID}`);
  });

  it("names a request without an event 'manual'", () => {
    // Act / Assess
    expect(sessionName("runbook", undefined)).toBe("kmsr-runbook-manual");
  });

  it("cuts a long name to 64 characters", () => {
    // Act
    const name = sessionName("pending-deletion-key-used", `${EVENT_ID}-${EVENT_ID}`);

    // Assess
    expect(name).toHaveLength(64);
    expect(name).toMatch(STS_SESSION);
    expect(name.startsWith("kmsr-pending-deletion-key-used-7404c6cc")).toBe(true);
  });

  it.each(["a/b c", "x:y;z", "ünïcode 🔑", "line\nbreak", "quote'\"`"])(
    "replaces characters STS refuses in an event id like %j",
    (eventId) => {
      // Act / Assess
      expect(sessionName("rogue-grant", eventId)).toMatch(STS_SESSION);
    },
  );
});

describe("memberCredentials: the cache", () => {
  it("reuses the credentials for the same account and incident", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolvesOnce(assumed("ASIA1")).resolves(assumed("ASIA2"));
    const sameAccount = key("arn:aws:kms:us-east-1:444455556666:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");

    // Act
    const a = await memberCredentials(MEMBER_KEY, access, NOW);
    const b = await memberCredentials(sameAccount, { ...access, eventId: "another-event" }, NOW + MINUTE);

    // Assess
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(b).toEqual(a);
  });

  it("assumes again for another account, and for another incident in the same account", async () => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .resolvesOnce(assumed("ASIA1"))
      .resolvesOnce(assumed("ASIA2"))
      .resolves(assumed("ASIA3"));
    const other = key("arn:aws:kms:eu-west-1:777788889999:key/0b0b0b0b-1111-4222-8333-444444444444");

    // Act
    const first = await memberCredentials(MEMBER_KEY, access, NOW);
    const otherAccount = await memberCredentials(other, access, NOW);
    const otherIncident = await memberCredentials(MEMBER_KEY, { ...access, incident: "key-disabled" }, NOW);

    // Assess
    expect([first, otherAccount, otherIncident].map((c) => c.accessKeyId)).toEqual([
      "ASIA1",
      "ASIA2",
      "ASIA3",
    ]);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: "arn:aws:iam::444455556666:role/kms-responder-member",
        RoleSessionName: `kmsr-rogue-grant-${EVENT_ID}`,
        SourceIdentity: "kms-responder",
      },
      {
        RoleArn: "arn:aws:iam::777788889999:role/kms-responder-member",
        RoleSessionName: `kmsr-rogue-grant-${EVENT_ID}`,
        SourceIdentity: "kms-responder",
      },
      {
        RoleArn: "arn:aws:iam::444455556666:role/kms-responder-member",
        RoleSessionName: `kmsr-key-disabled-${EVENT_ID}`,
        SourceIdentity: "kms-responder",
      },
    ]);
  });

  it("renews five minutes before expiry, not earlier", async () => {
    // Prepare: credentials valid for 60 minutes
    stsMock.on(AssumeRoleCommand).resolvesOnce(assumed("ASIA1", 60)).resolves(assumed("ASIA2", 120));

    // Act
    await memberCredentials(MEMBER_KEY, access, NOW);
    const justBefore = await memberCredentials(MEMBER_KEY, access, NOW + 55 * MINUTE - 1);
    const atMargin = await memberCredentials(MEMBER_KEY, access, NOW + 55 * MINUTE);

    // Assess
    expect(justBefore.accessKeyId).toBe("ASIA1");
    expect(atMargin.accessKeyId).toBe("ASIA2");
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("without an Expiration, takes the credentials to last 15 minutes (renewed after 10)", async () => {
    // Prepare: STS always sends Expiration; a response without one must not be cached forever
    const { Expiration: _e, ...noExpiry } = assumed("ASIA1").Credentials;
    stsMock
      .on(AssumeRoleCommand)
      .callsFakeOnce(() => ({ Credentials: noExpiry }))
      .resolves(assumed("ASIA2", 120));

    // Act
    await memberCredentials(MEMBER_KEY, access, NOW);
    const justBefore = await memberCredentials(MEMBER_KEY, access, NOW + 10 * MINUTE - 1);
    const atMargin = await memberCredentials(MEMBER_KEY, access, NOW + 10 * MINUTE);

    // Assess
    expect(justBefore.accessKeyId).toBe("ASIA1");
    expect(atMargin.accessKeyId).toBe("ASIA2");
  });
});

describe("memberKms", () => {
  it("is a KMS client of the key's Region with the member role's credentials", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(assumed("ASIA1"));

    // Act
    const client = await memberKms(MEMBER_KEY, access, makeKms, NOW);

    // Assess
    expect(await client.config.region()).toBe("eu-west-1");
    expect(await client.config.credentials()).toMatchObject({
      accessKeyId: "ASIA1",
      secretAccessKey: "secret-ASIA1",
      sessionToken: "token-ASIA1",
    });
  });

  it("makes the client with the caller's maker: the commands the caller sends come from the same SDK", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(assumed("ASIA1"));
    const made: KMSClientConfig[] = [];
    const mine = new KMSClient({ region: "eu-west-1" });

    // Act
    const client = await memberKms(
      MEMBER_KEY,
      access,
      (config) => {
        made.push(config);
        return mine;
      },
      NOW,
    );

    // Assess
    expect(client).toBe(mine);
    expect(made).toEqual([
      {
        maxAttempts: 6,
        retryMode: "standard",
        region: "eu-west-1",
        credentials: { accessKeyId: "ASIA1", secretAccessKey: "secret-ASIA1", sessionToken: "token-ASIA1" },
      },
    ]);
  });

  it("reuses the client per Region, and one AssumeRole serves every Region of the account", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(assumed("ASIA1"));
    const east = key("arn:aws:kms:us-east-1:444455556666:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");

    // Act
    const a = await memberKms(MEMBER_KEY, access, makeKms, NOW);
    const b = await memberKms(MEMBER_KEY, access, makeKms, NOW);
    const c = await memberKms(east, access, makeKms, NOW);

    // Assess
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(await c.config.region()).toBe("us-east-1");
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
  });

  it("throws naming the role when it cannot be assumed", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).rejects(new Error("AccessDenied"));

    // Act / Assess
    await expect(memberKms(MEMBER_KEY, access, makeKms, NOW)).rejects.toThrow(
      "could not assume arn:aws:iam::444455556666:role/kms-responder-member",
    );
  });
});
