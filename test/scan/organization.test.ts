/**
 * The organisation sweep's two ends: the (account, Region) items from Organizations (every page,
 * nested units, active accounts only, each account once) and the summary of the Map's results.
 */
import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { organizationItems, publishSummary, summarise } from "../../functions/scan/organization.js";
import { parseConfig } from "../../functions/shared/config.js";

const orgMock = mockClient(OrganizationsClient);
const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);

const config = parseConfig({
  organization: {
    id: "o-a1b2c3d4e5",
    regions: ["us-east-1", "eu-west-1"],
    organizationalUnitIds: ["ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb"],
  },
});

beforeEach(() => {
  orgMock.reset();
  s3Mock.reset();
  snsMock.reset();
});

describe("organizationItems", () => {
  it("every active account under the units (nested, every page), each once, times the Regions", async () => {
    orgMock
      .on(ListAccountsForParentCommand, { ParentId: "ou-ab12-aaaaaaaa", NextToken: undefined })
      .resolves({ Accounts: [{ Id: "111111111111", State: "ACTIVE" }], NextToken: "p2" })
      .on(ListAccountsForParentCommand, { ParentId: "ou-ab12-aaaaaaaa", NextToken: "p2" })
      .resolves({
        Accounts: [
          { Id: "222222222222", State: "SUSPENDED" },
          { Id: "333333333333", Status: "ACTIVE" },
        ],
      })
      .on(ListAccountsForParentCommand, { ParentId: "ou-ab12-cccccccc" })
      .resolves({ Accounts: [{ Id: "444444444444", State: "ACTIVE" }] })
      .on(ListAccountsForParentCommand, { ParentId: "ou-ab12-bbbbbbbb" })
      .resolves({ Accounts: [{ Id: "111111111111", State: "ACTIVE" }] });
    orgMock
      .on(ListOrganizationalUnitsForParentCommand)
      .resolves({ OrganizationalUnits: [] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: "ou-ab12-aaaaaaaa" })
      .resolves({ OrganizationalUnits: [{ Id: "ou-ab12-cccccccc" }] });
    const items = await organizationItems(config, new OrganizationsClient({ region: "us-east-1" }));
    expect(items).toEqual(
      ["111111111111", "333333333333", "444444444444"].flatMap((account) => [
        { account, region: "us-east-1" },
        { account, region: "eu-west-1" },
      ]),
    );
  });

  it("refuses to run without an organisation in the config", async () => {
    await expect(organizationItems(parseConfig({}))).rejects.toThrow(/organization/);
  });
});

describe("summarise and publishSummary", () => {
  it("adds up the succeeded results and names the failed pairs; one notification", async () => {
    const files: Record<string, unknown> = {
      "scan/results/run/manifest.json": {
        ResultFiles: {
          SUCCEEDED: [{ Key: "scan/results/run/SUCCEEDED_0.json" }],
          FAILED: [{ Key: "scan/results/run/FAILED_0.json" }],
        },
      },
      "scan/results/run/SUCCEEDED_0.json": [
        { Output: JSON.stringify({ keys: 50, findings: 3, notified: 2, resolved: 1 }) },
        { Output: JSON.stringify({ keys: 10, findings: 0, notified: 0, resolved: 0 }) },
      ],
      "scan/results/run/FAILED_0.json": [
        {
          Input: JSON.stringify({ account: "555555555555", region: "eu-west-1" }),
          Error: "Error",
          Cause: "could not assume",
        },
      ],
    };
    s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
      Body: { transformToString: () => Promise.resolve(JSON.stringify(files[input.Key])) },
    }));
    const sum = await summarise(new S3Client({ region: "us-east-1" }), "b", "scan/results/run/manifest.json");
    expect(sum).toEqual({
      pairs: 3,
      failed: 1,
      keys: 60,
      findings: 3,
      notified: 2,
      resolved: 1,
      failures: ["555555555555 eu-west-1: Error could not assume"],
    });
    snsMock.on(PublishCommand).resolves({ MessageId: "m" });
    await publishSummary(new SNSClient({ region: "us-east-1" }), "arn:aws:sns:us-east-1:111122223333:t", sum);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      Subject: "kms-responder sweep: 3 findings, 2 new, 1 pairs failed",
      MessageAttributes: {
        severity: { DataType: "String", StringValue: "medium" },
        incident: { DataType: "String", StringValue: "scan" },
      },
    });
  });
});
