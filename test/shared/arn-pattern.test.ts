import { describe, expect, it } from "vitest";
import { arnLike, patternProblem } from "../../functions/shared/arn-pattern.js";
import { parseConfig } from "../../functions/shared/config.js";

const ACCOUNT = "111122223333";

describe("arnLike: principal patterns match ARN fields one by one", () => {
  it.each([
    [`arn:aws:iam::${ACCOUNT}:role/Admin`, `arn:aws:iam::${ACCOUNT}:role/Admin`, true],
    [`arn:aws:iam::${ACCOUNT}:role/Admin`, `arn:aws:iam::${ACCOUNT}:role/AdminX`, false],
    [`arn:aws:iam::${ACCOUNT}:role/kms-*`, `arn:aws:iam::${ACCOUNT}:role/kms-responder`, true],
    [`arn:aws:iam::${ACCOUNT}:role/kms-*`, `arn:aws:iam::${ACCOUNT}:role/kms-`, true],
    ["arn:aws:iam::*:role/Admin", "arn:aws:iam::444455556666:role/Admin", true],
    ["arn:aws:iam::*:role/Admin", "arn:aws:iam::444455556666:role/Admins", false],
    ["arn:*:iam::*:role/Admin", "arn:aws-us-gov:iam::444455556666:role/Admin", true],
    ["arn:aws:iam::*:role/Admin", "arn:aws:iam::444455556666:user/Admin", false],
    [`arn:aws:iam::${ACCOUNT}:role/*`, "arn:aws:iam::444455556666:role/Admin", false],
    [`arn:aws:iam::${ACCOUNT}:role/a?c`, `arn:aws:iam::${ACCOUNT}:role/abc`, true],
    [`arn:aws:iam::${ACCOUNT}:role/a.b`, `arn:aws:iam::${ACCOUNT}:role/aXb`, false],
    [`arn:aws:iam::${ACCOUNT}:role/team/*`, `arn:aws:iam::${ACCOUNT}:role/team/App`, true],
    [`arn:aws:iam::${ACCOUNT}:role/**`, `arn:aws:iam::${ACCOUNT}:role/a/b/App`, true],
    [`arn:aws:iam::${ACCOUNT}:role/**/App`, `arn:aws:iam::${ACCOUNT}:role/App`, true],
    [`arn:aws:iam::${ACCOUNT}:role/**/App`, `arn:aws:iam::${ACCOUNT}:role/a/b/App`, true],
    [`arn:aws:iam::${ACCOUNT}:role/**/App`, `arn:aws:iam::${ACCOUNT}:role/a/b/Other`, false],
    ["dynamodb.*.amazonaws.com", "dynamodb.us-east-1.amazonaws.com", true],
    ["dynamodb.*.amazonaws.com", "dynamodbXus-east-1Xamazonaws.com", false],
    ["(a+)+$", "(a+)+$", true],
    ["(a+)+$", "aaaa", false],
  ])("%j against %j: %s", (pattern, value, expected) => {
    // Act / Assess
    expect(arnLike(pattern, value)).toBe(expected);
  });

  it("a `*` in the account field does not cross `:` into the path of a user", () => {
    // Act / Assess
    expect(arnLike("arn:aws:iam::*:role/KeyAdmin", "arn:aws:iam::444455556666:user/x:role/KeyAdmin")).toBe(
      false,
    );
    expect(arnLike("arn:aws:iam::*:role/KeyAdmin", "arn:aws:iam::444455556666:role/x:role/KeyAdmin")).toBe(
      false,
    );
  });

  it("a `*` in the resource stays inside one path segment", () => {
    // Act / Assess
    expect(
      arnLike(`arn:aws:iam::${ACCOUNT}:role/app-*`, `arn:aws:iam::${ACCOUNT}:role/app-team/ci-exfil`),
    ).toBe(false);
    expect(
      arnLike(`arn:aws:iam::${ACCOUNT}:role/app-*`, `arn:aws:iam::${ACCOUNT}:role/app-team:ci-exfil`),
    ).toBe(false);
    expect(arnLike("*/Admin", `arn:aws:iam::${ACCOUNT}:role/Admin`)).toBe(false);
  });

  it("answers inputs that make backtracking matchers explode", () => {
    // Prepare
    const value = `arn:aws:iam::${ACCOUNT}:role/${"a".repeat(20_000)}`;
    const deep = `arn:aws:iam::${ACCOUNT}:role/${"a/".repeat(2_000)}b`;

    // Act / Assess
    expect(arnLike(`arn:aws:iam::${ACCOUNT}:role/*a*a*a*a*a*a*a*a*b`, value)).toBe(false);
    expect(arnLike(`arn:aws:iam::${ACCOUNT}:role/**/a/**/a/**/c`, deep)).toBe(false);
  });
});

describe("principal patterns in the config", () => {
  it.each([
    "*",
    "**",
    `arn:aws:iam::${ACCOUNT}:*`,
    "arn:aws:iam::*:*",
    `arn:aws:iam::${ACCOUNT}:**`,
    "arn:aws:iam:",
  ])("refuses %j", (pattern) => {
    // Act / Assess
    expect(patternProblem(pattern)).toBeDefined();
  });

  it.each(["trustedGranteePrincipals", "approvedDeletionPrincipals", "approvedDisablePrincipals"])(
    "a whole-account glob in %s is a config error naming the field",
    (field) => {
      // Act / Assess
      expect(() =>
        parseConfig({ [field]: [`arn:aws:iam::${ACCOUNT}:role/KeyAdmin`, `arn:aws:iam::${ACCOUNT}:*`] }),
      ).toThrow(new RegExp(`${field}\\.1: matches a whole account`));
    },
  );

  it("accepts named roles, path globs and service principals", () => {
    // Act
    const config = parseConfig({
      trustedGranteePrincipals: [`arn:aws:iam::${ACCOUNT}:role/app-*`, "*.amazonaws.com"],
      approvedDeletionPrincipals: ["arn:aws:iam::*:role/KeyAdmin"],
    });

    // Assess
    expect(config.trustedGranteePrincipals).toHaveLength(2);
  });
});
