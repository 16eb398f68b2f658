/**
 * The analyser's decisions on the attack classes and false positives of the decision-fidelity
 * review: IAM condition semantics, severities that follow what a principal can really do, the
 * key's own organisation, noise on real policies, hostile nesting, and a removal that never
 * removes the owners.
 */
import { describe, expect, it } from "vitest";
import {
  analysePolicy,
  type PolicyContext,
  type PolicyFinding,
  removeStatements,
} from "../../functions/shared/policy/analyse.js";

const KEY_ACCOUNT = "111122223333";
const TRUSTED_ACCOUNT = "444455556666";
const UNTRUSTED_ACCOUNT = "999988887777";
const OUR_ORG = "o-ourorg1234";
const OTHER_ORG = "o-other56789";

const context: PolicyContext = {
  keyAccount: KEY_ACCOUNT,
  trustedAccounts: [TRUSTED_ACCOUNT],
  trustedOrganizationIds: [],
};

const ROOT = `arn:aws:iam::${KEY_ACCOUNT}:root`;
const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: ROOT },
  Action: "kms:*",
  Resource: "*",
};
const APP_ROLE = `arn:aws:iam::${KEY_ACCOUNT}:role/app`;

function withRoot(...statements: unknown[]) {
  return { Version: "2012-10-17", Statement: [ROOT_STATEMENT, ...statements] };
}

function allow(principal: unknown, action: unknown, condition?: unknown) {
  return condition === undefined
    ? { Effect: "Allow", Principal: principal, Action: action, Resource: "*" }
    : { Effect: "Allow", Principal: principal, Action: action, Resource: "*", Condition: condition };
}

/** Reason and severity of each finding, in order. */
function verdict(findings: readonly PolicyFinding[]): Array<[string, string]> {
  return findings.map((f) => [f.reason, f.severity]);
}

describe("condition semantics: StringLike is a string match, ArnLike a field match", () => {
  it.each([
    ["a wildcard partition", `arn:*:iam::${KEY_ACCOUNT}:role/app`],
    ["a wildcard service", `arn:aws:*::${KEY_ACCOUNT}:role/app`],
    ["an account field cut short by a wildcard", "arn:aws:iam::1111222233*"],
    ["a ? before the account field", `arn:aws:ia?::${KEY_ACCOUNT}:role/app`],
  ])("StringLike aws:PrincipalArn with %s pins nothing: public-principal", (_name, pattern) => {
    // Prepare: role paths may hold ":", so * can swallow another account's whole ARN prefix
    const policy = withRoot(allow("*", "kms:Decrypt", { StringLike: { "aws:PrincipalArn": pattern } }));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["public-principal", "critical"]]);
  });

  it.each([
    ["a wildcard partition", `arn:*:iam::${KEY_ACCOUNT}:role/app`],
    ["a wildcard service", `arn:aws:*::${KEY_ACCOUNT}:role/app`],
    ["a wildcard role name", `arn:aws:iam::${KEY_ACCOUNT}:role/*`],
  ])("ArnLike aws:PrincipalArn with %s keeps the account field: pinned", (_name, pattern) => {
    // Prepare
    const policy = withRoot(allow("*", "kms:Decrypt", { ArnLike: { "aws:PrincipalArn": pattern } }));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("StringLike aws:PrincipalArn whose wildcard comes after the account field pins that account", () => {
    // Prepare
    const policy = withRoot(
      allow("*", "kms:Decrypt", { StringLike: { "aws:PrincipalArn": `arn:aws:iam::${KEY_ACCOUNT}:role/*` } }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("aws:SourceArn with a wildcard account does not count as a source condition", () => {
    // Prepare
    const policy = withRoot(
      allow({ Service: "sns.amazonaws.com" }, ["kms:GenerateDataKey*", "kms:Decrypt"], {
        StringLike: { "aws:SourceArn": "arn:aws:sns:us-east-1:*:topic" },
      }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["service-without-source-condition", "low"]]);
  });

  it("a kms:CallerAccount written as a JSON number pins like the string", () => {
    // Prepare: as a policy document written by hand, with the account unquoted
    const policy = `{"Statement":[${JSON.stringify(ROOT_STATEMENT)},{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":${KEY_ACCOUNT}}}}]}`;

    // Act
    const { findings, error } = analysePolicy(policy, context);

    // Assess
    expect(error).toBeUndefined();
    expect(findings).toEqual([]);
  });

  it("a number list admitting an untrusted account is external-account, critical for Decrypt", () => {
    // Prepare
    const policy = withRoot(
      allow("*", "kms:Decrypt", {
        StringEquals: { "kms:CallerAccount": [Number(KEY_ACCOUNT), Number(UNTRUSTED_ACCOUNT)] },
      }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["external-account", "critical"]]);
    expect(findings[0]?.explanation).toContain(`callers pinned to account ${UNTRUSTED_ACCOUNT}`);
  });
});

describe("severity: external-account follows what the untrusted account gets", () => {
  it.each([
    ["kms:DescribeKey", "high"],
    [["kms:GetPublicKey", "kms:ListGrants"], "high"],
    ["kms:Decrypt", "critical"],
    ["kms:ScheduleKeyDeletion", "critical"],
  ])("an untrusted account's role allowed %s: %s", (action, severity) => {
    // Prepare
    const policy = withRoot(allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/partner` }, action));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["external-account", severity]]);
  });

  it.each([
    ["kms:CreateGrant", "kms:CreateGrant"],
    ["kms:*", "kms:*"],
  ])("an untrusted account's role allowed %s: critical, and never wildcard-action", (_name, action) => {
    // Prepare
    const policy = withRoot(allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/partner` }, action));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess: another account can never administer the key, so kms:* is external-account's
    // business; its CreateGrant is not reported again as grant-without-service-condition
    expect(verdict(findings)).toEqual([["external-account", "critical"]]);
  });

  it("NotAction to an untrusted account is critical", () => {
    // Prepare
    const policy = withRoot({
      Effect: "Allow",
      Principal: { AWS: UNTRUSTED_ACCOUNT },
      NotAction: "kms:ScheduleKeyDeletion",
      Resource: "*",
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["external-account", "critical"]]);
  });

  it("an untrusted principal in a statement whose condition pins callers to the key's account is no exposure", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root` }, "kms:Decrypt", {
        StringEquals: { "aws:PrincipalAccount": KEY_ACCOUNT },
      }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("severity: bypass-lockout-safety-check", () => {
  it("is high when the policy still delegates to the key account's root", () => {
    // Act
    const { findings } = analysePolicy(withRoot(), { ...context, bypassPolicyLockoutSafetyCheck: true });

    // Assess
    expect(verdict(findings)).toEqual([["bypass-lockout-safety-check", "high"]]);
  });

  it("is critical together with missing-root-delegation (a takeover no automatic action can undo)", () => {
    // Prepare: the attacker's account takes the key and the owner's root is dropped
    const policy = {
      Statement: [allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root` }, "kms:Put*")],
    };

    // Act
    const { findings } = analysePolicy(policy, { ...context, bypassPolicyLockoutSafetyCheck: true });

    // Assess
    expect(verdict(findings)).toEqual([
      ["bypass-lockout-safety-check", "critical"],
      ["external-account", "critical"],
      ["missing-root-delegation", "medium"],
    ]);
  });
});

describe("public-read-only: sharing a public key is what signing keys are for", () => {
  it("kms:GetPublicKey alone to everyone is low public-read-only, never public-principal", () => {
    // Prepare
    const policy = withRoot(allow("*", "kms:GetPublicKey"));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "public-read-only",
        severity: "low",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringContaining("kms:GetPublicKey"),
      },
    ]);
  });

  it.each([
    ["GetPublicKey and DescribeKey", ["kms:GetPublicKey", "kms:DescribeKey"]],
    ["kms:Describe*", "kms:Describe*"],
    ["key metadata reads", ["kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:GetKeyPolicy"]],
  ])("%s to everyone is medium public-read-only", (_name, action) => {
    // Prepare
    const policy = withRoot(allow({ AWS: "*" }, action));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["public-read-only", "medium"]]);
  });

  it.each([
    ["GetPublicKey with Verify", ["kms:GetPublicKey", "kms:Verify"]],
    ["kms:Get* (GetParametersForImport starts an import)", "kms:Get*"],
    ["a kms: action this catalogue does not know", ["kms:GetPublicKey", "kms:SomeFutureAction"]],
  ])("%s to everyone is public-principal", (_name, action) => {
    // Prepare
    const policy = withRoot(allow("*", action));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["public-principal", "critical"]]);
  });

  it("a NotPrincipal Allow of GetPublicKey is public-read-only too", () => {
    // Prepare
    const policy = withRoot({ Effect: "Allow", NotPrincipal: { AWS: APP_ROLE }, Action: "kms:GetPublicKey" });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["public-read-only", "low"]]);
  });
});

describe("service-without-source-condition", () => {
  const SERVICE = { Service: "cloudtrail.amazonaws.com" };
  const USE = ["kms:GenerateDataKey*", "kms:Decrypt"];

  it("reports a service principal allowed to use the key with no source condition as low", () => {
    // Act
    const { findings } = analysePolicy(withRoot(allow(SERVICE, USE)), context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "service-without-source-condition",
        severity: "low",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringContaining("cloudtrail.amazonaws.com"),
      },
    ]);
  });

  it.each([
    ["aws:SourceAccount", { StringEquals: { "aws:SourceAccount": KEY_ACCOUNT } }],
    [
      "aws:SourceArn",
      { StringEquals: { "aws:SourceArn": `arn:aws:cloudtrail:us-east-1:${KEY_ACCOUNT}:trail/main` } },
    ],
    ["aws:SourceAccount as a number", { StringEquals: { "aws:SourceAccount": Number(KEY_ACCOUNT) } }],
    [
      "an encryption-context ARN the service sets (CloudTrail)",
      {
        StringLike: {
          "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${KEY_ACCOUNT}:trail/*`,
        },
      },
    ],
    [
      "an encryption-context ARN the service sets (CloudWatch Logs)",
      {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:us-east-1:${KEY_ACCOUNT}:log-group:app`,
        },
      },
    ],
  ])("does not report a service confined by %s", (_name, condition) => {
    // Act
    const { findings } = analysePolicy(withRoot(allow(SERVICE, USE, condition)), context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("does not report a service allowed only kms:DescribeKey", () => {
    // Act
    const { findings } = analysePolicy(withRoot(allow(SERVICE, "kms:DescribeKey")), context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("does not report kms:* or CreateGrant to a service as wildcard-action or grant-without-service-condition", () => {
    // Prepare
    const policy = withRoot(allow(SERVICE, "kms:*", { StringEquals: { "aws:SourceAccount": KEY_ACCOUNT } }));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("the key's own organisation", () => {
  const orgPinned = (org: string) =>
    withRoot(allow("*", ["kms:Decrypt", "kms:DescribeKey"], { StringEquals: { "aws:PrincipalOrgID": org } }));

  it("is trusted like the key's account when the context names it", () => {
    // Act
    const { findings } = analysePolicy(orgPinned(OUR_ORG), { ...context, keyOrganizationId: OUR_ORG });

    // Assess
    expect(findings).toEqual([]);
  });

  it("an organisation nobody vouched for, the key's own unknown: high external-account with a hint", () => {
    // Act
    const { findings } = analysePolicy(orgPinned(OUR_ORG), context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "external-account",
        severity: "high",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringContaining(`organization ${OUR_ORG}`),
        hint: `set trustedOrganizationIds or organization.id to ${OUR_ORG} if this is your organization`,
      },
    ]);
  });

  it("another organisation than the key's own, which is known: critical for Decrypt, hint to trust it", () => {
    // Act
    const { findings } = analysePolicy(orgPinned(OTHER_ORG), { ...context, keyOrganizationId: OUR_ORG });

    // Assess
    expect(verdict(findings)).toEqual([["external-account", "critical"]]);
    expect(findings[0]?.hint).toBe(
      `add ${OTHER_ORG} to trustedOrganizationIds if you trust that organization`,
    );
  });
});

describe("noise on real policies", () => {
  it.each([
    ["kms:Put*", ["kms:Create*", "kms:Describe*", "kms:Put*", "kms:Update*"]],
    ["an explicit list with kms:PutKeyPolicy", ["kms:PutKeyPolicy", "kms:DescribeKey", "kms:Decrypt"]],
    ["NotAction that leaves PutKeyPolicy", { NotAction: "kms:ScheduleKeyDeletion" }],
  ])("no missing-root-delegation when the root holds %s", (_name, action) => {
    // Prepare
    const rootStatement =
      Array.isArray(action) || typeof action === "string"
        ? { Effect: "Allow", Principal: { AWS: ROOT }, Action: action, Resource: "*" }
        : { Effect: "Allow", Principal: { AWS: ROOT }, ...action, Resource: "*" };

    // Act
    const { findings } = analysePolicy({ Statement: [rootStatement] }, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("missing-root-delegation when an unconditioned Deny takes kms:PutKeyPolicy from everyone", () => {
    // Prepare
    const policy = withRoot({ Effect: "Deny", Principal: "*", Action: "kms:PutKeyPolicy", Resource: "*" });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["missing-root-delegation", "medium"]]);
    expect(findings[0]?.explanation).toContain("Deny");
  });

  it("no missing-root-delegation for an AWS managed key (keyManager AWS)", () => {
    // Prepare: the shape of aws/ebs's policy (root gets reads only)
    const policy = {
      Statement: [
        allow(
          "*",
          ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant"],
          {
            StringEquals: {
              "kms:ViaService": "ec2.us-east-1.amazonaws.com",
              "kms:CallerAccount": KEY_ACCOUNT,
            },
          },
        ),
        allow({ AWS: ROOT }, ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"]),
      ],
    };

    // Act
    const managed = analysePolicy(policy, { ...context, keyManager: "AWS" });
    const customer = analysePolicy(policy, { ...context, keyManager: "CUSTOMER" });

    // Assess
    expect(managed.findings).toEqual([]);
    expect(verdict(customer.findings)).toEqual([["missing-root-delegation", "medium"]]);
  });

  it.each([
    ["a trusted account's root", `arn:aws:iam::${TRUSTED_ACCOUNT}:root`],
    ["a trusted account's role", `arn:aws:iam::${TRUSTED_ACCOUNT}:role/ops`],
  ])("no wildcard-action for %s (another account can never administer the key)", (_name, principal) => {
    // Act
    const { findings } = analysePolicy(withRoot(allow({ AWS: principal }, "kms:*")), context);

    // Assess: kms:* includes CreateGrant without a service condition
    expect(verdict(findings)).toEqual([["grant-without-service-condition", "low"]]);
  });

  it("wildcard-action for everyone pinned to the key's account: every principal there holds kms:*", () => {
    // Prepare
    const policy = withRoot(
      allow("*", "kms:*", {
        StringEquals: { "kms:CallerAccount": KEY_ACCOUNT, "kms:ViaService": "s3.us-east-1.amazonaws.com" },
      }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["wildcard-action", "medium"]]);
  });

  it("admin-and-usage-combined does not merge * statements that carry different conditions", () => {
    // Prepare: CloudTrail's documented policy gives * CreateAlias through EC2 and Decrypt for logs
    const policy = withRoot(
      allow("*", "kms:CreateAlias", {
        StringEquals: { "kms:ViaService": "ec2.us-east-1.amazonaws.com", "kms:CallerAccount": KEY_ACCOUNT },
      }),
      allow("*", ["kms:Decrypt", "kms:ReEncryptFrom"], {
        StringEquals: { "kms:CallerAccount": KEY_ACCOUNT },
        StringLike: {
          "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${KEY_ACCOUNT}:trail/*`,
        },
      }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("admin-and-usage-combined merges one role's statements under the same conditions, written differently", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: APP_ROLE }, "kms:DisableKey", { StringEquals: { "aws:PrincipalTag/team": ["b", "a"] } }),
      allow({ AWS: APP_ROLE }, "kms:Decrypt", { stringequals: { "AWS:PrincipalTag/Team": ["a", "b"] } }),
      allow({ AWS: APP_ROLE }, "kms:Encrypt", { StringEquals: { "aws:PrincipalTag/team": "c" } }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(verdict(findings)).toEqual([["admin-and-usage-combined", "low"]]);
    expect(findings[0]?.explanation).toContain("statements 2, 3;");
  });
});

describe("hostile nesting", () => {
  function nestedArrays(depth: number): unknown {
    let value: unknown = [];
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  }

  it.each([
    // JSON.stringify itself overflows at this depth, so the text is built by hand
    [
      "as JSON text",
      () => `{"Statement":[${JSON.stringify(ROOT_STATEMENT)},${"[".repeat(6_000)}${"]".repeat(6_000)}]}`,
    ],
    ["already parsed", () => ({ Statement: [ROOT_STATEMENT, nestedArrays(6_000)] })],
  ])(
    "a statement nested 6,000 arrays deep (%s) is an analysis error, and nothing returned overflows",
    (_name, make) => {
      // Prepare
      const policy = make();

      // Act
      const analysis = analysePolicy(policy, context);
      const removal = removeStatements(policy, context);

      // Assess
      expect(analysis.error).toMatch(/nested deeper than \d+ levels/);
      expect(analysis.findings).toEqual([]);
      expect(() => JSON.stringify(analysis)).not.toThrow();
      expect(removal.outcome).toBe("unsafe");
    },
  );

  it("an already parsed policy that refers to itself ends as an error, not a hang", () => {
    // Prepare
    const statement: Record<string, unknown> = { Effect: "Allow", Principal: "*", Action: "kms:Decrypt" };
    statement.Condition = statement;

    // Act
    const analysis = analysePolicy({ Statement: [statement] }, context);

    // Assess
    expect(analysis.error).toMatch(/nested deeper/);
  });
});

describe("removeStatements", () => {
  it("removes * from the statement it shares with the root's delegation, keeping the root", () => {
    // Prepare: the statement issue 11 found, root and * in one kms:* statement
    const policy = {
      Version: "2012-10-17",
      Id: "key-policy-1",
      Statement: [{ ...ROOT_STATEMENT, Principal: { AWS: [ROOT, "*"] } }],
    };

    // Act
    const result = removeStatements(JSON.stringify(policy), context);

    // Assess
    expect(result).toEqual({
      outcome: "repaired",
      policy: {
        Version: "2012-10-17",
        Id: "key-policy-1",
        Statement: [{ ...ROOT_STATEMENT, Principal: { AWS: [ROOT] } }],
      },
      removed: [{ statementIndex: 0, sid: "Enable IAM User Permissions", principals: ["*"] }],
      analysis: {
        findings: [],
        statements: [{ ...ROOT_STATEMENT, Principal: { AWS: [ROOT] } }],
        error: undefined,
      },
    });
  });

  it("removes a statement when its only principal offends, and a NotPrincipal Allow as a whole", () => {
    // Prepare
    const policy = withRoot(
      { Sid: "Public", ...allow("*", "kms:Decrypt") },
      {
        Sid: "AllButApp",
        Effect: "Allow",
        NotPrincipal: { AWS: APP_ROLE },
        Action: "kms:Encrypt",
        Resource: "*",
      },
    );

    // Act
    const result = removeStatements(policy, context);

    // Assess
    expect(result.outcome).toBe("repaired");
    if (result.outcome !== "repaired") return;
    expect(result.policy).toEqual({ Version: "2012-10-17", Statement: [ROOT_STATEMENT] });
    expect(result.removed).toEqual([
      { statementIndex: 1, sid: "Public", principals: "statement" },
      { statementIndex: 2, sid: "AllButApp", principals: "statement" },
    ]);
  });

  it("removes only the untrusted account's principal, keeping the key's own role and the service", () => {
    // Prepare
    const partner = `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/partner`;
    const policy = withRoot(
      allow({ AWS: [APP_ROLE, partner], Service: "logs.amazonaws.com" }, "kms:Decrypt", {
        StringEquals: {
          "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:us-east-1:${KEY_ACCOUNT}:log-group:a`,
        },
      }),
    );

    // Act
    const result = removeStatements(policy, context);

    // Assess
    expect(result.outcome).toBe("repaired");
    if (result.outcome !== "repaired") return;
    expect(result.policy.Statement[1]).toMatchObject({
      Principal: { AWS: [APP_ROLE], Service: "logs.amazonaws.com" },
    });
    expect(result.removed).toEqual([{ statementIndex: 1, sid: undefined, principals: [partner] }]);
  });

  it("removes * pinned to an untrusted account", () => {
    // Prepare
    const policy = withRoot(
      allow("*", "kms:Decrypt", { StringEquals: { "aws:PrincipalAccount": UNTRUSTED_ACCOUNT } }),
    );

    // Act
    const result = removeStatements(policy, context);

    // Assess
    expect(result.outcome === "repaired" && result.policy.Statement).toEqual([ROOT_STATEMENT]);
  });

  it("has nothing to remove from a policy without a critical finding", () => {
    // Prepare
    const policy = withRoot(allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root` }, "kms:DescribeKey"));

    // Act
    const result = removeStatements(policy, context);

    // Assess
    expect(result.outcome).toBe("nothing-to-remove");
    expect(verdict(result.analysis.findings)).toEqual([["external-account", "high"]]);
  });

  it("is unsafe when the result would lack the root's delegation (the caller disables the key instead)", () => {
    // Prepare: the owner's root was replaced by the admin role, and * was added
    const policy = {
      Statement: [
        allow({ AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/admin` }, "kms:Put*"),
        allow("*", "kms:Decrypt"),
      ],
    };

    // Act
    const result = removeStatements(policy, context);

    // Assess
    expect(result).toMatchObject({
      outcome: "unsafe",
      reason: "without the offending principals the policy would still have missing-root-delegation",
    });
  });

  it("is unsafe for a bypass takeover, whose only critical finding is policy-wide", () => {
    // Prepare
    const policy = { Statement: [allow({ AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/intruder` }, "kms:Put*")] };

    // Act
    const result = removeStatements(policy, { ...context, bypassPolicyLockoutSafetyCheck: true });

    // Assess
    expect(result.outcome).toBe("unsafe");
  });

  it("is unsafe, never a throw, when every statement offends or the document is unusable", () => {
    // Act
    const empty = removeStatements({ Statement: [allow("*", "kms:*")] }, context);
    const unreadable = removeStatements("not json", context);

    // Assess
    expect(empty).toMatchObject({ outcome: "unsafe", reason: expect.stringContaining("empty policy") });
    expect(unreadable).toMatchObject({
      outcome: "unsafe",
      reason: expect.stringContaining("not valid JSON"),
    });
  });
});
