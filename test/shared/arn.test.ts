/**
 * The one ARN parser: ARNs split into their six fields (the resource keeps any further `:`), key
 * ARNs parsed into a KeyRef, role sessions mapped to their roles, and principals to their account,
 * in every partition.
 */
import { describe, expect, it } from "vitest";
import {
  aliasOf,
  isKeyId,
  keyRefOf,
  parseArn,
  parseKeyArn,
  partitionOfRegion,
  principalAccount,
  roleArnOfSession,
} from "../../functions/shared/arn.js";
import { GRANT_KEY_ID } from "../helpers/fixtures.js";

const KEY_ID = GRANT_KEY_ID;
const MRK = "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";

describe("parseArn", () => {
  it("splits an ARN into partition, service, Region, account and resource", () => {
    // Act / Assess
    expect(parseArn(`arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`)).toEqual({
      partition: "aws",
      service: "kms",
      region: "us-east-1",
      account: "111122223333",
      resource: `key/${KEY_ID}`,
    });
  });

  it("keeps every further `:` in the resource (role paths, aliases)", () => {
    // Act / Assess
    expect(parseArn("arn:aws:iam::111122223333:role/team:a/Admin")).toEqual({
      partition: "aws",
      service: "iam",
      region: "",
      account: "111122223333",
      resource: "role/team:a/Admin",
    });
  });

  it.each([
    ["aws-cn", "arn:aws-cn:kms:cn-north-1:111122223333:key/x"],
    ["aws-us-gov", "arn:aws-us-gov:iam::111122223333:role/Admin"],
    ["aws-iso-b", "arn:aws-iso-b:kms:us-isob-east-1:111122223333:key/x"],
  ])("reads the %s partition", (partition, arn) => {
    // Act / Assess
    expect(parseArn(arn)?.partition).toBe(partition);
  });

  it("an S3 ARN without Region and account keeps both empty", () => {
    // Act / Assess
    expect(parseArn("arn:aws:s3:::my-bucket/key:with:colons")).toEqual({
      partition: "aws",
      service: "s3",
      region: "",
      account: "",
      resource: "my-bucket/key:with:colons",
    });
  });

  it.each([
    ["undefined", undefined],
    ["empty", ""],
    ["not an ARN", "not-an-arn"],
    ["too few fields", "arn:aws:kms:us-east-1:111122223333"],
    ["no service", "arn:aws::us-east-1:111122223333:key/x"],
    ["another partition scheme", "arn:azure:kms:us-east-1:111122223333:key/x"],
    ["an upper-case prefix", "ARN:aws:kms:us-east-1:111122223333:key/x"],
    ["a leading space", " arn:aws:kms:us-east-1:111122223333:key/x"],
  ])("is undefined for %s", (_label, value) => {
    // Act / Assess
    expect(parseArn(value)).toBeUndefined();
  });
});

describe("parseKeyArn", () => {
  it("parses a key ARN into a KeyRef", () => {
    // Act / Assess
    expect(parseKeyArn(`arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`)).toEqual({
      arn: `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`,
      id: KEY_ID,
      region: "us-east-1",
      account: "111122223333",
      partition: "aws",
    });
  });

  it.each([
    ["aws-cn", "cn-north-1"],
    ["aws-us-gov", "us-gov-west-1"],
  ])("parses a multi-Region key of the %s partition", (partition, region) => {
    // Act / Assess
    expect(parseKeyArn(`arn:${partition}:kms:${region}:111122223333:key/${MRK}`)).toEqual({
      arn: `arn:${partition}:kms:${region}:111122223333:key/${MRK}`,
      id: MRK,
      region,
      account: "111122223333",
      partition,
    });
  });

  it.each([
    ["an alias ARN", "arn:aws:kms:us-east-1:111122223333:alias/payments"],
    ["a bare key id", KEY_ID],
    ["an alias name", "alias/payments"],
    ["another service", `arn:aws:iam::111122223333:key/${KEY_ID}`],
    ["an account that is not 12 digits", `arn:aws:kms:us-east-1:11112222333:key/${KEY_ID}`],
    ["no Region", `arn:aws:kms::111122223333:key/${KEY_ID}`],
    ["an upper-case Region", `arn:aws:kms:US-EAST-1:111122223333:key/${KEY_ID}`],
    ["no key id", "arn:aws:kms:us-east-1:111122223333:key/"],
    ["a key id with a slash", `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}/extra`],
    ["a key id with a colon", `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}:1`],
    ["a key id with a space", "arn:aws:kms:us-east-1:111122223333:key/a b"],
    ["undefined", undefined],
  ])("is undefined for %s", (_label, value) => {
    // Act / Assess
    expect(parseKeyArn(value)).toBeUndefined();
  });
});

describe("keyRefOf, aliasOf, isKeyId, partitionOfRegion", () => {
  it("keyRefOf qualifies a key id with where it was logged", () => {
    // Act / Assess
    expect(keyRefOf(KEY_ID, { region: "cn-north-1", account: "111122223333", partition: "aws-cn" })).toEqual({
      arn: `arn:aws-cn:kms:cn-north-1:111122223333:key/${KEY_ID}`,
      id: KEY_ID,
      region: "cn-north-1",
      account: "111122223333",
      partition: "aws-cn",
    });
  });

  it.each([
    ["alias/payments", "alias/payments"],
    ["arn:aws:kms:us-east-1:111122223333:alias/payments", "alias/payments"],
    ["arn:aws-cn:kms:cn-north-1:111122223333:alias/team/payments", "alias/team/payments"],
    [`arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`, undefined],
    ["arn:aws:iam::111122223333:alias/payments", undefined],
    [KEY_ID, undefined],
    ["", undefined],
    [undefined, undefined],
  ])("aliasOf(%j) is %j", (value, alias) => {
    // Act / Assess
    expect(aliasOf(value)).toBe(alias);
  });

  it.each([
    [KEY_ID, true],
    [KEY_ID.toUpperCase(), true],
    [MRK, true],
    ["mrk-6c7d", false],
    ["7f3c9a12-4b8e-4d21-9c6a", false],
    [`${KEY_ID}x`, false],
    ["alias/payments", false],
    [`arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`, false],
    [undefined, false],
  ])("isKeyId(%j) is %s", (value, expected) => {
    // Act / Assess
    expect(isKeyId(value)).toBe(expected);
  });

  it.each([
    ["cn-north-1", "aws-cn"],
    ["cn-northwest-1", "aws-cn"],
    ["us-gov-west-1", "aws-us-gov"],
    ["us-east-1", "aws"],
    ["eu-central-1", "aws"],
    [undefined, "aws"],
  ])("partitionOfRegion(%j) is %s", (region, partition) => {
    // Act / Assess
    expect(partitionOfRegion(region)).toBe(partition);
  });
});

describe("principalAccount", () => {
  it.each([
    ["444455556666", "444455556666"],
    ["arn:aws:iam::444455556666:root", "444455556666"],
    ["arn:aws:iam::444455556666:role/exfil", "444455556666"],
    ["arn:aws:iam::444455556666:user/contractor", "444455556666"],
    ["arn:aws:iam::444455556666:role/path/to/role", "444455556666"],
    ["arn:aws:sts::444455556666:assumed-role/exfil/session", "444455556666"],
    ["arn:aws-us-gov:iam::444455556666:role/exfil", "444455556666"],
    ["arn:aws-cn:iam::444455556666:role/exfil", "444455556666"],
    ["arn:aws-cn:sts::444455556666:assumed-role/exfil/s", "444455556666"],
  ])("reads the account of %s", (principal, account) => {
    // Act / Assess
    expect(principalAccount(principal)).toBe(account);
  });

  it.each([
    "AROAEXAMPLEID12345678",
    "4444555566667",
    "44445555666",
    "dynamodb.us-east-1.amazonaws.com",
    "111122223333:aws:ec2-infrastructure:i-081c9bc0a8e0ad1b1",
    "arn:aws:s3:::444455556666-bucket",
    `arn:aws:kms:us-east-1:444455556666:key/${GRANT_KEY_ID}`,
    "arn:aws:iam::4444555566:role/short-account",
    "*",
    "",
  ])("is undefined for %j", (principal) => {
    // Act / Assess
    expect(principalAccount(principal)).toBeUndefined();
  });
});

describe("roleArnOfSession", () => {
  it("turns an assumed-role session ARN into its role ARN", () => {
    // Act / Assess
    expect(roleArnOfSession("arn:aws:sts::111122223333:assumed-role/Developer/sam.ortiz")).toBe(
      "arn:aws:iam::111122223333:role/Developer",
    );
  });

  it.each(["aws-cn", "aws-us-gov"])("keeps the %s partition", (partition) => {
    // Act / Assess
    expect(roleArnOfSession(`arn:${partition}:sts::111122223333:assumed-role/Developer/s`)).toBe(
      `arn:${partition}:iam::111122223333:role/Developer`,
    );
  });

  it("keeps a session name that contains slashes", () => {
    // Act / Assess
    expect(roleArnOfSession("arn:aws:sts::111122223333:assumed-role/Developer/a/b")).toBe(
      "arn:aws:iam::111122223333:role/Developer",
    );
  });

  it("a session of a role with a path: the session ARN carries no path, so neither does the role ARN", () => {
    // Prepare: role arn:aws:iam::111122223333:role/team/payments/Developer, assumed
    const session = "arn:aws:sts::111122223333:assumed-role/Developer/ana";

    // Act / Assess
    expect(roleArnOfSession(session)).toBe("arn:aws:iam::111122223333:role/Developer");
  });

  it.each([
    "arn:aws:iam::111122223333:role/Developer",
    "arn:aws:iam::111122223333:role/team/payments/Developer",
    "arn:aws:iam::111122223333:user/mallory",
    "arn:aws:sts::111122223333:assumed-role/Developer",
    "arn:aws:sts::111122223333:assumed-role/Developer/",
    "arn:aws:sts::111122223333:assumed-role//session",
    "arn:aws:sts::111122223333:federated-user/bob",
    "AROAEXAMPLEID12345678",
    "",
  ])("returns %j unchanged", (arn) => {
    // Act / Assess
    expect(roleArnOfSession(arn)).toBe(arn);
  });
});
