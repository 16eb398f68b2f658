import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide } from "../../functions/rogue-grant/decide.js";
import type { Decision, PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/model.js";
import {
  callOf,
  config,
  DEFAULTS,
  decisionsFor,
  EXAMPLE,
  FAILED_CALL,
  keyArn as key,
  type Shape,
  shapeOf,
} from "../helpers/decide.js";
import { loadAllEvents, loadEvent } from "../helpers/fixtures.js";

const { decideEvent, decideFixture } = decisionsFor("rogue-grant", decide);

const KEY_ACCOUNT = "111122223333";
const EXTERNAL_ACCOUNT = "444455556666";

const revoke = (keyId: string, grantId: string, hold?: PlannedAction["hold"]): PlannedAction =>
  hold
    ? { type: "revoke-grant", keyRef: key(keyId), grantId, hold }
    : { type: "revoke-grant", keyRef: key(keyId), grantId };

const EXTERNAL_GRANT = {
  key: "7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34",
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

describe("rogue-grant decide: what makes a grant trusted", () => {
  it("trusts a grant an AWS service created on a principal's behalf and says why", () => {
    // Act
    const decision = decideFixture("rds-invoked-by");

    // Assess
    expect(decision).toMatchObject({
      kind: "ignore",
      skipped: "trusted-grant",
      why: expect.stringContaining("rds.amazonaws.com"),
    });
  });

  it("trusts an AWS service principal grantee even without invokedBy", () => {
    // Prepare
    const event = loadEvent("rogue-grant/dynamodb-service");
    delete event.detail.userIdentity?.invokedBy;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision).toMatchObject({
      kind: "ignore",
      skipped: "trusted-grant",
      why: expect.stringContaining("AWS service principal"),
    });
  });

  it("trusts an AWS infrastructure principal of the key's account even without invokedBy", () => {
    // Prepare
    const event = loadEvent("rogue-grant/ebs-infrastructure");
    delete event.detail.userIdentity?.invokedBy;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision).toMatchObject({
      kind: "ignore",
      skipped: "trusted-grant",
      why: expect.stringContaining("infrastructure of the key's account"),
    });
  });

  it("trusts an infrastructure session principal of the key's account (newer records)", () => {
    // Prepare
    const event = loadEvent("rogue-grant/aws-internal");
    delete event.detail.userIdentity?.invokedBy;

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision).toMatchObject({
      kind: "ignore",
      skipped: "trusted-grant",
      why: expect.stringContaining("infrastructure of the key's account"),
    });
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

    // Act
    const decision = decideEvent(event);

    // Assess
    expect(decision.kind).toBe("finding");
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
    expect(decision).toMatchObject({
      kind: "ignore",
      skipped: "trusted-grant",
      why: expect.stringContaining("trusted principal pattern"),
    });
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

  it("does not flag untrusted-grantee when no patterns are configured", () => {
    // Act
    const decision = decideFixture("unconstrained", DEFAULTS);

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
  it("ignores the responder's own call by role pattern", () => {
    // Act
    const decision = decideFixture(
      "own-call",
      config({ responderRoleArns: [`arn:aws:iam::${KEY_ACCOUNT}:role/kms-responder-*`] }),
    );

    // Assess
    expect(shapeOf(decision)).toEqual(skipped("own-call"));
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
            why: expect.stringContaining("notify"),
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
    expect(decision).toMatchObject({ actions: [{ type: "revoke-grant", hold: { status: "dry-run" } }] });
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
    const decision = decideFixture("exempt-key", DEFAULTS, { tags: { "kms-responder:exempt": "true" } });

    // Assess
    expect(shapeOf(decision)).toEqual(
      finding(
        "critical",
        ["external-grantee", "unconstrained-grant"],
        [
          revoke(
            "e0e0e0e0-1111-2222-3333-444455556666",
            "42c88cd2edf8772d73007c5d2b9a6d4634824f20077fb97ceb68161b97a428de",
            {
              status: "skipped",
              why: expect.stringContaining("kms-responder:exempt"),
            },
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
    const decision = decideFixture("exempt-key", DEFAULTS, { tags: { team: "payments" } });

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
      actions: [
        { type: "revoke-grant", hold: { status: "skipped", why: expect.stringContaining("ignoredKeys") } },
      ],
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
      actions: [
        { type: "revoke-grant", hold: { status: "skipped", why: expect.stringContaining("AWS managed") } },
      ],
    });
  });

  it("holds the revoke as skipped on a key DescribeKey says is AWS managed", () => {
    // Act
    const decision = decideFixture("external-grantee", DEFAULTS, { keyManager: "AWS" });

    // Assess
    expect(decision).toMatchObject({ actions: [{ hold: { status: "skipped" } }] });
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

describe("rogue-grant decide: never throws", () => {
  it.each(loadAllEvents().map((f) => [f.path, f.event] as const))("decides %s", (_path, event) => {
    // Prepare
    const call = normalise(event);

    // Act / Assess
    for (const cfg of [
      DEFAULTS,
      EXAMPLE,
      config({ mode: "notify", trustedGranteePrincipals: ["*:role/x"] }),
    ]) {
      const decision = call && decide(call, cfg, { tags: {} });
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
        const decision = decide(callOf(event), DEFAULTS);
        return decision.kind === "finding" || decision.kind === "ignore";
      }),
    );
  });
});
