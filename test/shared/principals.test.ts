import { describe, expect, it } from "vitest";
import * as arn from "../../functions/shared/arn.js";
import {
  infrastructureAccount,
  isAwsInvoker,
  isServicePrincipal,
  matchesAny,
  principalAccount,
  roleArnOfSession,
} from "../../functions/shared/principals.js";

describe("matchesAny", () => {
  it("is false for no patterns and for an undefined value", () => {
    // Act / Assess
    expect(matchesAny([], "arn:aws:iam::111122223333:role/Admin")).toBe(false);
    expect(matchesAny(["arn:aws:iam::111122223333:role/*"], undefined)).toBe(false);
    expect(matchesAny(["x", "arn:*:iam::*:role/Admin"], "arn:aws:iam::111122223333:role/Admin")).toBe(true);
  });

  it("judges the principal trimmed: CloudTrail records some with surrounding whitespace", () => {
    // Act / Assess
    expect(matchesAny(["voiceid.amazonaws.com"], "voiceid.amazonaws.com ")).toBe(true);
    expect(matchesAny(["arn:aws:iam::111122223333:role/App"], " arn:aws:iam::111122223333:role/App")).toBe(
      true,
    );
  });
});

describe("isServicePrincipal", () => {
  it.each([
    "ec2.amazonaws.com",
    "dynamodb.us-west-2.amazonaws.com",
    "rds.us-east-1.amazonaws.com",
    "ec2-frontend-api.amazonaws.com",
    "s3.cn-north-1.amazonaws.com.cn",
  ])("%s is an AWS service principal", (principal) => {
    // Act / Assess
    expect(isServicePrincipal(principal)).toBe(true);
  });

  it.each([
    "amazonaws.com",
    ".amazonaws.com",
    "ec2.amazonaws.com.evil.example",
    "ec2.amazonaws.comX",
    "EC2.AMAZONAWS.COM",
    "arn:aws:iam::111122223333:role/ec2.amazonaws.com",
    "111122223333:aws:ec2-infrastructure:i-081c9bc0a8e0ad1b1",
    "AWS Internal",
    "",
  ])("%j is not an AWS service principal", (principal) => {
    // Act / Assess
    expect(isServicePrincipal(principal)).toBe(false);
  });
});

describe("isAwsInvoker", () => {
  it.each([
    ["AWS Internal", true],
    ["dynamodb.amazonaws.com", true],
    ["ec2-frontend-api.amazonaws.com", true],
    [undefined, false],
    ["", false],
    ["aws-cli/2.22.4", false],
    ["arn:aws:iam::111122223333:user/mallory", false],
  ])("%j made the call on a principal's behalf: %s", (invokedBy, expected) => {
    // Act / Assess
    expect(isAwsInvoker(invokedBy)).toBe(expected);
  });
});

describe("infrastructureAccount", () => {
  it.each([
    ["111122223333:aws:ec2-infrastructure:i-081c9bc0a8e0ad1b1", "111122223333"],
    ["444455556666:aws:ec2-infrastructure:i-81e2f56c", "444455556666"],
    ["arn:aws:sts::111122223333:assumed-role/aws:ec2-infrastructure/i-0f1e2d3c4b5a69788", "111122223333"],
  ])("reads the account of %s", (principal, account) => {
    // Act / Assess
    expect(infrastructureAccount(principal)).toBe(account);
  });

  it.each([
    "111122223333:aws:ec2:i-081c9bc0a8e0ad1b1",
    "11112222333:aws:ec2-infrastructure:i-081c9bc0a8e0ad1b1",
    "arn:aws:iam::111122223333:role/ec2-infrastructure",
    "arn:aws:sts::111122223333:assumed-role/ec2-infrastructure/i-0f1e2d3c4b5a69788",
    "ec2.amazonaws.com",
    "",
  ])("is undefined for %j", (principal) => {
    // Act / Assess
    expect(infrastructureAccount(principal)).toBeUndefined();
  });
});

describe("re-exports", () => {
  it("principalAccount and roleArnOfSession are the ARN module's own (one parser)", () => {
    // Act / Assess
    expect(principalAccount).toBe(arn.principalAccount);
    expect(roleArnOfSession).toBe(arn.roleArnOfSession);
  });
});
