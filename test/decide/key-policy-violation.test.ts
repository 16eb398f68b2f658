import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-policy-violation/decide.js";
import { parseConfig } from "../../functions/shared/config.js";
import type { Decision, Finding, KeyFacts, PlannedAction } from "../../functions/shared/decision.js";
import {
  decisionsFor,
  ENFORCING,
  EXAMPLE,
  FAILED_CALL,
  HERE,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { type FixtureEvent, loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const { decideEvent, decideFixture } = decisionsFor("key-policy-violation", decide);

const KEY_ACCOUNT = "111122223333";
const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:root` },
  Action: "kms:*",
  Resource: "*",
};
const PUBLIC_STATEMENT = {
  Sid: "Allow decrypt",
  Effect: "Allow",
  Principal: { AWS: "*" },
  Action: "kms:Decrypt",
  Resource: "*",
};

/** The keys of the fixtures, by variant. */
const KEYS = {
  "public-policy": `arn:aws:kms:us-east-1:${KEY_ACCOUNT}:key/1d2e3f4a-5b6c-4d14-a8f9-a0b1c2d3e4f5`,
  "cross-account": `arn:aws:kms:us-east-1:${KEY_ACCOUNT}:key/3f4a5b6c-7d8e-4f36-8ab1-c2d3e4f5a6b7`,
  primary: `arn:aws:kms:us-east-1:${KEY_ACCOUNT}:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0`,
  replica: `arn:aws:kms:us-west-2:${KEY_ACCOUNT}:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0`,
} as const;

/** The finding, or a failed test when the decision ignored the call. */
function findingOf(decision: Decision): Finding {
  if (decision.kind !== "finding") throw new Error(`expected a finding, got ${JSON.stringify(decision)}`);
  return decision;
}

/** The public-policy fixture (a PutKeyPolicy by mallory) setting another policy document. */
function putKeyPolicy(policy: unknown): FixtureEvent {
  const event = loadEvent("key-policy-violation/public-policy");
  const request = event.detail.requestParameters ?? {};
  request.policy = typeof policy === "string" ? policy : JSON.stringify(policy);
  event.detail.requestParameters = request;
  return event;
}

const finding = (severity: string, reasons: string[], actions: PlannedAction[] = []): Shape => ({
  kind: "finding",
  incident: "key-policy-violation",
  severity,
  reasons,
  actions,
});
const NO_FINDING: Shape = { kind: "ignore", skipped: "no-incident", incident: "key-policy-violation" };

const disable = (keyRef: string, hold?: PlannedAction["hold"]): PlannedAction =>
  hold ? { type: "disable-key", keyRef, hold } : { type: "disable-key", keyRef };

/** Every key-policy-violation fixture; config/example.json trusts 555566667777 only, so it decides the same. */
const EVERY_FIXTURE: Array<[variant: string, expected: Shape]> = [
  ["public-policy", finding("critical", ["public-principal"], [disable(KEYS["public-policy"])])],
  // Pinned to an organisation, but not one the config trusts: exposure, not public.
  ["org-pinned-public", finding("high", ["external-account"])],
  // The partner account gets kms:Decrypt: cryptographic use by an untrusted account is critical.
  ["cross-account", finding("critical", ["external-account"], [disable(KEYS["cross-account"])])],
  ["bypass-lockout", finding("high", ["bypass-lockout-safety-check"])],
  // AWS's default key policy: nothing to report.
  ["create-key-default-policy", NO_FINDING],
  // The policy belongs to the new replica in us-west-2: that is the key disabled.
  ["replicate-key-public", finding("critical", ["public-principal"], [disable(KEYS.replica)])],
  ["failed-call", FAILED_CALL],
];

describe("key-policy-violation decide: every fixture", () => {
  it("covers every key-policy-violation fixture", () => {
    // Prepare
    const variants = loadAllEvents()
      .filter((f) => f.incident === "key-policy-violation")
      .map((f) => f.variant);

    // Assess
    expect(EVERY_FIXTURE.map(([v]) => v).sort()).toEqual(variants.sort());
  });

  it.each(EVERY_FIXTURE)("%s with the defaults", (variant, expected) => {
    // Act
    const decision = decideFixture(variant);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });

  it.each(EVERY_FIXTURE)("%s with config/example.json", (variant, expected) => {
    // Act
    const decision = decideFixture(variant, EXAMPLE);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });
});

describe("key-policy-violation decide: what the analyser's findings become", () => {
  it("public-policy: names the public statement by index and Sid and shows it", () => {
    // Act
    const decision = findingOf(decideFixture("public-policy"));

    // Assess
    expect(decision.title).toBe("Dangerous KMS key policy");
    expect(decision.details).toEqual([
      expect.stringMatching(
        /^\[critical\] public-principal in statement 2 \(Sid Allow decrypt\): .*everyone/,
      ),
      `Statement 2: ${JSON.stringify(PUBLIC_STATEMENT)}`,
    ]);
  });

  it("org-pinned-public: no incident once the organisation is trusted", () => {
    // Act
    const decision = decideFixture(
      "org-pinned-public",
      parseConfig({ mode: "enforce", trustedOrganizationIds: ["o-exampleorgid"] }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(NO_FINDING);
  });

  it("cross-account: no incident once the partner account is trusted", () => {
    // Act
    const decision = decideFixture(
      "cross-account",
      parseConfig({ mode: "enforce", trustedAccounts: ["444455556666"] }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(NO_FINDING);
  });

  it("cross-account: still external when a different account is trusted", () => {
    // Act
    const decision = decideFixture(
      "cross-account",
      parseConfig({ mode: "enforce", trustedAccounts: ["555566667777"] }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding("critical", ["external-account"], [disable(KEYS["cross-account"])]),
    );
  });

  it("replicate-key-public: acts on the replica (us-west-2), not on the primary the record names", () => {
    // Act
    const decision = findingOf(decideFixture("replicate-key-public"));

    // Assess
    expect(decision.key).toMatchObject({
      arn: KEYS.replica,
      id: "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
      region: "us-west-2",
    });
    expect(decision.actions.map((a) => a.keyRef)).toEqual([KEYS.replica]);
    expect(decision.actions.map((a) => a.keyRef)).not.toContain(KEYS.primary);
  });

  it("replicate-key-public: a record without replicaKeyMetadata targets the replica (the primary's id in the requested Region), never the primary", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/replicate-key-public");
    const response = event.detail.responseElements ?? {};
    delete response.replicaKeyMetadata;
    const replicaRegion = String(event.detail.requestParameters?.replicaRegion);

    // Act
    const decision = findingOf(decideEvent(event));

    // Assess
    expect(decision.key?.region).toBe(replicaRegion);
    expect(decision.key?.region).not.toBe(event.detail.awsRegion);
    expect(decision.actions.every((a) => a.keyRef.includes(`:${replicaRegion}:`))).toBe(true);
  });

  it("a CreateKey without a policy is not this incident", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/create-key-default-policy");
    delete event.detail.requestParameters?.policy;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(NO_FINDING);
  });

  it("a CreateKey with a public policy disables the new key", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/create-key-default-policy");
    const request = event.detail.requestParameters ?? {};
    request.policy = JSON.stringify({ Version: "2012-10-17", Statement: [ROOT_STATEMENT, PUBLIC_STATEMENT] });

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["public-principal"],
        [disable(`arn:aws:kms:us-east-1:${KEY_ACCOUNT}:key/5b6c7d8e-9f0a-4b58-acd3-e4f5a6b7c8d9`)],
      ),
    );
  });

  it.each([
    ["not JSON", "{ this is not json"],
    ["a JSON array", "[]"],
    ["a document without Statement", JSON.stringify({ Version: "2012-10-17" })],
  ])("a policy that is %s: unreadable-policy (medium), no action", (_label, policy) => {
    // Act
    const decision = findingOf(decideEvent(putKeyPolicy(policy)));

    // Assess
    expect(shapeOf(decision)).toEqual(finding("medium", ["unreadable-policy"]));
    expect(decision.summary).toContain("could not read");
  });

  it("lists every finding, most severe first, and shows each offending statement once", () => {
    // Prepare
    const role = `arn:aws:iam::${KEY_ACCOUNT}:role/app`;
    const policy = {
      Version: "2012-10-17",
      Statement: [
        ROOT_STATEMENT,
        { Sid: "Everyone", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" },
        {
          Sid: "Partner",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::444455556666:role/partner" },
          Action: "kms:Decrypt",
          Resource: "*",
        },
        {
          Effect: "Allow",
          Principal: { AWS: role },
          Action: ["kms:Encrypt", "kms:CreateGrant"],
          Resource: "*",
        },
      ],
    };

    // Act
    const decision = findingOf(decideEvent(putKeyPolicy(policy)));

    // Assess
    expect(decision.severity).toBe("critical");
    expect(decision.reasons).toEqual([
      "public-principal",
      "external-account",
      "grant-without-service-condition",
    ]);
    expect(decision.summary).toContain("3 findings:");
    expect(decision.details).toEqual([
      expect.stringMatching(/^\[critical\] public-principal in statement 2 \(Sid Everyone\): /),
      expect.stringMatching(/^\[critical\] external-account in statement 3 \(Sid Partner\): .*444455556666/),
      // No Sid: the number alone.
      expect.stringMatching(/^\[low\] grant-without-service-condition in statement 4: .*role\/app/),
      `Statement 2: ${JSON.stringify(policy.Statement[1])}`,
      `Statement 3: ${JSON.stringify(policy.Statement[2])}`,
      `Statement 4: ${JSON.stringify(policy.Statement[3])}`,
    ]);
  });

  it("names a policy-wide finding (bypass-lockout-safety-check) without a statement", () => {
    // Act
    const decision = findingOf(decideFixture("bypass-lockout"));

    // Assess
    expect(decision.details).toEqual([
      expect.stringMatching(/^\[high\] bypass-lockout-safety-check in policy: /),
    ]);
    expect(decision.extra).toEqual({
      findings: [
        expect.objectContaining({ reason: "bypass-lockout-safety-check", statementIndex: undefined }),
      ],
      offendingStatements: [],
      policySet: expect.any(String),
    });
  });

  it("truncates a huge offending statement at 2,000 characters", () => {
    // Prepare
    const huge = { ...PUBLIC_STATEMENT, Resource: "x".repeat(10_000) };
    const text = JSON.stringify(huge);

    // Act
    const decision = findingOf(
      decideEvent(putKeyPolicy({ Version: "2012-10-17", Statement: [ROOT_STATEMENT, huge] })),
    );

    // Assess
    const shown = decision.details.find((d) => d.startsWith("Statement 2: "));
    expect(shown).toBe(`Statement 2: ${text.slice(0, 2_000)}... [truncated]`);
  });

  it("extra carries the findings and the offending statements (whole) for the JSON notification", () => {
    // Act
    const decision = findingOf(decideFixture("public-policy"));

    // Assess
    expect(decision.extra).toEqual({
      findings: [
        {
          reason: "public-principal",
          severity: "critical",
          statementIndex: 1,
          sid: "Allow decrypt",
          explanation: expect.stringContaining("kms:Decrypt"),
        },
      ],
      offendingStatements: [{ index: 1, statement: PUBLIC_STATEMENT }],
      // The policy text the event set (kept for the undo even when a retry finds it repaired).
      policySet: loadEvent("key-policy-violation/public-policy").detail.requestParameters?.policy,
    });
  });
});

describe("key-policy-violation decide: onCritical, modes and held actions", () => {
  it("onCritical remove-statements plans remove-statements on the key", () => {
    // Act
    const decision = decideFixture(
      "public-policy",
      parseConfig({ mode: "enforce", onCritical: "remove-statements" }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["public-principal"],
        [{ type: "remove-statements", keyRef: KEYS["public-policy"] }],
      ),
    );
  });

  it("onCritical notify plans no action but still reports the critical finding", () => {
    // Act
    const decision = decideFixture("public-policy", parseConfig({ mode: "enforce", onCritical: "notify" }));

    // Assess
    expect(shapeOf(decision)).toEqual(finding("critical", ["public-principal"]));
  });

  it("plans no action for a high finding, whatever onCritical says", () => {
    // Act
    const decision = decideFixture(
      "org-pinned-public",
      parseConfig({ mode: "enforce", onCritical: "remove-statements" }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(finding("high", ["external-account"]));
  });

  it.each([
    ["global notify mode", parseConfig({ mode: "notify" })],
    [
      "incident notify mode",
      parseConfig({ mode: "enforce", incidents: { "key-policy-violation": { mode: "notify" } } }),
    ],
  ])("%s holds the disable as dry-run, still reporting the finding", (_label, config) => {
    // Act
    const decision = decideFixture("public-policy", config);

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["public-principal"],
        [disable(KEYS["public-policy"], { status: "dry-run", code: "notify-mode", why: expect.any(String) })],
      ),
    );
  });

  it("ignores every policy when the incident is off", () => {
    // Act
    const decision = decideFixture(
      "public-policy",
      parseConfig({ mode: "enforce", incidents: { "key-policy-violation": { mode: "off" } } }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "incident-off",
      incident: "key-policy-violation",
    });
  });

  it("holds the disable as skipped on a key tagged with the exempt tag", () => {
    // Act
    const decision = decideFixture("public-policy", ENFORCING, { tags: { "kms-responder:exempt": "true" } });

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["public-principal"],
        [
          disable(KEYS["public-policy"], {
            status: "skipped",
            code: "exempt-key",
            why: expect.stringContaining("kms-responder:exempt"),
          }),
        ],
      ),
    );
  });

  it.each([
    ["its ARN", KEYS["public-policy"]],
    ["its key id", "1d2e3f4a-5b6c-4d14-a8f9-a0b1c2d3e4f5"],
  ])("never disables the stack's notification key (listed in ignoredKeys by %s)", (_label, ref) => {
    // Act
    const decision = decideFixture("public-policy", parseConfig({ mode: "enforce", ignoredKeys: [ref] }));

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      severity: "critical",
      actions: [{ type: "disable-key", hold: { status: "skipped", code: "ignored-key" } }],
    });
  });

  it("holds remove-statements too on an ignored key", () => {
    // Act
    const decision = decideFixture(
      "public-policy",
      parseConfig({ mode: "enforce", onCritical: "remove-statements", ignoredKeys: [KEYS["public-policy"]] }),
    );

    // Assess
    expect(decision).toMatchObject({
      actions: [{ type: "remove-statements", hold: { status: "skipped", code: "ignored-key" } }],
    });
  });

  it("checks ignoredKeys against the replica a ReplicateKey created", () => {
    // Act
    const decision = decideFixture(
      "replicate-key-public",
      parseConfig({ mode: "enforce", ignoredKeys: [KEYS.replica] }),
    );

    // Assess
    expect(decision).toMatchObject({
      actions: [{ keyRef: KEYS.replica, hold: { status: "skipped", code: "ignored-key" } }],
    });
  });

  it("ignores a policy set by the responder's own role", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/public-policy");
    event.detail.userIdentity = loadEvent("key-disabled/own-call").detail.userIdentity;
    const own = parseConfig({
      mode: "enforce",
      responderRoleArns: [`arn:aws:iam::${KEY_ACCOUNT}:role/kms-responder-KeyPolicyViolationRole-EXAMPLE`],
    });

    // Act
    const decision = decideEvent(event, own);
    const withExample = decideEvent(event, EXAMPLE);

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "ignore",
      skipped: "own-call",
      incident: "key-policy-violation",
    });
    expect(shapeOf(withExample)).toEqual(shapeOf(decision));
  });
});

/** The default key policy AWS creates: the root delegation only, no finding. */
const DEFAULT_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Id: "key-default-1",
  Statement: [ROOT_STATEMENT],
});
const PUBLIC_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [ROOT_STATEMENT, PUBLIC_STATEMENT],
});

describe("key-policy-violation decide: the key's current policy is the fact", () => {
  it("policy-differs: the current policy is the default one, nothing is disabled (a forged or stale event)", () => {
    // Act
    const decision = decideFixture("public-policy", ENFORCING, { policy: DEFAULT_POLICY, responder: HERE });

    // Assess
    expect(shapeOf(decision)).toEqual({
      ...finding("critical", ["public-principal"]),
      verdicts: ["policy-differs"],
    });
  });

  it("policy-differs: the current policy cannot be read as a policy, nothing is done on the claim", () => {
    // Act
    const decision = findingOf(
      decideFixture("public-policy", ENFORCING, { policy: "{ not json", responder: HERE }),
    );

    // Assess
    expect(decision.verdicts).toEqual(["policy-differs"]);
    expect(decision.actions).toEqual([]);
  });

  it("disables the key when the current policy is still critical", () => {
    // Act
    const decision = decideFixture("public-policy", ENFORCING, { policy: PUBLIC_POLICY, responder: HERE });

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding("critical", ["public-principal"], [disable(KEYS["public-policy"])]),
    );
  });

  it("acts on the current policy even when the event's policy text differs from it", () => {
    // Prepare: the current policy is public through another statement.
    const current = JSON.stringify({
      Version: "2012-10-17",
      Statement: [ROOT_STATEMENT, { ...PUBLIC_STATEMENT, Sid: "Later change", Action: "kms:Encrypt" }],
    });

    // Act
    const decision = decideFixture("public-policy", ENFORCING, { policy: current, responder: HERE });

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding("critical", ["public-principal"], [disable(KEYS["public-policy"])]),
    );
  });

  it("holds the disable as failed/unverified when GetKeyPolicy failed: never disable blind", () => {
    // Act
    const decision = decideFixture("public-policy", ENFORCING, {
      readErrors: { policy: "AccessDeniedException: not authorized" },
      responder: HERE,
    });

    // Assess
    expect(findingOf(decision).actions).toEqual([
      disable(KEYS["public-policy"], {
        status: "failed",
        code: "unverified",
        why: expect.stringContaining("policy"),
      }),
    ]);
  });

  it("remove-statements with the current policy plans the repaired policy and keeps the previous one", () => {
    // Prepare
    const cfg = parseConfig({ mode: "enforce", onCritical: "remove-statements" });

    // Act
    const decision = findingOf(
      decideFixture("public-policy", cfg, { policy: PUBLIC_POLICY, responder: HERE }),
    );

    // Assess
    expect(decision.actions).toEqual([
      {
        type: "remove-statements",
        keyRef: KEYS["public-policy"],
        policy: JSON.stringify({ Statement: [ROOT_STATEMENT], Version: "2012-10-17" }),
        previousPolicy: PUBLIC_POLICY,
      },
    ]);
  });

  it("remove-statements keeps the root delegation and takes out only the offending principal", () => {
    // Prepare: one statement names both the account root and everyone.
    const shared = {
      Sid: "Shared",
      Effect: "Allow",
      Principal: { AWS: [`arn:aws:iam::${KEY_ACCOUNT}:root`, "*"] },
      Action: "kms:*",
      Resource: "*",
    };
    const current = JSON.stringify({ Version: "2012-10-17", Statement: [shared] });
    const cfg = parseConfig({ mode: "enforce", onCritical: "remove-statements" });

    // Act
    const decision = findingOf(decideFixture("public-policy", cfg, { policy: current, responder: HERE }));

    // Assess
    const [action] = decision.actions;
    expect(action?.type).toBe("remove-statements");
    expect(JSON.parse(action?.policy ?? "{}")).toEqual({
      Version: "2012-10-17",
      Statement: [{ ...shared, Principal: { AWS: [`arn:aws:iam::${KEY_ACCOUNT}:root`] } }],
    });
  });

  it("remove-statements falls back to disable-key when removal would leave no root delegation", () => {
    // Prepare: the public statement is the only one that lets the account administer the key.
    const current = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Admins",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${KEY_ACCOUNT}:role/KeyAdmin` },
          Action: "kms:Decrypt",
          Resource: "*",
        },
        { ...PUBLIC_STATEMENT, Action: "kms:*" },
      ],
    });
    const cfg = parseConfig({ mode: "enforce", onCritical: "remove-statements" });

    // Act
    const decision = findingOf(decideFixture("public-policy", cfg, { policy: current, responder: HERE }));

    // Assess
    expect(decision.actions).toEqual([disable(KEYS["public-policy"])]);
  });

  it("remove-statements with a current policy that is safe: policy-differs, nothing put back", () => {
    // Act
    const decision = findingOf(
      decideFixture("public-policy", parseConfig({ mode: "enforce", onCritical: "remove-statements" }), {
        policy: DEFAULT_POLICY,
        responder: HERE,
      }),
    );

    // Assess
    expect(decision.verdicts).toEqual(["policy-differs"]);
    expect(decision.actions).toEqual([]);
  });
});

describe("key-policy-violation decide: what this responder may touch", () => {
  it.each([
    ["other-account", { region: "us-east-1", account: "999988887777" }],
    ["other-region", { region: "eu-west-1", account: KEY_ACCOUNT }],
  ] as const)("%s: the disable is held", (code, responder) => {
    // Act
    const decision = findingOf(
      decideFixture("public-policy", ENFORCING, { policy: PUBLIC_POLICY, responder }),
    );

    // Assess
    expect(decision.actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([["skipped", code]]);
  });

  it("the replica a ReplicateKey created lives in another Region: the us-east-1 responder holds it", () => {
    // Act
    const decision = findingOf(decideFixture("replicate-key-public", ENFORCING, { responder: HERE }));

    // Assess
    expect(decision.actions.map((a) => [a.keyRef, a.hold?.code])).toEqual([[KEYS.replica, "other-region"]]);
  });

  it("aws-managed-key: DescribeKey's KeyManager AWS holds the disable", () => {
    // Prepare
    const facts: KeyFacts = { keyManager: "AWS", policy: PUBLIC_POLICY, responder: HERE };

    // Act
    const decision = findingOf(decideFixture("public-policy", ENFORCING, facts));

    // Assess
    expect(decision.actions.map((a) => a.hold?.code)).toEqual(["aws-managed-key"]);
  });
});

describe("key-policy-violation decide: the policy the event set stays in the notification", () => {
  it("keeps the event's policy in extra.policySet, also when a retry finds the current policy already safe", () => {
    // Prepare: the first delivery removed the statement; its notification failed; this is the retry.
    const event = loadEvent("key-policy-violation/public-policy");
    const safe = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Enable IAM User Permissions",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${event.detail.recipientAccountId ?? "111122223333"}:root` },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    });

    // Act
    const decision = findingOf(
      decideEvent(event, parseConfig({ mode: "enforce", onCritical: "remove-statements" }), { policy: safe }),
    );

    // Assess
    expect(decision.verdicts).toEqual(["policy-differs"]);
    expect(decision.actions).toEqual([]);
    expect(decision.extra?.policySet).toBe(event.detail.requestParameters?.policy);
  });
});

describe("key-policy-violation decide: the key's own organisation, learnt when the config names none", () => {
  const pinned = () => loadEvent("key-policy-violation/org-pinned-public");

  it("a statement pinned to the organisation learnt at cold start is trusted like the key's account", () => {
    // Prepare: the responder runs in the key's account, whose organisation is o-exampleorgid.
    const facts: KeyFacts = {
      organizationId: "o-exampleorgid",
      responder: { region: "us-east-1", account: "111122223333" },
    };

    // Act / Assess
    expect(shapeOf(decideEvent(pinned(), ENFORCING, facts))).toEqual({
      kind: "ignore",
      skipped: "no-incident",
      incident: "key-policy-violation",
    });
  });

  it("without it (not learnt, or another account's key), the pin stays high with a hint naming the setting", () => {
    const unknown = findingOf(
      decideEvent(pinned(), ENFORCING, { responder: { region: "us-east-1", account: "111122223333" } }),
    );
    expect(unknown.severity).toBe("high");
    expect(unknown.details.join("\n")).toMatch(/trustedOrganizationIds|organization\.id/);
    // Learnt for this account only: a key of another account is not judged by our organisation.
    const elsewhere = findingOf(
      decideEvent(pinned(), ENFORCING, {
        organizationId: "o-exampleorgid",
        responder: { region: "us-east-1", account: "999988887777" },
      }),
    );
    expect(elsewhere.severity).toBe("high");
  });
});

describe("key-policy-violation decide: a PutKeyPolicy whose record holds no policy", () => {
  it("notifies (medium, policy-not-recorded) and plans nothing: the change is unseen", () => {
    // Prepare
    const event = loadEvent("key-policy-violation/public-policy");
    const { policy: _p, ...request } = event.detail.requestParameters ?? {};
    event.detail.requestParameters = request;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      severity: "medium",
      reasons: ["policy-not-recorded"],
      actions: [],
    });
  });
});

describe("key-policy-violation decide: a takeover (lockout check bypassed, no root delegation)", () => {
  it("plans no disable-key (the responder cannot perform it) and says page now", () => {
    // Prepare: the attacker's role alone may administer the key.
    const event = loadEvent("key-policy-violation/bypass-lockout");
    event.detail.requestParameters = {
      ...event.detail.requestParameters,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:role/Intruder" },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      }),
    };

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      severity: "critical",
      actions: [],
      verdicts: ["takeover"],
    });
    expect(decision.kind === "finding" && decision.details.some((line) => line.startsWith("PAGE NOW"))).toBe(
      true,
    );
  });
});
