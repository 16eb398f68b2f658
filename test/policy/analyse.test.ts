import { describe, expect, it } from "vitest";
import {
  analysePolicy,
  POLICY_REASON_SEVERITIES,
  type PolicyContext,
  type PolicyFinding,
  type PolicyReason,
} from "../../functions/shared/policy/analyse.js";

const KEY_ACCOUNT = "111122223333";
const TRUSTED_ACCOUNT = "444455556666";
const UNTRUSTED_ACCOUNT = "999988887777";
const TRUSTED_ORG = "o-a1b2c3d4e5";

const context: PolicyContext = {
  keyAccount: KEY_ACCOUNT,
  trustedAccounts: [TRUSTED_ACCOUNT],
  trustedOrganizationIds: [TRUSTED_ORG],
};

/** The one statement of the default key policy KMS applies when CreateKey gets no policy. */
const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:root` },
  Action: "kms:*",
  Resource: "*",
};

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
const RESOURCE_ACCOUNT = "${aws:ResourceAccount}";
const ADMIN_ROLE = `arn:aws:iam::${KEY_ACCOUNT}:role/ExampleAdminRole`;
const USER_ROLE = `arn:aws:iam::${KEY_ACCOUNT}:role/ExampleUserRole`;

/** The console's default key policy (AWS KMS Developer Guide, "Default key policy"). */
function consolePolicy(admin: string, user: string) {
  return {
    Version: "2012-10-17",
    Id: "key-consolepolicy-3",
    Statement: [
      ROOT_STATEMENT,
      {
        Sid: "Allow access for Key Administrators",
        Effect: "Allow",
        Principal: { AWS: admin },
        Action: [
          "kms:Create*",
          "kms:Describe*",
          "kms:Enable*",
          "kms:List*",
          "kms:Put*",
          "kms:Update*",
          "kms:Revoke*",
          "kms:Disable*",
          "kms:Get*",
          "kms:Delete*",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:ScheduleKeyDeletion",
          "kms:CancelKeyDeletion",
          "kms:RotateKeyOnDemand",
        ],
        Resource: "*",
      },
      {
        Sid: "Allow use of the key",
        Effect: "Allow",
        Principal: { AWS: user },
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: "*",
      },
      {
        Sid: "Allow attachment of persistent resources",
        Effect: "Allow",
        Principal: { AWS: user },
        Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        Resource: "*",
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
    ],
  };
}

/** A policy made of the root statement plus the given ones (so missing-root-delegation stays quiet). */
function withRoot(...statements: unknown[]) {
  return { Version: "2012-10-17", Statement: [ROOT_STATEMENT, ...statements] };
}

function reasons(findings: readonly PolicyFinding[]): PolicyReason[] {
  return findings.map((finding) => finding.reason);
}

function only(findings: readonly PolicyFinding[], reason: PolicyReason): PolicyFinding[] {
  return findings.filter((finding) => finding.reason === reason);
}

function allow(principal: unknown, action: unknown, condition?: unknown) {
  return condition === undefined
    ? { Effect: "Allow", Principal: principal, Action: action, Resource: "*" }
    : { Effect: "Allow", Principal: principal, Action: action, Resource: "*", Condition: condition };
}

describe("analysePolicy: AWS default policies", () => {
  it("finds nothing in the default key policy KMS creates, given as CloudTrail's JSON string", () => {
    // Prepare
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Id: "key-default-1",
      Statement: [ROOT_STATEMENT],
    });

    // Act
    const analysis = analysePolicy(policy, context);

    // Assess
    expect(analysis).toEqual({ findings: [], statements: [ROOT_STATEMENT], error: undefined });
  });

  it("finds nothing in the console's default policy with separate admin and user roles", () => {
    // Prepare
    const policy = consolePolicy(ADMIN_ROLE, USER_ROLE);

    // Act
    const analysis = analysePolicy(policy, context);

    // Assess
    expect(analysis.error).toBeUndefined();
    expect(analysis.findings).toEqual([]);
    expect(analysis.statements).toHaveLength(4);
  });

  it("reports admin-and-usage-combined when the console policy names one role as both admin and user", () => {
    // Prepare
    const policy = consolePolicy(ADMIN_ROLE, ADMIN_ROLE);

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "admin-and-usage-combined",
        severity: "low",
        statementIndex: 1,
        sid: "Allow access for Key Administrators",
        explanation: expect.stringContaining(ADMIN_ROLE),
      },
    ]);
  });
});

describe("analysePolicy: public-principal", () => {
  it.each([
    ['Principal "*"', "*"],
    ['{"AWS": "*"}', { AWS: "*" }],
    ['"*" inside an AWS array', { AWS: [USER_ROLE, "*"] }],
    ["an ARN whose account is a wildcard", { AWS: "arn:aws:iam::*:root" }],
  ])("reports %s allowed with no condition as critical", (_name, principal) => {
    // Prepare
    const policy = withRoot(allow(principal, "kms:Decrypt"));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "public-principal",
        severity: "critical",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringContaining("kms:Decrypt"),
      },
    ]);
  });

  it.each([
    ["aws:PrincipalOrgID to a trusted organisation", { StringEquals: { "aws:PrincipalOrgID": TRUSTED_ORG } }],
    ["kms:CallerAccount to the key's account", { StringEquals: { "kms:CallerAccount": KEY_ACCOUNT } }],
    [
      "aws:PrincipalAccount to a trusted account",
      { StringEquals: { "aws:PrincipalAccount": TRUSTED_ACCOUNT } },
    ],
    ["aws:PrincipalArn to a role of the key's account", { ArnLike: { "aws:PrincipalArn": `${USER_ROLE}*` } }],
    [
      "aws:PrincipalOrgPaths under a trusted organisation",
      { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": `${TRUSTED_ORG}/r-ab12/*` } },
    ],
    ["aws:SourceAccount to the key's account", { StringEquals: { "aws:SourceAccount": KEY_ACCOUNT } }],
    ["a condition key written in another case", { StringEquals: { "AWS:PrincipalOrgId": TRUSTED_ORG } }],
    [
      "StringEqualsIfExists on aws:PrincipalAccount (present in every signed request)",
      { StringEqualsIfExists: { "aws:PrincipalAccount": KEY_ACCOUNT } },
    ],
    [
      "the aws:ResourceAccount policy variable",
      { StringEquals: { "aws:PrincipalAccount": RESOURCE_ACCOUNT } },
    ],
  ])("does not report Principal * pinned by %s", (_name, condition) => {
    // Prepare
    const policy = withRoot(allow("*", "kms:Decrypt", condition));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it.each([
    ['StringLike aws:PrincipalArn "*"', { StringLike: { "aws:PrincipalArn": "*" } }],
    [
      "ArnLike aws:PrincipalArn with a wildcard account",
      { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/x" } },
    ],
    [
      "ArnEquals (which honours wildcards) with a wildcard account",
      { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::*:role/x" } },
    ],
    ['StringLike aws:PrincipalOrgID "o-*"', { StringLike: { "aws:PrincipalOrgID": "o-*" } }],
    ["a wildcard among pinned values", { StringLike: { "aws:PrincipalAccount": [KEY_ACCOUNT, "*"] } }],
    [
      "StringEqualsIfExists on aws:PrincipalOrgID (absent for callers outside any organisation)",
      { StringEqualsIfExists: { "aws:PrincipalOrgID": TRUSTED_ORG } },
    ],
    ["a condition on a key that pins nothing", { StringEquals: { "kms:EncryptionContext:app": "web" } }],
    ["a negated operator", { StringNotEquals: { "aws:PrincipalAccount": UNTRUSTED_ACCOUNT } }],
  ])("reports Principal * when the condition is %s", (_name, condition) => {
    // Prepare
    const policy = withRoot(allow("*", "kms:Decrypt", condition));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["public-principal"]);
  });

  it("reports Principal * allowed with only kms:ViaService, and says ViaService does not pin the caller", () => {
    // Prepare
    const policy = withRoot(
      allow("*", ["kms:Decrypt", "kms:GenerateDataKey*"], {
        StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" },
      }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["public-principal"]);
    expect(findings[0]?.explanation).toContain("kms:ViaService");
  });

  it("reports Allow with NotPrincipal, naming who is excepted", () => {
    // Prepare
    const policy = withRoot({
      Effect: "Allow",
      NotPrincipal: { AWS: USER_ROLE },
      Action: "kms:Decrypt",
      Resource: "*",
    });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["public-principal"]);
    expect(findings[0]?.explanation).toContain(`every principal except ${USER_ROLE}`);
  });

  it("never treats a Service principal as public (without a source condition it is only low)", () => {
    // Prepare
    const policy = withRoot(
      allow({ Service: "logs.us-east-1.amazonaws.com" }, ["kms:Encrypt*", "kms:Decrypt*"]),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings.map((f) => [f.reason, f.severity])).toEqual([
      ["service-without-source-condition", "low"],
    ]);
  });

  it("reports external-account instead of public-principal when the pin names an untrusted account", () => {
    // Prepare
    const policy = withRoot(
      allow("*", "kms:Decrypt", { StringEquals: { "aws:PrincipalAccount": UNTRUSTED_ACCOUNT } }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["external-account"]);
    expect(findings[0]?.explanation).toContain(UNTRUSTED_ACCOUNT);
  });
});

describe("analysePolicy: external-account", () => {
  it.each([
    ["a role ARN", `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/partner`],
    ["an assumed-role session ARN", `arn:aws:sts::${UNTRUSTED_ACCOUNT}:assumed-role/partner/session`],
    ["an account root ARN", `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root`],
    ["a bare 12-digit account id", UNTRUSTED_ACCOUNT],
  ])(
    "reports %s in an untrusted account allowed to decrypt as critical, naming the account",
    (_name, principal) => {
      // Prepare
      const policy = withRoot(allow({ AWS: principal }, ["kms:Decrypt", "kms:DescribeKey"]));

      // Act
      const { findings } = analysePolicy(policy, context);

      // Assess
      expect(findings).toEqual([
        {
          reason: "external-account",
          severity: "critical",
          statementIndex: 1,
          sid: undefined,
          explanation: expect.stringContaining(`account ${UNTRUSTED_ACCOUNT}`),
        },
      ]);
    },
  );

  it.each([
    ["a role of a trusted account", `arn:aws:iam::${TRUSTED_ACCOUNT}:role/partner`],
    ["a trusted account's bare id", TRUSTED_ACCOUNT],
    ["a role of the key's own account", USER_ROLE],
    ["a unique id whose account cannot be told", "AIDAIVA3UXATCEV3JOVNK"],
  ])("does not report %s", (_name, principal) => {
    // Prepare
    const policy = withRoot(allow({ AWS: principal }, "kms:Decrypt"));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("analysePolicy: bypass-lockout-safety-check", () => {
  it("reports the request flag as a high, policy-wide finding", () => {
    // Prepare
    const bypass = { ...context, bypassPolicyLockoutSafetyCheck: true };

    // Act
    const { findings } = analysePolicy(withRoot(), bypass);

    // Assess
    expect(findings).toEqual([
      {
        reason: "bypass-lockout-safety-check",
        severity: "high",
        statementIndex: undefined,
        sid: undefined,
        explanation: expect.stringContaining("BypassPolicyLockoutSafetyCheck"),
      },
    ]);
  });

  it("reports nothing when the flag is false or absent", () => {
    // Prepare
    const off = { ...context, bypassPolicyLockoutSafetyCheck: false };

    // Act
    const withFalse = analysePolicy(withRoot(), off);
    const absent = analysePolicy(withRoot(), context);

    // Assess
    expect(withFalse.findings).toEqual([]);
    expect(absent.findings).toEqual([]);
  });
});

describe("analysePolicy: wildcard-action", () => {
  it("accepts kms:* for the key account's root given as a bare account id", () => {
    // Prepare
    const policy = {
      Statement: [{ Effect: "Allow", Principal: { AWS: KEY_ACCOUNT }, Action: "kms:*", Resource: "*" }],
    };

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it.each([
    ["kms:*", "kms:*"],
    ["*", "*"],
    ["KMS:* in another case", "KMS:*"],
  ])("reports %s allowed to a role as medium", (_name, action) => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: ADMIN_ROLE }, action, { Bool: { "kms:GrantIsForAWSResource": true } }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "wildcard-action",
        severity: "medium",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringContaining(ADMIN_ROLE),
      },
    ]);
  });

  it("reports NotAction, which allows everything but the listed actions", () => {
    // Prepare
    const policy = withRoot({
      Effect: "Allow",
      Principal: { AWS: USER_ROLE },
      NotAction: ["kms:ScheduleKeyDeletion"],
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": "ec2.us-east-1.amazonaws.com" } },
    });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["wildcard-action"]);
    expect(findings[0]?.explanation).toContain("every action except kms:ScheduleKeyDeletion");
  });

  it("does not report a role with named actions", () => {
    // Prepare
    const policy = withRoot(allow({ AWS: USER_ROLE }, ["kms:Decrypt", "kms:GenerateDataKey*"]));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("analysePolicy: deny-with-notprincipal", () => {
  it("reports Deny combined with NotPrincipal as medium", () => {
    // Prepare
    const policy = withRoot({
      Sid: "DenyAllButAdmin",
      Effect: "Deny",
      NotPrincipal: { AWS: [ADMIN_ROLE, `arn:aws:iam::${KEY_ACCOUNT}:root`] },
      Action: "kms:*",
      Resource: "*",
    });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "deny-with-notprincipal",
        severity: "medium",
        statementIndex: 1,
        sid: "DenyAllButAdmin",
        explanation: expect.stringContaining(ADMIN_ROLE),
      },
    ]);
  });

  it("does not report a Deny with a Principal", () => {
    // Prepare
    const policy = withRoot({
      Effect: "Deny",
      Principal: "*",
      Action: "kms:ScheduleKeyDeletion",
      Resource: "*",
    });

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("analysePolicy: missing-root-delegation", () => {
  it.each([
    ["there is no root statement", [allow({ AWS: USER_ROLE }, "kms:Decrypt")]],
    [
      "the root statement has a condition",
      [{ ...ROOT_STATEMENT, Condition: { Bool: { "aws:SecureTransport": "true" } } }],
    ],
    ["the root gets only some actions", [{ ...ROOT_STATEMENT, Action: ["kms:Decrypt", "kms:Describe*"] }]],
    ["the root statement is a Deny", [{ ...ROOT_STATEMENT, Effect: "Deny" }]],
    [
      "the root is another account's",
      [{ ...ROOT_STATEMENT, Principal: { AWS: `arn:aws:iam::${TRUSTED_ACCOUNT}:root` } }],
    ],
    ["the Statement list is empty", []],
  ])("reports a medium, policy-wide finding when %s", (_name, statements) => {
    // Prepare
    const policy = { Statement: statements };

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    const missing = only(findings, "missing-root-delegation");
    expect(missing).toEqual([
      {
        reason: "missing-root-delegation",
        severity: "medium",
        statementIndex: undefined,
        sid: undefined,
        explanation: expect.stringContaining(`arn:aws:iam::${KEY_ACCOUNT}:root`),
      },
    ]);
  });

  it("accepts the root among other principals, with Action * and a non-aws partition", () => {
    // Prepare
    const policy = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: [`arn:aws-cn:iam::${KEY_ACCOUNT}:root`] },
          Action: "*",
          Resource: "*",
        },
      ],
    };

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("analysePolicy: grant-without-service-condition", () => {
  it("reports kms:CreateGrant allowed to a role without a service condition as low", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: USER_ROLE }, ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "grant-without-service-condition",
        severity: "low",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringContaining(USER_ROLE),
      },
    ]);
  });

  it.each([
    ['Bool kms:GrantIsForAWSResource "true"', { Bool: { "kms:GrantIsForAWSResource": "true" } }],
    ["Bool kms:GrantIsForAWSResource true", { Bool: { "kms:GrantIsForAWSResource": true } }],
    ["StringEquals kms:ViaService", { StringEquals: { "kms:ViaService": "rds.us-east-1.amazonaws.com" } }],
    [
      "ForAnyValue:StringLike kms:ViaService",
      { "ForAnyValue:StringLike": { "kms:ViaService": "*.amazonaws.com" } },
    ],
  ])("does not report CreateGrant confined by %s", (_name, condition) => {
    // Prepare
    const policy = withRoot(allow({ AWS: USER_ROLE }, "kms:CreateGrant", condition));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it.each([
    ['Bool kms:GrantIsForAWSResource "false"', { Bool: { "kms:GrantIsForAWSResource": "false" } }],
    [
      "StringEqualsIfExists kms:ViaService (passes direct calls)",
      { StringEqualsIfExists: { "kms:ViaService": "rds.us-east-1.amazonaws.com" } },
    ],
  ])("reports CreateGrant when the condition is %s", (_name, condition) => {
    // Prepare
    const policy = withRoot(allow({ AWS: USER_ROLE }, "kms:CreateGrant", condition));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["grant-without-service-condition"]);
  });

  it("reports CreateGrant reached through kms:Create* in a key-user statement, naming the pattern", () => {
    // Prepare
    const policy = withRoot(allow({ AWS: USER_ROLE }, ["kms:Decrypt", "kms:Create*"]));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess: kms:Create* also grants kms:CreateAlias, an administration action
    expect(reasons(findings)).toEqual(["grant-without-service-condition", "admin-and-usage-combined"]);
    expect(findings[0]?.explanation).toContain("through kms:Create*");
  });

  it("does not report kms:Create* in a pure administration statement (holds PutKeyPolicy, no use)", () => {
    // Prepare
    const policy = withRoot(allow({ AWS: ADMIN_ROLE }, ["kms:Create*", "kms:Put*", "kms:Describe*"]));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("does not report the key account's root", () => {
    // Prepare
    const policy = withRoot(allow({ AWS: KEY_ACCOUNT }, "kms:CreateGrant"));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });
});

describe("analysePolicy: admin-and-usage-combined", () => {
  it("reports one role holding administration and cryptographic use across statements, once", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: USER_ROLE }, ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]),
      allow({ AWS: USER_ROLE }, ["kms:Decrypt"]),
      allow({ AWS: [USER_ROLE] }, ["kms:Encrypt"]),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([
      {
        reason: "admin-and-usage-combined",
        severity: "low",
        statementIndex: 1,
        sid: undefined,
        explanation: expect.stringMatching(/kms:PutKeyPolicy.*kms:Decrypt.*statements 2, 3, 4/),
      },
    ]);
  });

  it("matches ? and * wildcards in actions case-insensitively", () => {
    // Prepare
    const policy = withRoot(allow({ AWS: USER_ROLE }, ["KMS:?ECRYPT", "kms:schedule*"]));

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["admin-and-usage-combined"]);
    expect(findings[0]?.explanation).toContain("kms:ScheduleKeyDeletion");
    expect(findings[0]?.explanation).toContain("kms:Decrypt");
  });

  it("leaves out other accounts' principals: KMS never lets another account administer the key", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: TRUSTED_ACCOUNT }, "kms:DisableKey"),
      allow({ AWS: `arn:aws:iam::${TRUSTED_ACCOUNT}:root` }, "kms:Decrypt"),
      allow({ AWS: `arn:aws:iam::${TRUSTED_ACCOUNT}:role/ops` }, ["kms:DisableKey", "kms:Decrypt"]),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("does not count read-only actions as administration", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: USER_ROLE }, ["kms:Describe*", "kms:Get*", "kms:List*"]),
      allow({ AWS: USER_ROLE }, ["kms:Decrypt", "kms:Encrypt"]),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings).toEqual([]);
  });

  it("does not add admin-and-usage-combined where wildcard-action already covers the role", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: ADMIN_ROLE }, "kms:*", { Bool: { "kms:GrantIsForAWSResource": "true" } }),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(reasons(findings)).toEqual(["wildcard-action"]);
  });
});

describe("analysePolicy: ordering", () => {
  it("sorts findings by severity, then statement index, policy-wide findings first", () => {
    // Prepare
    const policy = {
      Statement: [
        allow({ AWS: USER_ROLE }, "kms:CreateGrant"),
        { Effect: "Deny", NotPrincipal: { AWS: ADMIN_ROLE }, Action: "kms:*", Resource: "*" },
        allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x` }, "kms:Decrypt"),
        allow("*", "kms:Decrypt"),
        allow({ AWS: ADMIN_ROLE }, "kms:*"),
      ],
    };

    // Act
    const { findings } = analysePolicy(policy, { ...context, bypassPolicyLockoutSafetyCheck: true });

    // Assess
    expect(findings.map((f) => [f.reason, f.severity, f.statementIndex])).toEqual([
      ["bypass-lockout-safety-check", "critical", undefined],
      ["external-account", "critical", 2],
      ["public-principal", "critical", 3],
      ["missing-root-delegation", "medium", undefined],
      ["deny-with-notprincipal", "medium", 1],
      ["wildcard-action", "medium", 4],
      ["grant-without-service-condition", "low", 0],
    ]);
    for (const finding of findings)
      expect(POLICY_REASON_SEVERITIES[finding.reason]).toContain(finding.severity);
  });

  it("maps every reason to the documented severity", () => {
    // Prepare, Act: the table is the contract

    // Assess
    expect(POLICY_REASON_SEVERITIES).toEqual({
      "public-principal": ["critical"],
      "account-wide-admin": ["high"],
      "external-account": ["critical", "high"],
      "bypass-lockout-safety-check": ["high", "critical"],
      "public-read-only": ["medium", "low"],
      "service-without-source-condition": ["low"],
      "wildcard-action": ["medium"],
      "deny-with-notprincipal": ["medium"],
      "missing-root-delegation": ["medium"],
      "grant-without-service-condition": ["low"],
      "admin-and-usage-combined": ["low"],
    });
  });
});

describe("analysePolicy: malformed and hostile documents", () => {
  it.each([
    ["text that is not JSON", "{ not json", /not valid JSON/],
    ["a JSON array", "[]", /an array/],
    ["JSON null", "null", /null/],
    ["a number", 42, /a number/],
    ["undefined", undefined, /undefined/],
    ["an object without Statement", { Version: "2012-10-17" }, /no Statement/],
    ["a Statement that is a string", { Statement: "Allow everything" }, /neither an object nor an array/],
    ["a Statement that is null", { Statement: null }, /neither an object nor an array/],
  ])("returns an error and no findings for %s", (_name, policy, message) => {
    // Prepare: the policy above

    // Act
    const analysis = analysePolicy(policy, { ...context, bypassPolicyLockoutSafetyCheck: true });

    // Assess
    expect(analysis.findings).toEqual([]);
    expect(analysis.statements).toEqual([]);
    expect(analysis.error).toMatch(message);
  });

  it("analyses a single Statement object as a one-statement list", () => {
    // Prepare
    const policy = { Statement: allow("*", "kms:Decrypt") };

    // Act
    const analysis = analysePolicy(policy, context);

    // Assess
    expect(analysis.statements).toHaveLength(1);
    expect(reasons(analysis.findings)).toEqual(["public-principal", "missing-root-delegation"]);
  });

  it("skips malformed statements and analyses the rest, keeping indexes aligned", () => {
    // Prepare
    const policy = {
      Statement: [
        42,
        null,
        "Allow",
        [ROOT_STATEMENT],
        { Effect: "Allow", Principal: 12, Action: { nested: ["kms:*"] } },
        { Effect: "Allow", Principal: { AWS: [null, 7, { deep: true }] }, Action: [1, null] },
        { Effect: 1, Principal: "*", Action: "kms:*" },
        { Effect: "Allow", Principal: { Unknown: "x", AWS: 5 }, Action: "kms:Decrypt", Condition: "junk" },
        ROOT_STATEMENT,
        allow("*", "kms:Decrypt", { StringEquals: null, Bool: [1, 2] }),
      ],
    };

    // Act
    const analysis = analysePolicy(policy, context);

    // Assess
    expect(analysis.error).toBeUndefined();
    expect(analysis.statements).toHaveLength(10);
    expect(analysis.findings.map((f) => [f.reason, f.statementIndex])).toEqual([["public-principal", 9]]);
  });

  // Speed is the benchmark's business; this pins the answer (a hang would hit the test timeout).
  it("analyses 100 KB strings and pathological wildcard patterns", () => {
    // Prepare
    const huge = "x".repeat(100_000);
    const pathological = `${"*a".repeat(50_000)}b`;
    const policy = withRoot(
      {
        Sid: huge,
        Effect: "Allow",
        Principal: { AWS: [huge, `arn:aws:iam::${huge}:role/x`] },
        Action: [huge, pathological],
        Resource: "*",
      },
      allow("*", "kms:Decrypt", {
        StringLike: { "aws:PrincipalArn": [`arn:aws:iam::${KEY_ACCOUNT}:${huge}`] },
      }),
    );

    // Act
    const analysis = analysePolicy(JSON.stringify(policy), context);

    // Assess
    expect(analysis.error).toBeUndefined();
    expect(reasons(analysis.findings)).toEqual(["external-account"]);
    for (const finding of analysis.findings) {
      expect(finding.explanation.length).toBeLessThan(1_000);
      expect(finding.explanation).not.toMatch(/[\r\n]/);
    }
  });

  it("returns an error, not an exception, for deeply nested JSON", () => {
    // Prepare
    const depth = 100_000;
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const policy = `{"Statement":[{"Effect":"Allow","Principal":${nested},"Action":"kms:*"}]}`;

    // Act
    const analysis = analysePolicy(policy, context);

    // Assess: either parsed (and the junk principal ignored) or reported unusable; never thrown
    expect(analysis.findings.every((f) => f.reason === "missing-root-delegation")).toBe(true);
  });

  it("keeps explanations on one line when names carry control characters", () => {
    // Prepare
    const policy = withRoot(
      allow({ AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/a\nb\u0007c` }, "kms:Decrypt"),
    );

    // Act
    const { findings } = analysePolicy(policy, context);

    // Assess
    expect(findings[0]?.explanation).toContain("role/a b c");
  });
});
