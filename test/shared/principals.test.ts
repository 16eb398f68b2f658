import { describe, expect, it } from "vitest";
import * as arn from "../../functions/shared/arn.js";
import {
  globMatch,
  infrastructureAccount,
  isAwsInvoker,
  isServicePrincipal,
  matchesAny,
  principalAccount,
  roleArnOfSession,
} from "../../functions/shared/principals.js";

describe("globMatch", () => {
  it.each([
    ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/Admin", true],
    ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/AdminX", false],
    ["arn:aws:iam::111122223333:role/Admin", "xarn:aws:iam::111122223333:role/Admin", false],
    [
      "arn:aws:iam::111122223333:role/kms-responder-*",
      "arn:aws:iam::111122223333:role/kms-responder-Rogue",
      true,
    ],
    ["arn:aws:iam::111122223333:role/kms-responder-*", "arn:aws:iam::111122223333:role/kms-responder-", true],
    ["arn:aws:iam::111122223333:role/kms-responder-*", "arn:aws:iam::111122223333:role/other", false],
    ["*:role/Admin", "arn:aws:iam::111122223333:role/Admin", true],
    ["arn:aws:iam::*:role/Admin", "arn:aws:iam::444455556666:role/Admin", true],
    ["arn:aws:iam::*:role/Admin", "arn:aws:iam::444455556666:role/Admins", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "aXXbYYc", true],
    ["a*b*c", "aXXbYY", false],
    ["a*b*c", "acb", false],
    ["**", "anything", true],
    ["*", "", true],
    ["*", "anything at all", true],
  ])("matches %j against %j: %s", (pattern, value, expected) => {
    // Act / Assess
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it("`*` crosses `:` and `/`: one star spans several ARN fields and path segments", () => {
    // Act / Assess
    expect(globMatch("arn:aws:iam::*", "arn:aws:iam::111122223333:role/team/payments/Admin")).toBe(true);
    expect(globMatch("arn:*:role/Admin", "arn:aws-us-gov:iam::111122223333:role/Admin")).toBe(true);
    expect(globMatch("arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/a/b/c")).toBe(true);
    expect(globMatch("*/Admin", "arn:aws:iam::111122223333:role/team/Admin")).toBe(true);
    expect(globMatch("arn:aws:iam::*:role/Admin", "arn:aws:iam::111122223333:role/x:role/Admin")).toBe(true);
    expect(globMatch("arn:aws:sts::*:assumed-role/*", "arn:aws:sts::111122223333:assumed-role/R/s:x")).toBe(
      true,
    );
  });

  it("`*` still matches only what it must: literal text around it is required", () => {
    // Act / Assess
    expect(globMatch("arn:aws:iam::*:role/Admin", "arn:aws:iam::111122223333:user/Admin")).toBe(false);
    expect(globMatch("arn:aws:iam::111122223333:role/*", "arn:aws:iam::444455556666:role/Admin")).toBe(false);
    expect(globMatch("*/Admin", "arn:aws:iam::111122223333:role/Admin/x")).toBe(false);
  });

  it("treats dots as literal dots, not any character", () => {
    // Act / Assess
    expect(globMatch("dynamodb.*.amazonaws.com", "dynamodb.us-east-1.amazonaws.com")).toBe(true);
    expect(globMatch("dynamodb.*.amazonaws.com", "dynamodbXus-east-1Xamazonaws.com")).toBe(false);
    expect(globMatch("arn:aws:iam::111122223333:role/a.b", "arn:aws:iam::111122223333:role/aXb")).toBe(false);
  });

  it("treats regex syntax as literal text", () => {
    // Act / Assess
    expect(globMatch("(a+)+$", "(a+)+$")).toBe(true);
    expect(globMatch("(a+)+$", "aaaa")).toBe(false);
    expect(globMatch("role/[A-Z]", "role/B")).toBe(false);
    expect(globMatch("role/.+", "role/x")).toBe(false);
    expect(globMatch("^role$", "role")).toBe(false);
    expect(globMatch("a?c", "abc")).toBe(false);
  });

  // Speed is the benchmark's business; this pins that such input is answered, not hung on
  // (a backtracking regex would run past the test timeout).
  it("answers inputs that make backtracking regexes explode", () => {
    // Prepare
    const value = `${"a".repeat(20_000)}!`;

    // Act
    const nested = globMatch("(a+)+$", value);
    const stars = globMatch("*a*a*a*a*a*a*a*a*b", value);

    // Assess
    expect(nested).toBe(false);
    expect(stars).toBe(false);
  });

  it("matches an empty pattern only to an empty value", () => {
    // Act / Assess
    expect(globMatch("", "")).toBe(true);
    expect(globMatch("", "arn:aws:iam::111122223333:role/Admin")).toBe(false);
  });

  it("matchesAny is false for no patterns and for an undefined value", () => {
    // Act / Assess
    expect(matchesAny([], "arn:aws:iam::111122223333:role/Admin")).toBe(false);
    expect(matchesAny(["*"], undefined)).toBe(false);
    expect(matchesAny(["x", "arn:*"], "arn:aws:iam::111122223333:role/Admin")).toBe(true);
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
