/**
 * A central responder's runbook acts on a key in a member account through the member role: the
 * key is described, read and changed with the member role's credentials, never the central ones.
 */
import { DescribeKeyCommand, DisableKeyCommand, KMSClient, ListAliasesCommand } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parsePayload } from "../../functions/runbook/payload.js";
import { runRunbook } from "../../functions/runbook/run.js";
import { parseConfig } from "../../functions/shared/config.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const sts = mockClient(STSClient);

const CENTRAL = "111122223333";
const MEMBER = "222233334444";
const KEY_ARN = `arn:aws:kms:eu-west-1:${MEMBER}:key/0b5c2f6e-8d1a-4c3b-9e7f-6a5b4c3d2e1f`;
const CONFIG_INPUT = {
  organization: {
    id: "o-a1b2c3d4e5",
    regions: ["us-east-1", "eu-west-1"],
    organizationalUnitIds: ["ou-ab12-cdefgh34"],
  },
};
const CONFIG = parseConfig(CONFIG_INPUT);

afterEach(() => {
  kms.reset();
  sns.reset();
  sts.reset();
  // The member credential cache lives in a module the pipeline imports on demand: start afresh.
  vi.resetModules();
});

describe("runbook on a member account's key", () => {
  it("assumes the member role of the key's account and disables the key there", async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: "ASIAMEMBER",
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date(Date.now() + 3_600_000),
      },
    });
    let state = "Enabled";
    kms.on(DescribeKeyCommand).callsFake(async () => ({
      KeyMetadata: {
        KeyId: KEY_ARN.split("/")[1],
        Arn: KEY_ARN,
        AWSAccountId: MEMBER,
        KeyState: state,
        KeyManager: "CUSTOMER",
      },
    }));
    kms.on(DisableKeyCommand).callsFake(async () => {
      state = "Disabled";
      return {};
    });
    kms.on(ListAliasesCommand).resolves({ Aliases: [] });
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const payload = parsePayload({
      action: "disable-key",
      keyId: KEY_ARN,
      reason: "exfiltration in the member account",
    });

    // Act
    const { result, failure } = await runRunbook(payload, {
      kms: new KMSClient({ region: "us-east-1" }),
      sns: new SNSClient({ region: "us-east-1" }),
      config: CONFIG,
      topicArn: `arn:aws:sns:us-east-1:${CENTRAL}:kms-responder-notifications`,
      responder: { region: "us-east-1", account: CENTRAL },
    });

    // Assess
    expect(failure).toBeUndefined();
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${MEMBER}:role/kms-responder-member`,
    });
    // The session may disable this one key and read it, nothing else (not the role's union).
    const policies = sts
      .commandCalls(AssumeRoleCommand)
      .map((c) => JSON.parse(c.args[0].input.Policy ?? "null"));
    expect(policies).toEqual([
      {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["kms:DescribeKey", "kms:DisableKey"], Resource: KEY_ARN },
          { Effect: "Allow", Action: ["kms:ListAliases"], Resource: "*" },
        ],
      },
    ]);
    expect(kms).toHaveReceivedCommandWith(DisableKeyCommand, { KeyId: KEY_ARN.split("/")[1] });
    // Every KMS call went through a client with the member role's credentials.
    for (const call of kms.calls()) {
      const client = call.thisValue as KMSClient;
      expect(await client.config.credentials()).toMatchObject({ accessKeyId: "ASIAMEMBER" });
    }
    expect(result).toMatchObject({ outcome: "remediated", key: { arn: KEY_ARN, stateAfter: "Disabled" } });
  });

  it.each([
    [
      "revoke-grant",
      { grantId: "a".repeat(64) },
      ["kms:DescribeKey", "kms:ListGrants", "kms:RevokeGrant"],
      [],
    ],
    [
      "cancel-key-deletion",
      {},
      ["kms:CancelKeyDeletion", "kms:DescribeKey", "kms:EnableKey"],
      ["cloudtrail:LookupEvents"],
    ],
    ["analyze-key-policy", {}, ["kms:DescribeKey", "kms:GetKeyPolicy"], []],
  ] as const)(
    "opens the member session of %s with that action's permissions on the one key only",
    async (action, extra, onKey, anywhere) => {
      // Prepare
      sts.on(AssumeRoleCommand).resolves({
        Credentials: {
          AccessKeyId: "ASIAMEMBER",
          SecretAccessKey: "secret",
          SessionToken: "token",
          Expiration: new Date(Date.now() + 3_600_000),
        },
      });
      kms.on(DescribeKeyCommand).resolves({
        KeyMetadata: {
          KeyId: KEY_ARN.split("/")[1],
          Arn: KEY_ARN,
          AWSAccountId: MEMBER,
          KeyState: "Enabled",
          KeyManager: "CUSTOMER",
        },
      });
      sns.on(PublishCommand).resolves({ MessageId: "m-3" });
      const payload = parsePayload({
        action,
        keyId: KEY_ARN,
        reason: "scoped session",
        dryRun: true,
        ...extra,
      });

      // Act
      await runRunbook(payload, {
        kms: new KMSClient({ region: "us-east-1" }),
        sns: new SNSClient({ region: "us-east-1" }),
        config: parseConfig({ ...CONFIG_INPUT, afterCancel: "restore" }),
        topicArn: `arn:aws:sns:us-east-1:${CENTRAL}:kms-responder-notifications`,
        responder: { region: "us-east-1", account: CENTRAL },
      });

      // Assess
      const policy = JSON.parse(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input.Policy ?? "null");
      expect(policy.Statement).toEqual([
        { Effect: "Allow", Action: onKey, Resource: KEY_ARN },
        { Effect: "Allow", Action: [...anywhere, "kms:ListAliases"].sort(), Resource: "*" },
      ]);
    },
  );

  it("reports a failed action naming the member role when it cannot be assumed, and changes nothing", async () => {
    // Prepare
    const denied = new Error("User is not authorized to perform: sts:AssumeRole");
    denied.name = "AccessDenied";
    sts.on(AssumeRoleCommand).rejects(denied);
    sns.on(PublishCommand).resolves({ MessageId: "m-2" });
    const payload = parsePayload({
      action: "disable-key",
      keyId: KEY_ARN,
      reason: "exfiltration in the member account",
    });

    // Act
    const { result, failure } = await runRunbook(payload, {
      kms: new KMSClient({ region: "us-east-1" }),
      sns: new SNSClient({ region: "us-east-1" }),
      config: CONFIG,
      topicArn: `arn:aws:sns:us-east-1:${CENTRAL}:kms-responder-notifications`,
      responder: { region: "us-east-1", account: CENTRAL },
    });

    // Assess
    expect(failure?.message).toContain(`could not assume arn:aws:iam::${MEMBER}:role/kms-responder-member`);
    expect(kms).not.toHaveReceivedCommand(DisableKeyCommand);
    expect(result.outcome).toBe("failed");
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});
