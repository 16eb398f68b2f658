/**
 * Who set a key's exempt tag, in a sweep: the newest successful TagResource or CreateKey that set
 * it, from the key's CloudTrail history (LookupEvents by the key ARN, a few pages at most); a newer
 * removal of the tag, a failed call or an unreadable entry tells nothing. The judgement then counts
 * the exemption only when an approved principal set it; scanRegion asks only for exempt-tagged keys
 * with a finding, and a failed lookup is recorded and taken as unknown. moto has no LookupEvents:
 * mocked here.
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
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
import { beforeEach, describe, expect, it, vi } from "vitest";
import { UNLIMITED } from "../../functions/scan/budget.js";
import { tagSetter } from "../../functions/scan/exemption-origin.js";
import { judgeKey, stateIncidents } from "../../functions/scan/judge.js";
import { scanRegion } from "../../functions/scan/scan.js";
import { parseKeyArn } from "../../functions/shared/arn.js";
import { parseConfig } from "../../functions/shared/config.js";
import { type KmsEvent, normalise } from "../../functions/shared/event.js";
import type { KeyState } from "../../functions/shared/state.js";

const cloudTrailMock = mockClient(CloudTrailClient);
const kmsMock = mockClient(KMSClient);
const client = new CloudTrailClient({ region: "eu-west-1" });
const ACCOUNT = "111122223333";
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY_ID}`;
const TAG = "kms-responder:exempt";
const SECURITY = `arn:aws:iam::${ACCOUNT}:role/SecurityAdmin`;
const DEVELOPER = `arn:aws:iam::${ACCOUNT}:role/Developer`;

/** A CloudTrail record as LookupEvents returns it: the whole record as a JSON string. */
function entry(eventName: string, role: string, requestParameters: Record<string, unknown>, extra = {}) {
  const record = {
    eventVersion: "1.08",
    userIdentity: {
      type: "AssumedRole",
      arn: role.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/").concat("/session"),
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { type: "Role", arn: role, accountId: ACCOUNT } },
    },
    eventTime: "2026-12-01T10:00:00Z",
    eventSource: "kms.amazonaws.com",
    eventName,
    awsRegion: "eu-west-1",
    requestParameters,
    recipientAccountId: ACCOUNT,
    eventID: `${eventName}-${role}`,
    ...extra,
  };
  return { EventName: eventName, CloudTrailEvent: JSON.stringify(record) };
}
const tagged = (role: string, key = TAG, extra = {}) =>
  entry("TagResource", role, { keyId: KEY_ARN, tags: [{ tagKey: key, tagValue: "yes" }] }, extra);

beforeEach(() => {
  cloudTrailMock.reset();
  kmsMock.reset();
});

describe("tagSetter", () => {
  it("the newest successful TagResource that set the tag, across pages, by the key ARN", async () => {
    cloudTrailMock
      .on(LookupEventsCommand, { NextToken: undefined })
      .resolves({
        Events: [
          entry("Decrypt", DEVELOPER, { keyId: KEY_ARN }),
          tagged(DEVELOPER, "team"),
          tagged(DEVELOPER, TAG, { errorCode: "AccessDeniedException" }),
          { EventName: "TagResource", CloudTrailEvent: "{not json" },
        ],
        NextToken: "p2",
      })
      .on(LookupEventsCommand, { NextToken: "p2" })
      .resolves({ Events: [tagged(SECURITY), tagged(DEVELOPER)] });

    const setter = await tagSetter(client, KEY_ARN, TAG);

    expect(setter?.eventName).toBe("TagResource");
    expect(JSON.stringify(setter?.actor)).toContain("SecurityAdmin");
    expect(cloudTrailMock).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: KEY_ARN }],
      MaxResults: 50,
    });
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 2);
  });

  it("a CreateKey that carried the tag is its setting", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("CreateKey", SECURITY, {
          tags: [{ tagKey: TAG, tagValue: "yes" }],
          keySpec: "SYMMETRIC_DEFAULT",
        }),
      ],
    });
    expect((await tagSetter(client, KEY_ARN, TAG))?.eventName).toBe("CreateKey");
  });

  it("a newer removal of the tag means its setting is older than what was read: unknown", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [entry("UntagResource", DEVELOPER, { keyId: KEY_ARN, tagKeys: [TAG] }), tagged(SECURITY)],
    });
    expect(await tagSetter(client, KEY_ARN, TAG)).toBeUndefined();
  });

  it("reads at most 4 pages of a busy key", async () => {
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolves({ Events: [entry("Decrypt", DEVELOPER, {})], NextToken: "more" });
    expect(await tagSetter(client, KEY_ARN, TAG)).toBeUndefined();
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 4);
  });
});

describe("a sweep's exemption, judged by who set the tag", () => {
  const config = parseConfig({ mode: "enforce", approvedExemptionPrincipals: [SECURITY] });
  const key = parseKeyArn(KEY_ARN);
  if (!key) throw new Error("bad key ARN");
  const exempt: KeyState = {
    key,
    aliases: [],
    tags: { [TAG]: "yes" },
    grants: [
      {
        grantId: "g1",
        grantee: "arn:aws:iam::999988887777:role/x",
        retiringPrincipal: undefined,
        operations: ["Decrypt"],
        constrained: true,
        name: undefined,
      },
    ],
    metadata: {
      keyState: "Enabled",
      keyManager: "CUSTOMER",
      keySpec: "SYMMETRIC_DEFAULT",
      origin: "AWS_KMS",
      deletionDate: undefined,
      validTo: undefined,
      expirationModel: undefined,
      multiRegion: false,
    },
  };
  const setBy = (role: string): KmsEvent => {
    const event = normalise(JSON.parse(tagged(role).CloudTrailEvent));
    if (!event) throw new Error("did not normalise");
    return event;
  };
  const judge = (setter: KmsEvent | undefined) =>
    judgeKey(exempt, config, stateIncidents(config), new Date("2026-12-07T12:00:00Z"), { setter }).find(
      (f) => f.incident === "rogue-grant",
    );

  it("set by an approved principal: the exemption counts, says who set it, no unknown origin", () => {
    const finding = judge(setBy(SECURITY));
    expect(finding?.verdicts).toEqual(["exemption-approved"]);
    expect(finding?.details.at(-1)).toContain(`set by ${SECURITY}`);
    for (const action of finding?.actions ?? []) expect(action.hold?.code).toBe("exempt-key");
  });

  it("set by anyone else: unapproved, naming the setter; notify only, the untag command given", () => {
    const finding = judge(setBy(DEVELOPER));
    expect(finding?.verdicts).toEqual(["exemption-unapproved"]);
    expect(finding?.details.at(-1)).toContain(
      `but ${DEVELOPER} set it at 2026-12-01T10:00:00Z (TagResource)`,
    );
    expect(finding?.details.at(-1)).toContain(`aws kms untag-resource --key-id ${KEY_ARN} --tag-keys ${TAG}`);
    expect(finding?.actions.length).toBeGreaterThan(0);
    for (const action of finding?.actions ?? [])
      expect(action.hold).toMatchObject({ status: "skipped", code: "exempt-key" });
  });

  it("not in the history: unknown origin, as without a lookup", () => {
    expect(judge(undefined)?.verdicts).toEqual(["exemption-origin-unknown"]);
  });
});

describe("scanRegion asks who set the tag", () => {
  const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const arn = (n: number) => `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${id(n)}`;
  function world() {
    kmsMock.on(ListKeysCommand).resolves({ Keys: [1, 2, 3].map((n) => ({ KeyId: id(n) })) });
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    for (const n of [1, 2, 3])
      kmsMock.on(DescribeKeyCommand, { KeyId: id(n) }).resolves({
        KeyMetadata: {
          KeyId: id(n),
          Arn: arn(n),
          KeyState: "Enabled",
          KeyManager: "CUSTOMER",
          KeySpec: "SYMMETRIC_DEFAULT",
          Origin: "AWS_KMS",
        },
      });
    // Key 1: exempt, rotation off (a finding). Key 2: exempt, nothing wrong. Key 3: not exempt, rotation off.
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    for (const n of [1, 2])
      kmsMock
        .on(ListResourceTagsCommand, { KeyId: id(n) })
        .resolves({ Tags: [{ TagKey: TAG, TagValue: "yes" }] });
    kmsMock.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      }),
    });
    kmsMock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    kmsMock.on(GetKeyRotationStatusCommand, { KeyId: id(2) }).resolves({ KeyRotationEnabled: true });
    kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
  }
  const config = parseConfig({ approvedExemptionPrincipals: [SECURITY] });
  const kms = new KMSClient({ region: "eu-west-1" });

  it("only for exempt-tagged keys with a finding, and judges with the answer", async () => {
    world();
    const asked = vi.fn(async () => {
      const event = normalise(JSON.parse(tagged(SECURITY).CloudTrailEvent));
      return event;
    });
    const result = await scanRegion(
      { kms, budget: UNLIMITED, tagSetter: asked },
      { account: ACCOUNT, region: "eu-west-1" },
      config,
      {
        concurrency: 2,
      },
    );
    expect(asked.mock.calls).toEqual([[arn(1), TAG]]);
    const verdicts = Object.fromEntries(result.findings.map((f) => [f.key?.arn, f.verdicts ?? []]));
    expect(verdicts).toEqual({ [arn(1)]: ["exemption-approved"], [arn(3)]: [] });
  });

  it("a failed lookup is recorded and the origin taken as unknown", async () => {
    world();
    const asked = vi.fn(async (): Promise<KmsEvent | undefined> => {
      throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    });
    const result = await scanRegion(
      { kms, budget: UNLIMITED, tagSetter: asked },
      { account: ACCOUNT, region: "eu-west-1" },
      config,
      {
        concurrency: 2,
      },
    );
    expect(result.errors).toEqual([`${id(1)}: exemption origin: ThrottlingException: Rate exceeded`]);
    expect(result.findings.find((f) => f.key?.arn === arn(1))?.verdicts).toEqual([
      "exemption-origin-unknown",
    ]);
  });
});
