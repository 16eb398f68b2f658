/**
 * The stack's sweep of one account and Region, with KMS, SNS, S3 and Security Hub mocked (S3 as a
 * small in-memory store): new findings notify once, a second sweep of the same state notifies
 * nothing, a changed finding notifies again, a finding no longer seen is resolved in Security Hub,
 * and nothing is changed on a key unless `scan.enforce` lists the incident.
 */

import {
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { UNLIMITED } from "../../functions/scan/budget.js";
import { resolveGone } from "../../functions/scan/resolve.js";
import { type SweepDeps, sweep } from "../../functions/scan/sweep.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";

const kmsMock = mockClient(KMSClient);
const snsMock = mockClient(SNSClient);
const s3Mock = mockClient(S3Client);
const hubMock = mockClient(SecurityHubClient);
const kms = new KMSClient({ region: "eu-west-1" });
const ACCOUNT = "111122223333";
const REGION = "eu-west-1";
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:kms-responder-Notifications`;
const KEY_ID = "00000000-0000-4000-8000-000000000001";
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const ROOT = {
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: "kms:*",
  Resource: "*",
};
const PUBLIC = { Sid: "open", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" };

/** The bucket: objects by key, as S3 would keep them between sweeps. */
let objects: Map<string, string>;

function s3Store() {
  objects = new Map();
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    objects.set(input.Key, input.Body);
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (body === undefined)
      throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });
    // What the sweep reads of a body: its text.
    return { Body: { transformToString: () => Promise.resolve(body) } };
  });
}

/** One key; its policy and rotation as given. */
function keyWith(state: { policy: object[]; rotation: boolean }) {
  kmsMock.on(ListKeysCommand).resolves({ Keys: [{ KeyId: KEY_ID }] });
  kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
  kmsMock.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      KeyState: "Enabled",
      KeyManager: "CUSTOMER",
      KeySpec: "SYMMETRIC_DEFAULT",
      Origin: "AWS_KMS",
    },
  });
  kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
  kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
  kmsMock
    .on(GetKeyPolicyCommand)
    .resolves({ Policy: JSON.stringify({ Version: "2012-10-17", Statement: state.policy }) });
  kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: state.rotation });
}

function deps(input: ConfigInput = {}): SweepDeps {
  return {
    kms,
    sns: new SNSClient({ region: REGION }),
    config: parseConfig(input),
    topicArn: TOPIC,
    responder: { account: ACCOUNT, region: REGION },
    s3: new S3Client({ region: REGION }),
    bucket: "sweep-bucket",
    resolve: resolveGone,
  };
}

const target = { account: ACCOUNT, region: REGION };
const reader = () => ({ kms, budget: UNLIMITED });
const published = () => snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject ?? "");

beforeEach(() => {
  kmsMock.reset();
  snsMock.reset();
  s3Mock.reset();
  hubMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
  hubMock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
  hubMock.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
  s3Store();
});

describe("notify once", () => {
  it("the first sweep notifies each finding; a second sweep of the same state notifies nothing new", async () => {
    keyWith({ policy: [ROOT, PUBLIC], rotation: false });
    const first = await sweep(target, reader(), deps());
    expect(first).toMatchObject({ keys: 1, findings: 2, notified: 2, unchanged: 0, resolved: 0 });
    expect(published()).toHaveLength(2);
    expect(objects.has(`notified/${ACCOUNT}/${REGION}.json`)).toBe(true);

    snsMock.resetHistory();
    const second = await sweep(target, reader(), deps());
    expect(second).toMatchObject({ findings: 2, notified: 0, unchanged: 2 });
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it("a finding that changed (another reason) is notified again; the unchanged one is not", async () => {
    keyWith({ policy: [ROOT, PUBLIC], rotation: false });
    await sweep(target, reader(), deps());
    snsMock.resetHistory();
    const external = {
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::999988887777:root" },
      Action: "kms:Decrypt",
      Resource: "*",
    };
    keyWith({ policy: [ROOT, PUBLIC, external], rotation: false });
    const again = await sweep(target, reader(), deps());
    expect(again).toMatchObject({ notified: 1, unchanged: 1 });
    expect(published()).toHaveLength(1);
    expect(published()[0]).toMatch(/policy/i);
  });

  it("a failed notification is not recorded: the next sweep tries again, and the invocation fails", async () => {
    keyWith({ policy: [ROOT], rotation: false });
    snsMock.on(PublishCommand).rejects(new Error("topic unreachable"));
    await expect(sweep(target, reader(), deps())).rejects.toThrow(/topic unreachable/);
    snsMock.on(PublishCommand).resolves({ MessageId: "m-2" });
    const retry = await sweep(target, reader(), deps());
    expect(retry).toMatchObject({ notified: 1 });
  });
});

describe("resolve what is no longer seen", () => {
  it("Security Hub: archived and workflow RESOLVED; nothing to notify", async () => {
    keyWith({ policy: [ROOT], rotation: false });
    await sweep(target, reader(), deps({ securityHub: true }));
    expect(hubMock).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 1);
    snsMock.resetHistory();
    hubMock.resetHistory();

    keyWith({ policy: [ROOT], rotation: true });
    const after = await sweep(target, reader(), deps({ securityHub: true }));
    expect(after).toMatchObject({ findings: 0, notified: 0, resolved: 1 });
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
    const archived = hubMock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0];
    expect(archived).toMatchObject({
      RecordState: "ARCHIVED",
      GeneratorId: "kms-responder/key-rotation-disabled",
    });
    expect(hubMock).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      FindingIdentifiers: [{ Id: archived?.Id, ProductArn: archived?.ProductArn }],
      Workflow: { Status: "RESOLVED" },
    });
  });

  it("without Security Hub the record just forgets it", async () => {
    keyWith({ policy: [ROOT], rotation: false });
    await sweep(target, reader(), deps());
    keyWith({ policy: [ROOT], rotation: true });
    expect(await sweep(target, reader(), deps())).toMatchObject({ resolved: 1 });
    expect(hubMock.calls()).toHaveLength(0);
    expect(JSON.parse(objects.get(`notified/${ACCOUNT}/${REGION}.json`) ?? "")).toEqual({});
  });
});

describe("acting", () => {
  it("by default nothing is changed: the actions are held (notify mode)", async () => {
    keyWith({ policy: [ROOT, PUBLIC], rotation: false });
    await sweep(target, reader(), deps());
    expect(kmsMock).not.toHaveReceivedCommand(DisableKeyCommand);
    expect(kmsMock).not.toHaveReceivedCommand(EnableKeyRotationCommand);
  });

  it("scan.enforce: the listed incident acts through its executor, the other only reports", async () => {
    keyWith({ policy: [ROOT, PUBLIC], rotation: false });
    kmsMock.on(EnableKeyRotationCommand).resolves({});
    await sweep(target, reader(), deps({ mode: "enforce", scan: { enforce: ["key-rotation-disabled"] } }));
    expect(kmsMock).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: KEY_ARN });
    expect(kmsMock).not.toHaveReceivedCommand(DisableKeyCommand);
  });
});
