import { describe, expect, it } from "vitest";
import { analysePolicy, type PolicyContext } from "../../functions/shared/policy/analyse.js";

const KEY_ACCOUNT = "111122223333";
const OUTSIDE = 444455556666;
const OUR_ORG = "o-a1b2c3d4e5";

const context: PolicyContext = {
  keyAccount: KEY_ACCOUNT,
  trustedAccounts: [],
  trustedOrganizationIds: [OUR_ORG],
};

const ROOT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:root` },
  Action: "kms:*",
  Resource: "*",
};

const reasonsOf = (...statements: unknown[]) =>
  analysePolicy({ Version: "2012-10-17", Statement: statements }, context).findings.map((f) => [
    f.reason,
    f.severity,
  ]);

describe("principals written as JSON numbers", () => {
  it("reads {AWS: 444455556666} as that account: an outside account's Decrypt is reported", () => {
    // Act / Assess
    expect(
      reasonsOf(ROOT, { Effect: "Allow", Principal: { AWS: OUTSIDE }, Action: "kms:Decrypt", Resource: "*" }),
    ).toContainEqual(["external-account", "critical"]);
  });

  it("reads the default policy with the root written as a number as the default policy: no finding", () => {
    // Act / Assess
    expect(reasonsOf({ ...ROOT, Principal: { AWS: Number(KEY_ACCOUNT) } })).toEqual([]);
  });

  it("removes a numeric outside principal when the statement is taken apart", () => {
    // Prepare
    const statement = {
      Effect: "Allow",
      Principal: { AWS: [OUTSIDE] },
      Action: "kms:Decrypt",
      Resource: "*",
    };

    // Act
    const analysis = analysePolicy({ Version: "2012-10-17", Statement: [ROOT, statement] }, context);

    // Assess
    expect(analysis.findings.map((f) => f.reason)).toContain("external-account");
  });
});

describe("a Deny narrows an Allow: the data perimeter", () => {
  const everyone = {
    Effect: "Allow",
    Principal: "*",
    Action: ["kms:Decrypt", "kms:DescribeKey"],
    Resource: "*",
  };
  const perimeter = (condition: unknown) => ({
    Effect: "Deny",
    Principal: "*",
    Action: "kms:*",
    Resource: "*",
    Condition: condition,
  });

  it("is organisation-wide access, not public, when the Deny spares only our organisation", () => {
    // Act
    const reasons = reasonsOf(
      ROOT,
      everyone,
      perimeter({
        StringNotEqualsIfExists: { "aws:PrincipalOrgID": OUR_ORG },
        BoolIfExists: { "aws:PrincipalIsAWSService": "false" },
      }),
    );

    // Assess
    expect(reasons.map(([reason]) => reason)).not.toContain("public-principal");
  });

  it("stays public when the Deny spares an organisation we do not trust", () => {
    // Act / Assess
    expect(
      reasonsOf(ROOT, everyone, perimeter({ StringNotEquals: { "aws:PrincipalOrgID": "o-zzzzzzzzzz" } })),
    ).toContainEqual(["public-principal", "critical"]);
  });

  it("stays public when the Deny does not cover what the Allow grants", () => {
    // Prepare
    const narrow = {
      ...perimeter({ StringNotEquals: { "aws:PrincipalOrgID": OUR_ORG } }),
      Action: "kms:Encrypt",
    };

    // Act / Assess
    expect(reasonsOf(ROOT, everyone, narrow)).toContainEqual(["public-principal", "critical"]);
  });

  it("an account perimeter narrows too", () => {
    // Act / Assess
    expect(
      reasonsOf(ROOT, everyone, perimeter({ StringNotEquals: { "aws:PrincipalAccount": KEY_ACCOUNT } })).map(
        ([reason]) => reason,
      ),
    ).not.toContain("public-principal");
  });
});

describe("account-wide-admin", () => {
  it("is high when everyone in our account may rewrite the policy, delete, disable or re-delegate the key", () => {
    // Prepare
    const statement = {
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
      Resource: "*",
      Condition: { StringEquals: { "kms:CallerAccount": KEY_ACCOUNT } },
    };

    // Act / Assess
    expect(reasonsOf(ROOT, statement)).toContainEqual(["account-wide-admin", "high"]);
  });

  it("is not raised for reads pinned to our account", () => {
    // Prepare
    const statement = {
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: ["kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "kms:CallerAccount": KEY_ACCOUNT } },
    };

    // Act / Assess
    expect(reasonsOf(ROOT, statement).map(([reason]) => reason)).not.toContain("account-wide-admin");
  });
});
