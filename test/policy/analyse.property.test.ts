import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  analysePolicy,
  POLICY_REASON_SEVERITIES,
  type PolicyAnalysis,
  type PolicyContext,
  removeStatements,
} from "../../functions/shared/policy/analyse.js";
import { severityRank } from "../../functions/shared/types.js";

const KEY_ACCOUNT = "111122223333";
const TRUSTED_ACCOUNT = "444455556666";
const UNTRUSTED_ACCOUNT = "999988887777";

const context: PolicyContext = {
  keyAccount: KEY_ACCOUNT,
  trustedAccounts: [TRUSTED_ACCOUNT],
  trustedOrganizationIds: ["o-a1b2c3d4e5"],
};

const RUNS = { numRuns: 200 };
/** Generous: a run takes well under a millisecond; this only catches super-linear blow-ups. */

// --- Arbitraries: policy-shaped values, with junk mixed in where real policies could hold it ---

const account = fc.constantFrom(KEY_ACCOUNT, TRUSTED_ACCOUNT, UNTRUSTED_ACCOUNT, "*", "12345");
const principalValue = fc.oneof(
  fc.constant("*"),
  account,
  account.map((a) => `arn:aws:iam::${a}:root`),
  account.map((a) => `arn:aws:iam::${a}:role/app`),
  account.map((a) => `arn:aws:sts::${a}:assumed-role/app/session`),
  fc.string(),
);
const principalList = fc.oneof(principalValue, fc.array(principalValue, { maxLength: 4 }));
const principal = fc.oneof(
  principalList,
  fc.record({ AWS: principalList }),
  fc.record({ Service: fc.constantFrom("logs.amazonaws.com", "cloudtrail.amazonaws.com") }),
  fc.record({ Federated: principalList }),
  fc.record({ CanonicalUser: fc.string() }),
  fc.anything(),
);
const action = fc.oneof(
  fc.constantFrom(
    "kms:*",
    "*",
    "kms:Decrypt",
    "KMS:encrypt",
    "kms:?ecrypt",
    "kms:Create*",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:Describe*",
    "kms:Get*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "s3:*",
  ),
  fc.string(),
);
const actions = fc.oneof(action, fc.array(action, { maxLength: 5 }), fc.anything());
const conditionValue = fc.oneof(
  fc.constantFrom(KEY_ACCOUNT, UNTRUSTED_ACCOUNT, "o-a1b2c3d4e5", "o-*", "*", "true", "false"),
  fc.constantFrom(
    `arn:aws:iam::${KEY_ACCOUNT}:role/x`,
    "arn:aws:iam::*:role/x",
    "s3.us-east-1.amazonaws.com",
  ),
  fc.boolean(),
  fc.string(),
);
const condition = fc.dictionary(
  fc.constantFrom(
    "StringEquals",
    "StringLike",
    "ArnLike",
    "ArnEquals",
    "Bool",
    "ForAnyValue:StringLike",
    "StringEqualsIfExists",
    "StringNotEquals",
  ),
  fc.oneof(
    fc.dictionary(
      fc.constantFrom(
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "kms:CallerAccount",
        "aws:PrincipalArn",
        "aws:SourceAccount",
        "kms:ViaService",
        "kms:GrantIsForAWSResource",
      ),
      fc.oneof(conditionValue, fc.array(conditionValue, { maxLength: 3 })),
      { maxKeys: 2 },
    ),
    fc.anything(),
  ),
  { maxKeys: 2 },
);
const statementOf = (effect: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      Sid: fc.string({ maxLength: 8 }),
      Effect: effect,
      Principal: principal,
      NotPrincipal: principal,
      Action: actions,
      NotAction: actions,
      Resource: fc.constant("*"),
      Condition: fc.oneof(condition, fc.anything()),
    },
    { requiredKeys: ["Effect"] },
  );
const statement = statementOf(fc.oneof(fc.constantFrom("Allow", "Deny", "allow"), fc.anything()));
const allowStatement = statementOf(fc.constant("Allow"));
const policy = fc.record({
  Version: fc.constant("2012-10-17"),
  Statement: fc.array(
    fc.oneof({ weight: 4, arbitrary: statement }, { weight: 1, arbitrary: fc.anything() }),
    {
      maxLength: 8,
    },
  ),
});

// --- Invariants every analysis must hold ---

function analyse(input: unknown): PolicyAnalysis {
  return analysePolicy(input, context);
}

function assertWellFormed(analysis: PolicyAnalysis): void {
  if (analysis.error !== undefined) expect(analysis.findings).toEqual([]);
  let previous: [number, number] = [-1, -2];
  for (const finding of analysis.findings) {
    expect(POLICY_REASON_SEVERITIES[finding.reason]).toContain(finding.severity);
    expect(finding.explanation).not.toMatch(/[\r\n]/);
    if (finding.statementIndex !== undefined) {
      expect(finding.statementIndex).toBeGreaterThanOrEqual(0);
      expect(finding.statementIndex).toBeLessThan(analysis.statements.length);
    }
    const key: [number, number] = [severityRank(finding.severity), finding.statementIndex ?? -1];
    expect(key[0] > previous[0] || (key[0] === previous[0] && key[1] >= previous[1])).toBe(true);
    previous = key;
  }
}

/** Findings as comparable keys; missing-root-delegation is policy-wide and left out by callers. */
function findingKeys(analysis: PolicyAnalysis): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of analysis.findings) {
    if (f.reason === "missing-root-delegation") continue;
    const key = `${f.reason}|${f.statementIndex}|${f.sid}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe("analysePolicy properties", () => {
  it("never throws, and returns well-formed findings, for any value", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        assertWellFormed(analyse(value));
      }),
      RUNS,
    );
  });

  it("never throws for any JSON text or any string", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        assertWellFormed(analyse(text));
      }),
      RUNS,
    );
  });

  it("never throws for policy-shaped objects, as objects or as JSON text", () => {
    fc.assert(
      fc.property(policy, fc.boolean(), (document, asText) => {
        const analysis = analyse(asText ? JSON.stringify(document) : document);
        expect(analysis.error).toBeUndefined();
        assertWellFormed(analysis);
      }),
      RUNS,
    );
  });

  it("never loses a finding when an Allow statement is added (except missing-root-delegation)", () => {
    // An added Allow statement can only grant more. The one finding it may legitimately remove
    // is missing-root-delegation: the added statement may be the root's kms:* delegation.
    fc.assert(
      fc.property(policy, allowStatement, (document, added) => {
        const before = findingKeys(analysePolicy(document, context));
        const after = findingKeys(
          analysePolicy({ ...document, Statement: [...document.Statement, added] }, context),
        );
        for (const [key, count] of before) expect(after.get(key) ?? 0).toBeGreaterThanOrEqual(count);
      }),
      RUNS,
    );
  });

  it("removeStatements never throws, and only ever returns a repaired policy that is safe", () => {
    fc.assert(
      fc.property(policy, fc.boolean(), (document, bypass) => {
        const given = { ...context, bypassPolicyLockoutSafetyCheck: bypass };
        const result = removeStatements(document, given);
        if (result.outcome !== "repaired") return;
        const after = analysePolicy(result.policy, context);
        expect(after.findings.filter((f) => f.severity === "critical")).toEqual([]);
        expect(after.findings.filter((f) => f.reason === "missing-root-delegation")).toEqual([]);
        expect(result.policy.Statement.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it("removeStatements repairs every policy that keeps its root delegation: the owners are never removed", () => {
    fc.assert(
      fc.property(policy, (document) => {
        // Prepare: a policy that delegates to the key account's root, plus whatever was generated
        const withRoot = {
          ...document,
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: [`arn:aws:iam::${KEY_ACCOUNT}:root`, "*"] },
              Action: "kms:*",
            },
            ...document.Statement,
          ],
        };
        const before = analysePolicy(withRoot, context);
        fc.pre(!before.findings.some((f) => f.reason === "missing-root-delegation"));

        // Act
        const result = removeStatements(withRoot, context);

        // Assess: the public principal sharing the root's statement makes it critical every time
        expect(result.outcome).toBe("repaired");
      }),
      RUNS,
    );
  });

  it("analyses a 5,000-statement policy without throwing, in linear time", () => {
    // Prepare
    const shapes: unknown[] = [
      { Effect: "Allow", Principal: "*", Action: "kms:Decrypt" },
      {
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x` },
        Action: ["kms:Encrypt"],
      },
      { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/admin` }, Action: "kms:*" },
      { Effect: "Deny", NotPrincipal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:root` }, Action: "kms:*" },
      {
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/u` },
        Action: ["kms:Create*", "kms:Put*"],
      },
      null,
      42,
    ];
    const statements = Array.from({ length: 5_000 }, (_unused, i) => {
      const shape = shapes[i % shapes.length];
      return typeof shape === "object" && shape !== null ? { ...shape, Sid: `s${i}` } : shape;
    });

    // Act
    const analysis = analysePolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }), context);

    // Assess
    expect(analysis.error).toBeUndefined();
    expect(analysis.statements).toHaveLength(5_000);
    expect(analysis.findings.filter((f) => f.reason === "public-principal")).toHaveLength(
      Math.ceil(5_000 / 7),
    );
    assertWellFormed(analysis);
  });
});
