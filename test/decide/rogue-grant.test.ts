import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decide,
  type GrantUnderJudgement,
  type TrustCode,
  trustOf,
} from "../../functions/rogue-grant/decide.js";
import {
  type Decision,
  type GrantFact,
  holdActions,
  type KeyFacts,
  type PlannedAction,
} from "../../functions/shared/decision.js";
import { type KmsEvent, normalise } from "../../functions/shared/event.js";
import {
  config,
  decisionsFor,
  ENFORCING,
  EXAMPLE,
  eventOf,
  FAILED_CALL,
  findingOf,
  HERE,
  keyArn as key,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { GRANT_KEY_ID, loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const { decideEvent, decideFixture } = decisionsFor("rogue-grant", decide);

const KEY_ACCOUNT = "111122223333";
const EXTERNAL_ACCOUNT = "444455556666";

const revoke = (keyId: string, grantId: string, hold?: PlannedAction["hold"]): PlannedAction =>
  hold
    ? { type: "revoke-grant", keyRef: key(keyId), grantId, hold }
    : { type: "revoke-grant", keyRef: key(keyId), grantId };

const EXTERNAL_GRANT = {
  key: GRANT_KEY_ID,
  grant: "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7",
};

const finding = (severity: string, reasons: string[], actions: PlannedAction[]): Shape => ({
  kind: "finding",
  incident: "rogue-grant",
  severity,
  reasons,
  actions,
});
const skipped = (reason: string): Shape => ({ kind: "ignore", skipped: reason, incident: "rogue-grant" });

/** How each planned action is held: undefined when it will be performed. */
function holdsOf(decision: Decision): Array<string | undefined> {
  return decision.kind === "finding" ? decision.actions.map((a) => a.hold?.status) : [];
}

/** Every rogue-grant fixture, decided with the defaults (no config at all). */
const WITH_DEFAULTS: Array<[variant: string, expected: Shape]> = [
  [
    "external-grantee",
    finding(
      "critical",
      ["external-grantee", "unconstrained-grant"],
      [revoke(EXTERNAL_GRANT.key, EXTERNAL_GRANT.grant)],
    ),
  ],
  [
    "alias-key-id",
    finding(
      "critical",
      ["external-grantee", "unconstrained-grant"],
      [
        revoke(
          "a4c6e8f0-2b4d-4f6a-9c1e-3b5d7f9a1c3e",
          "bd0db370cd02a2a8d5c6bfde1cfd65a61493acd8833eb970ca945266d74231e9",
        ),
      ],
    ),
  ],
  [
    "exempt-key",
    finding(
      "critical",
      ["external-grantee", "unconstrained-grant"],
      [
        revoke(
          "e0e0e0e0-1111-2222-3333-444455556666",
          "42c88cd2edf8772d73007c5d2b9a6d4634824f20077fb97ceb68161b97a428de",
        ),
      ],
    ),
  ],
  [
    "retiring-external",
    finding(
      "critical",
      ["external-grantee"],
      [
        revoke(
          "9c1f3e5a-7b2d-4e8f-b0a1-c3d5e7f90b2c",
          "963fea6621e9895b874cca14ac512e59cd287d7b09a9f27e20198fe8d4595479",
        ),
      ],
    ),
  ],
  [
    "delegation",
    finding(
      "high",
      ["grant-delegation"],
      [
        revoke(
          "2b6e4f90-1c3d-4a5b-8e7f-9a0b1c2d3e4f",
          "5b988c72b947366b115eb55b774f444d8523ba4bac1cf098c4d978e8d78788e6",
        ),
      ],
    ),
  ],
  ["non-arn-grantee", finding("medium", ["unresolvable-grantee"], [])],
  ["unconstrained", finding("low", ["unconstrained-grant"], [])],
  ["aws-internal", skipped("trusted-grant")],
  ["ebs-infrastructure", skipped("trusted-grant")],
  ["dynamodb-service", skipped("trusted-grant")],
  ["rds-invoked-by", skipped("trusted-grant")],
  ["ec2-own-account", skipped("trusted-grant")],
  [
    "step-functions-external",
    finding(
      "critical",
      ["external-grantee", "unconstrained-grant"],
      [
        revoke(
          "3e5f7a9b-1c2d-4e3f-a4b5-c6d7e8f9a0b1",
          "0f4c8a2e6b1d5f9a3c7e0b4d8f2a6c1e5b9d3f7a0c4e8b2d6f1a5c9e3b7d0f4a",
        ),
      ],
    ),
  ],
  ["autoscaling-service-linked-role", finding("low", ["unconstrained-grant"], [])],
  [
    "autoscaling-slr-untrusted",
    finding(
      "critical",
      ["external-grantee", "grant-delegation", "unconstrained-grant"],
      [
        revoke(
          "5a7b9c1d-3e4f-4a5b-c6d7-e8f9a0b1c2d3",
          "3c7f1b5d9a4e8c2f6b0d3a7e1c5f9b4d8a2e6c0f3b7d1a5e9c4f8b2d6a0e3c7f",
        ),
      ],
    ),
  ],
  // A grant on another account's key: reported, never ours to revoke.
  ["foreign-key", finding("critical", ["external-grantee", "unconstrained-grant"], [])],
  ["failed-call", FAILED_CALL],
  // Without responderRoleArns the responder cannot know its own role: judged like anyone else.
  [
    "own-call",
    finding(
      "critical",
      ["external-grantee", "unconstrained-grant"],
      [
        revoke(
          "f3b5d7f9-1a3c-4e5b-8d7f-9b1d3f5a7c9e",
          "4b861960170db5b5daa515434781705d5e5f622a6b26b58a3d72e7e4b4e3d754",
        ),
      ],
    ),
  ],
];

describe("rogue-grant decide: every fixture with the default config", () => {
  it("covers every rogue-grant fixture", () => {
    // Prepare
    const variants = loadAllEvents()
      .filter((f) => f.incident === "rogue-grant")
      .map((f) => f.variant);

    // Assess
    expect(WITH_DEFAULTS.map(([v]) => v).sort()).toEqual(variants.sort());
  });

  it.each(WITH_DEFAULTS)("%s", (variant, expected) => {
    // Act
    const decision = decideFixture(variant);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });
});

describe("rogue-grant decide: with config/example.json", () => {
  it.each([
    [
      "external-grantee",
      finding(
        "critical",
        ["external-grantee", "unconstrained-grant"],
        [revoke(EXTERNAL_GRANT.key, EXTERNAL_GRANT.grant)],
      ),
    ],
    ["own-call", skipped("own-call")],
    ["unconstrained", finding("low", ["unconstrained-grant"], [])],
    ["ebs-infrastructure", skipped("trusted-grant")],
    ["failed-call", FAILED_CALL],
  ] as Array<[string, Shape]>)("%s", (variant, expected) => {
    // Act
    const decision = decideFixture(variant, EXAMPLE);

    // Assess
    expect(shapeOf(decision)).toEqual(expected);
  });
});

/** The grant an event claims, as `trustOf` and `reasonsFor` judge it. */
function claimOf(event: KmsEvent): GrantUnderJudgement {
  const d = event.detail;
  if (d.kind !== "grant") throw new Error(`expected a CreateGrant, got ${d.kind}`);
  return {
    grantee: d.grantee,
    retiringPrincipal: d.retiringPrincipal,
    operations: d.operations,
    constrained: d.constraints !== undefined,
    grantId: d.grantId,
  };
}

/** `trustOf` for a fixture (or an edited copy of one), judged against the key's account. */
function trustOfEvent(raw: unknown, cfg = ENFORCING): TrustCode | undefined {
  const event = eventOf(raw);
  return trustOf(event.actor, claimOf(event), event.key?.account ?? KEY_ACCOUNT, cfg);
}

describe("rogue-grant decide: what makes a grant trusted (trustOf codes)", () => {
  it.each([
    ["rds-invoked-by", "service-resource-grant"],
    ["ec2-own-account", "service-resource-grant"],
    ["dynamodb-service", "service-resource-grant"],
    ["ebs-infrastructure", "infrastructure-grantee"],
    ["aws-internal", "service-resource-grant"],
    ["external-grantee", undefined],
    ["step-functions-external", undefined],
    ["autoscaling-service-linked-role", undefined],
    ["foreign-key", undefined],
  ] as Array<[string, TrustCode | undefined]>)("%s: %s", (variant, code) => {
    // Act / Assess
    expect(trustOfEvent(loadEvent(`rogue-grant/${variant}`))).toBe(code);
  });

  it("a trusted grant is ignored as trusted-grant, with the why", () => {
    // Act
    const decision = decideFixture("rds-invoked-by");

    // Assess
    expect(decision).toEqual({
      kind: "ignore",
      skipped: "trusted-grant",
      why: expect.any(String),
      incident: "rogue-grant",
    });
  });

  it("trusts an AWS service principal grantee even without invokedBy", () => {
    // Prepare
    const event = loadEvent("rogue-grant/dynamodb-service");
    delete event.detail.userIdentity?.invokedBy;

    // Act / Assess
    expect(trustOfEvent(event)).toBe("service-principal-grantee");
    expect(shapeOf(decideEvent(event))).toEqual(skipped("trusted-grant"));
  });

  it("trusts an AWS infrastructure principal of the key's account even without invokedBy", () => {
    // Prepare
    const event = loadEvent("rogue-grant/ebs-infrastructure");
    delete event.detail.userIdentity?.invokedBy;

    // Act / Assess
    expect(trustOfEvent(event)).toBe("infrastructure-grantee");
  });

  it("trusts an infrastructure session principal of the key's account (newer records)", () => {
    // Prepare
    const event = loadEvent("rogue-grant/aws-internal");
    delete event.detail.userIdentity?.invokedBy;

    // Act / Assess
    expect(trustOfEvent(event)).toBe("infrastructure-grantee");
  });

  it("does not trust an infrastructure principal of another account: it is external", () => {
    // Prepare
    const event = loadEvent("rogue-grant/ebs-infrastructure");
    delete event.detail.userIdentity?.invokedBy;
    const request = event.detail.requestParameters ?? {};
    request.granteePrincipal = `${EXTERNAL_ACCOUNT}:aws:ec2-infrastructure:i-081c9bc0a8e0ad1b1`;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(trustOfEvent(event)).toBeUndefined();
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee"],
        [
          revoke(
            "6f8a0c2e-4d6b-4a8c-b2e4-6d8f0a2c4e6b",
            "ed8fda621ca8bd244afad3dd6f67d4eeefc32cc859b88ffb7da982358d279d5b",
          ),
        ],
      ),
    );
  });

  it("does not trust a caller-supplied invokedBy that is not an AWS service", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    if (event.detail.userIdentity) event.detail.userIdentity.invokedBy = "aws-cli";

    // Act / Assess
    expect(trustOfEvent(event)).toBeUndefined();
    expect(decideEvent(event).kind).toBe("finding");
  });

  it("does not let a trusted grantee excuse an untrusted retiring principal", () => {
    // Prepare
    const event = loadEvent("rogue-grant/dynamodb-service");
    const request = event.detail.requestParameters ?? {};
    request.retiringPrincipal = `arn:aws:iam::${EXTERNAL_ACCOUNT}:role/grant-janitor`;

    // Act / Assess
    expect(trustOfEvent(event)).toBeUndefined();
    expect(decideEvent(event)).toMatchObject({ kind: "finding", reasons: ["external-grantee"] });
  });

  it("a trusted pattern gives trusted-grantee-pattern", () => {
    // Prepare
    const trusting = config({ trustedGranteePrincipals: [`arn:aws:iam::${EXTERNAL_ACCOUNT}:role/ex*`] });

    // Act / Assess
    expect(trustOfEvent(loadEvent("rogue-grant/external-grantee"), trusting)).toBe("trusted-grantee-pattern");
  });
});

describe("rogue-grant decide: services that replay their caller's parameters (issue 15)", () => {
  it("judges a grant Step Functions made to an untrusted account: invokedBy alone proves nothing", () => {
    // Act
    const decision = decideFixture("step-functions-external");

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee", "unconstrained-grant"],
        [
          {
            type: "revoke-grant",
            keyRef: key("3e5f7a9b-1c2d-4e3f-a4b5-c6d7e8f9a0b1"),
            grantId: "0f4c8a2e6b1d5f9a3c7e0b4d8f2a6c1e5b9d3f7a0c4e8b2d6f1a5c9e3b7d0f4a",
          },
        ],
      ),
    );
  });

  it("judges a Step Functions grant to a trusted account by its reasons: Step Functions is no trust reason", () => {
    // Prepare
    const event = loadEvent("rogue-grant/step-functions-external");
    const trusting = config({ trustedAccounts: [EXTERNAL_ACCOUNT] });

    // Act / Assess
    expect(trustOfEvent(event, trusting)).toBeUndefined();
    expect(shapeOf(decideEvent(event, trusting))).toEqual(finding("low", ["unconstrained-grant"], []));
  });

  it("trusts a grant EC2 made for a principal of the key's own account (service-resource-grant)", () => {
    // Act / Assess
    expect(shapeOf(decideFixture("ec2-own-account"))).toEqual(skipped("trusted-grant"));
  });

  it("does not trust a grant EC2 made for a principal of an untrusted account", () => {
    // Prepare
    const event = loadEvent("rogue-grant/ec2-own-account");
    const request = event.detail.requestParameters ?? {};
    request.granteePrincipal = `arn:aws:iam::${EXTERNAL_ACCOUNT}:role/web-tier-instance`;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(trustOfEvent(event)).toBeUndefined();
    expect(decision).toMatchObject({ kind: "finding", severity: "critical" });
    expect(findingOf(decision).reasons).toContain("external-grantee");
  });
});

describe("rogue-grant decide: service-linked roles may re-delegate (issue 15)", () => {
  it("a grant with CreateGrant to the key account's Auto Scaling service-linked role is not grant-delegation", () => {
    // Act
    const decision = decideFixture("autoscaling-service-linked-role");

    // Assess
    expect(shapeOf(decision)).toEqual(finding("low", ["unconstrained-grant"], []));
  });

  it("the same grant to a trusted account's service-linked role is not grant-delegation either", () => {
    // Prepare
    const trusting = config({ trustedAccounts: ["777788889999"] });

    // Act
    const decision = decideFixture("autoscaling-slr-untrusted", trusting);

    // Assess
    expect(shapeOf(decision)).toEqual(finding("low", ["unconstrained-grant"], []));
  });

  it("an untrusted account's service-linked role is external, and its CreateGrant is delegation", () => {
    // Act
    const decision = decideFixture("autoscaling-slr-untrusted");

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee", "grant-delegation", "unconstrained-grant"],
        [
          {
            type: "revoke-grant",
            keyRef: key("5a7b9c1d-3e4f-4a5b-c6d7-e8f9a0b1c2d3"),
            grantId: "3c7f1b5d9a4e8c2f6b0d3a7e1c5f9b4d8a2e6c0f3b7d1a5e9c4f8b2d6a0e3c7f",
          },
        ],
      ),
    );
  });

  it("a role outside aws-service-role/ with CreateGrant is still grant-delegation", () => {
    // Prepare
    const event = loadEvent("rogue-grant/autoscaling-service-linked-role");
    const request = event.detail.requestParameters ?? {};
    request.granteePrincipal = `arn:aws:iam::${KEY_ACCOUNT}:role/AWSServiceRoleForAutoScaling`;

    // Act / Assess
    expect(findingOf(decideEvent(event)).reasons).toContain("grant-delegation");
  });
});

describe("rogue-grant decide: a grant on another account's key (issue 15)", () => {
  it("reports it and plans no revoke: the key is not ours", () => {
    // Act
    const decision = findingOf(decideFixture("foreign-key"));

    // Assess
    expect(shapeOf(decision)).toEqual(finding("critical", ["external-grantee", "unconstrained-grant"], []));
    expect(decision.key?.account).toBe(EXTERNAL_ACCOUNT);
  });

  it("plans no revoke even when ListGrants shows the grant unchanged", () => {
    // Act
    const decision = decideFixture("foreign-key", ENFORCING, {
      grant: {
        grantee: `arn:aws:iam::${KEY_ACCOUNT}:role/report-reader`,
        retiringPrincipal: undefined,
        operations: ["Decrypt"],
        constrained: false,
        name: undefined,
      },
      responder: HERE,
    });

    // Assess
    expect(findingOf(decision).actions).toEqual([]);
  });
});

describe("rogue-grant decide: trusted accounts and principal patterns", () => {
  it("no longer calls a grantee external once its account is trusted", () => {
    // Prepare
    const trusting = config({ trustedAccounts: [EXTERNAL_ACCOUNT] });

    // Act
    const external = decideFixture("external-grantee", trusting);
    const retiring = decideFixture("retiring-external", trusting);
    const alias = decideFixture("alias-key-id", trusting);

    // Assess
    expect(shapeOf(external)).toEqual(finding("low", ["unconstrained-grant"], []));
    expect(shapeOf(retiring)).toEqual(skipped("no-incident"));
    expect(shapeOf(alias)).toEqual(finding("low", ["unconstrained-grant"], []));
  });

  it("still calls the grantee external when a different account is trusted", () => {
    // Act
    const decision = decideFixture("external-grantee", config({ trustedAccounts: ["555566667777"] }));

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      severity: "critical",
      reasons: ["external-grantee", "unconstrained-grant"],
    });
  });

  it("trusts a grantee that matches a trusted principal pattern", () => {
    // Prepare
    const trusting = config({ trustedGranteePrincipals: [`arn:aws:iam::${EXTERNAL_ACCOUNT}:role/ex*`] });

    // Act
    const decision = decideFixture("external-grantee", trusting);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("trusted-grant"));
  });

  it("matches a role pattern against a role-session grantee", () => {
    // Prepare
    const event = loadEvent("rogue-grant/unconstrained");
    const request = event.detail.requestParameters ?? {};
    request.granteePrincipal = `arn:aws:sts::${KEY_ACCOUNT}:assumed-role/reporting-app/job-42`;
    const trusting = config({ trustedGranteePrincipals: [`arn:aws:iam::${KEY_ACCOUNT}:role/reporting-*`] });

    // Act
    const decision = decideEvent(event, trusting);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("trusted-grant"));
  });

  it("flags an own-account grantee as untrusted (high, revoke) when patterns are configured and none matches", () => {
    // Prepare
    const patterns = config({ trustedGranteePrincipals: [`arn:aws:iam::${KEY_ACCOUNT}:role/app-*`] });

    // Act
    const unconstrained = decideFixture("unconstrained", patterns);
    const delegation = decideFixture("delegation", patterns);

    // Assess
    expect(shapeOf(unconstrained)).toEqual(
      finding(
        "high",
        ["untrusted-grantee", "unconstrained-grant"],
        [
          revoke(
            "5d8a1e7c-3f2b-4c9d-a6e1-7b0c4d2e9f18",
            "e6a26cef15d6dd19754939eec6b1332ce3f7b1786875770d2e48bd3a9b2485f8",
          ),
        ],
      ),
    );
    expect(shapeOf(delegation)).toMatchObject({
      severity: "high",
      reasons: ["grant-delegation", "untrusted-grantee"],
    });
  });

  it("a trusted pattern's `*` stays in one path segment: role/app-* does not trust role/app-team/ci-exfil", () => {
    // Prepare
    const event = loadEvent("rogue-grant/delegation");
    event.detail.requestParameters = {
      ...event.detail.requestParameters,
      granteePrincipal: `arn:aws:iam::${KEY_ACCOUNT}:role/app-team/ci-exfil`,
    };
    const patterns = config({ trustedGranteePrincipals: [`arn:aws:iam::${KEY_ACCOUNT}:role/app-*`] });

    // Act
    const decision = decideEvent(event, patterns);

    // Assess
    expect(decision).toMatchObject({ severity: "high", reasons: ["grant-delegation", "untrusted-grantee"] });
  });

  it("judges a service grantee recorded with a trailing space (AWS's Voice ID sample) as the service", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    const { retiringPrincipal: _r, ...request } = event.detail.requestParameters ?? {};
    event.detail.requestParameters = { ...request, granteePrincipal: "voiceid.amazonaws.com " };
    event.detail.userIdentity = { ...event.detail.userIdentity, invokedBy: "voiceid.amazonaws.com" };

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("trusted-grant"));
  });

  it("does not flag untrusted-grantee when no patterns are configured", () => {
    // Act
    const decision = decideFixture("unconstrained", ENFORCING);

    // Assess
    expect(decision).toMatchObject({ reasons: ["unconstrained-grant"] });
  });

  it("reads a trusted pattern literally: a dot is not a wildcard", () => {
    // Prepare
    const patterns = config({ trustedGranteePrincipals: [`arn:aws:iam::${EXTERNAL_ACCOUNT}:role/e.fil`] });

    // Act
    const decision = decideFixture("external-grantee", patterns);

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      severity: "critical",
      reasons: ["external-grantee", "untrusted-grantee", "unconstrained-grant"],
    });
  });
});

describe("rogue-grant decide: loop prevention, modes and held actions", () => {
  it("refuses a role pattern in responderRoleArns: a look-alike role must not hide", () => {
    // Act / Assess
    expect(() => config({ responderRoleArns: [`arn:aws:iam::${KEY_ACCOUNT}:role/kms-responder-*`] })).toThrow(
      /responderRoleArns/,
    );
  });

  it("judges a look-alike of the responder's role like anyone else", () => {
    // Prepare
    const event = loadEvent("rogue-grant/own-call");
    const lookAlike = `arn:aws:iam::${KEY_ACCOUNT}:role/kms-responder-RogueGrantRole-EXAMPLE2`;
    const identity = event.detail.userIdentity ?? {};
    identity.arn = `arn:aws:sts::${KEY_ACCOUNT}:assumed-role/kms-responder-RogueGrantRole-EXAMPLE2/s`;
    identity.sessionContext = { sessionIssuer: { type: "Role", arn: lookAlike, accountId: KEY_ACCOUNT } };
    event.detail.userIdentity = identity;

    // Act
    const decision = decideEvent(event, EXAMPLE);

    // Assess
    expect(decision).toMatchObject({ kind: "finding", severity: "critical" });
  });

  it("ignores the responder's own call by exact role ARN", () => {
    // Prepare
    const exact = config({
      responderRoleArns: [`arn:aws:iam::${KEY_ACCOUNT}:role/kms-responder-RogueGrantRole-EXAMPLE`],
    });

    // Act
    const decision = decideFixture("own-call", exact);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("own-call"));
  });

  it("ignores the responder's own call when the record has only the session ARN", () => {
    // Prepare
    const event = loadEvent("rogue-grant/own-call");
    delete event.detail.userIdentity?.sessionContext;
    const exact = config({
      responderRoleArns: [`arn:aws:iam::${KEY_ACCOUNT}:role/kms-responder-RogueGrantRole-EXAMPLE`],
    });

    // Act
    const decision = decideEvent(event, exact);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("own-call"));
  });

  it("holds the revoke as dry-run in global notify mode, still reporting the finding", () => {
    // Act
    const decision = decideFixture("external-grantee", config({ mode: "notify" }));

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee", "unconstrained-grant"],
        [
          revoke(EXTERNAL_GRANT.key, EXTERNAL_GRANT.grant, {
            status: "dry-run",
            code: "notify-mode",
            why: expect.any(String),
          }),
        ],
      ),
    );
  });

  it("holds the revoke as dry-run when only this incident is in notify mode", () => {
    // Act
    const decision = decideFixture(
      "external-grantee",
      config({ incidents: { "rogue-grant": { mode: "notify" } } }),
    );

    // Assess
    expect(decision).toMatchObject({
      actions: [{ type: "revoke-grant", hold: { status: "dry-run", code: "notify-mode" } }],
    });
  });

  it("acts when another incident is in notify mode", () => {
    // Act
    const decision = decideFixture(
      "external-grantee",
      config({ incidents: { "key-disabled": { mode: "notify" } } }),
    );

    // Assess
    expect(holdsOf(decision)).toEqual([undefined]);
  });

  it("ignores every grant when the incident is off", () => {
    // Act
    const decision = decideFixture(
      "external-grantee",
      config({ incidents: { "rogue-grant": { mode: "off" } } }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("incident-off"));
  });

  it("holds the revoke as skipped on a key tagged with the exempt tag", () => {
    // Act
    const decision = decideFixture("exempt-key", ENFORCING, { tags: { "kms-responder:exempt": "true" } });

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee", "unconstrained-grant"],
        [
          revoke(
            "e0e0e0e0-1111-2222-3333-444455556666",
            "42c88cd2edf8772d73007c5d2b9a6d4634824f20077fb97ceb68161b97a428de",
            { status: "skipped", code: "exempt-key", why: expect.stringContaining("kms-responder:exempt") },
          ),
        ],
      ),
    );
  });

  it("uses the configured exempt tag key, not the default one", () => {
    // Prepare
    const custom = config({ exemptTagKey: "security:no-auto-remediation" });

    // Act
    const defaultTag = decideFixture("exempt-key", custom, { tags: { "kms-responder:exempt": "true" } });
    const customTag = decideFixture("exempt-key", custom, { tags: { "security:no-auto-remediation": "" } });

    // Assess
    expect(holdsOf(defaultTag)).toEqual([undefined]);
    expect(holdsOf(customTag)).toEqual(["skipped"]);
  });

  it("acts on a key whose tags say nothing about exemption", () => {
    // Act
    const decision = decideFixture("exempt-key", ENFORCING, { tags: { team: "payments" } });

    // Assess
    expect(holdsOf(decision)).toEqual([undefined]);
  });

  it.each([
    ["its ARN", key(EXTERNAL_GRANT.key)],
    ["its key id", EXTERNAL_GRANT.key],
  ])("holds the revoke as skipped on a key listed in ignoredKeys by %s", (_label, ref) => {
    // Act
    const decision = decideFixture("external-grantee", config({ ignoredKeys: [ref] }));

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      actions: [{ type: "revoke-grant", hold: { status: "skipped", code: "ignored-key" } }],
    });
  });

  it("holds the revoke as skipped on an AWS managed key named by its alias (alias/aws/ebs)", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    const request = event.detail.requestParameters ?? {};
    request.keyId = "alias/aws/ebs";

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision).toMatchObject({
      kind: "finding",
      severity: "critical",
      actions: [{ type: "revoke-grant", hold: { status: "skipped", code: "aws-managed-key" } }],
    });
  });

  it("holds the revoke as skipped on a key DescribeKey says is AWS managed (KeyManager AWS)", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, { keyManager: "AWS", responder: HERE });

    // Assess
    expect(decision).toMatchObject({ actions: [{ hold: { status: "skipped", code: "aws-managed-key" } }] });
  });
});

describe("rogue-grant decide: what gets revoked", () => {
  it("revokes exactly the grant in the event, by the key ARN, even when the caller used an alias", () => {
    // Act
    const decision = decideFixture("alias-key-id");

    // Assess
    expect(decision.kind === "finding" && decision.actions).toEqual([
      {
        type: "revoke-grant",
        keyRef: key("a4c6e8f0-2b4d-4f6a-9c1e-3b5d7f9a1c3e"),
        grantId: "bd0db370cd02a2a8d5c6bfde1cfd65a61493acd8833eb970ca945266d74231e9",
      },
    ]);
  });

  it("plans no revoke, and says so, when the record carries no grant id", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.responseElements = null;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(finding("critical", ["external-grantee", "unconstrained-grant"], []));
    expect(decision.kind === "finding" && decision.details).toContainEqual(
      expect.stringContaining("no grant ID"),
    );
  });

  it("names the grantee, operations and grant id in the details", () => {
    // Act
    const decision = decideFixture("retiring-external");

    // Assess
    expect(decision.kind === "finding" && decision.details).toEqual([
      `Grantee: arn:aws:iam::${KEY_ACCOUNT}:role/app-reader`,
      "Operations: Decrypt",
      `Retiring principal: arn:aws:iam::${EXTERNAL_ACCOUNT}:role/grant-janitor`,
      "Constraints: encryption context",
      "Grant ID: 963fea6621e9895b874cca14ac512e59cd287d7b09a9f27e20198fe8d4595479",
    ]);
  });

  it("does not call a grant without cryptographic operations unconstrained", () => {
    // Prepare
    const event = loadEvent("rogue-grant/unconstrained");
    const request = event.detail.requestParameters ?? {};
    request.operations = ["DescribeKey", "RetireGrant"];

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("no-incident"));
  });

  it("calls an encryption-context-equals constraint constrained", () => {
    // Prepare
    const event = loadEvent("rogue-grant/unconstrained");
    const request = event.detail.requestParameters ?? {};
    request.constraints = { encryptionContextEquals: { app: "reporting" } };

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("no-incident"));
  });
});

/** The external-grantee fixture's grant as ListGrants would report it, unchanged. */
const LISTED: GrantFact = {
  grantee: `arn:aws:iam::${EXTERNAL_ACCOUNT}:role/exfil`,
  retiringPrincipal: undefined,
  operations: ["Decrypt", "GenerateDataKey"],
  constrained: false,
  name: undefined,
};

describe("rogue-grant decide: the grant as ListGrants reports it is the fact", () => {
  it("revokes when the listed grant is what the event says", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, { grant: LISTED, responder: HERE });

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee", "unconstrained-grant"],
        [revoke(EXTERNAL_GRANT.key, EXTERNAL_GRANT.grant)],
      ),
    );
  });

  it("grant-gone: ListGrants no longer lists the grant, nothing to revoke", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, { grant: null, responder: HERE });

    // Assess
    expect(shapeOf(decision)).toEqual({
      ...finding("critical", ["external-grantee", "unconstrained-grant"], []),
      verdicts: ["grant-gone"],
    });
  });

  it("grant-differs: the listed grant's grantee is a service principal, nothing to revoke", () => {
    // Prepare
    const facts: KeyFacts = {
      grant: { ...LISTED, grantee: "dynamodb.us-east-1.amazonaws.com" },
      responder: HERE,
    };

    // Act
    const decision = findingOf(decideFixture("external-grantee", ENFORCING, facts));

    // Assess
    expect(decision.verdicts).toEqual(["grant-differs"]);
    expect(decision.actions).toEqual([]);
  });

  it("grant-differs: a forged event names the id of a legitimate grant to the key's own account", () => {
    // Prepare: the event claims an external grantee; the grant with that id is an app role of ours.
    const facts: KeyFacts = {
      grant: {
        grantee: `arn:aws:iam::${KEY_ACCOUNT}:role/orders-service`,
        retiringPrincipal: undefined,
        operations: ["Decrypt"],
        constrained: true,
        name: undefined,
      },
      responder: HERE,
    };

    // Act
    const decision = findingOf(decideFixture("external-grantee", ENFORCING, facts));

    // Assess
    expect(decision.verdicts).toEqual(["grant-differs"]);
    expect(decision.actions).toEqual([]);
  });

  it("a listed grant more severe than the claim is revoked, judged by its own reasons", () => {
    // Prepare: the event claims an own-account delegation; ListGrants shows an external grantee.
    const facts: KeyFacts = { grant: LISTED, responder: HERE };

    // Act
    const decision = findingOf(decideFixture("delegation", ENFORCING, facts));

    // Assess: worse than claimed is still the grant to revoke; the reasons are the listed grant's.
    expect(decision.verdicts).toBeUndefined();
    expect(decision.severity).toBe("critical");
    expect(decision.reasons).toContain("external-grantee");
    expect(decision.actions.map((a) => [a.type, a.hold])).toEqual([["revoke-grant", undefined]]);
  });

  it("holds the revoke as failed/unverified when ListGrants failed: never revoke blind", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, {
      readErrors: { grant: "ThrottlingException: Rate exceeded" },
      responder: HERE,
    });

    // Assess
    expect(findingOf(decision).actions).toEqual([
      revoke(EXTERNAL_GRANT.key, EXTERNAL_GRANT.grant, {
        status: "failed",
        code: "unverified",
        why: expect.stringContaining("ThrottlingException"),
      }),
    ]);
  });

  it("a failed read of something else (tags) does not hold the revoke", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, {
      grant: LISTED,
      readErrors: { history: "AccessDenied" },
      responder: HERE,
    });

    // Assess
    expect(holdsOf(decision)).toEqual([undefined]);
  });
});

describe("rogue-grant decide: what this responder may touch", () => {
  it("other-account: the responder runs in another account than the key's", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, {
      responder: { region: "us-east-1", account: "999988887777" },
    });

    // Assess
    expect(findingOf(decision).actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([
      ["skipped", "other-account"],
    ]);
  });

  it("other-region: the responder runs in another Region than the key's", () => {
    // Act
    const decision = decideFixture("external-grantee", ENFORCING, {
      responder: { region: "eu-west-1", account: KEY_ACCOUNT },
    });

    // Assess
    expect(findingOf(decision).actions.map((a) => [a.hold?.status, a.hold?.code])).toEqual([
      ["skipped", "other-region"],
    ]);
  });

  it("unknown-key: a record that names no key is still a finding, with nothing planned", () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    delete event.detail.resources;
    const request = event.detail.requestParameters ?? {};
    delete request.keyId;
    event.detail.responseElements = { grantId: EXTERNAL_GRANT.grant };

    // Act
    const decision = findingOf(decideEvent(event));

    // Assess
    expect(decision.key).toBeUndefined();
    expect(shapeOf(decision)).toEqual(finding("critical", ["external-grantee", "unconstrained-grant"], []));
  });

  it("unknown-key: an action for a key that could not be determined is held", () => {
    // Act
    const held = holdActions(
      "rogue-grant",
      [revoke(EXTERNAL_GRANT.key, EXTERNAL_GRANT.grant)],
      undefined,
      ENFORCING,
      {},
    );

    // Assess
    expect(held.map((a) => [a.hold?.status, a.hold?.code])).toEqual([["skipped", "unknown-key"]]);
  });
});

describe("rogue-grant decide: never throws", () => {
  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))("decides %s", (_path, event) => {
    // Prepare
    const normalised = normalise(event);

    // Act / Assess
    for (const cfg of [
      ENFORCING,
      EXAMPLE,
      config({ mode: "notify", trustedGranteePrincipals: ["*:role/x"] }),
    ]) {
      const decision = normalised && decide(normalised, cfg, { tags: {} });
      expect(["finding", "ignore"]).toContain(decision?.kind);
    }
  });

  it("decides CreateGrant records whose request fields have any JSON value", () => {
    // Prepare
    const base = loadEvent("rogue-grant/external-grantee");
    const anyJson = fc.jsonValue();
    const request = fc.record(
      {
        keyId: anyJson,
        granteePrincipal: fc.oneof(
          anyJson,
          fc.constantFrom("", "*", "123", `${EXTERNAL_ACCOUNT}:aws:x-infrastructure:i`),
        ),
        retiringPrincipal: anyJson,
        operations: fc.oneof(anyJson, fc.array(fc.constantFrom("Decrypt", "CreateGrant", "DescribeKey"))),
        constraints: anyJson,
      },
      { requiredKeys: [] },
    );

    // Act / Assess
    fc.assert(
      fc.property(request, anyJson, (requestParameters, responseElements) => {
        const event = structuredClone(base);
        event.detail.requestParameters = requestParameters as Record<string, unknown>;
        event.detail.responseElements = responseElements as Record<string, unknown>;
        const decision = decide(eventOf(event), ENFORCING, {});
        return decision.kind === "finding" || decision.kind === "ignore";
      }),
    );
  });
});
