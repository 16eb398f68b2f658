/**
 * Each incident's state judgement: the same reason codes and severities as its event rule, exempt
 * and protected tags, AWS managed keys, incidents switched off, and at most one finding per key
 * and incident. Clean state gives no finding.
 */
import { describe, expect, it } from "vitest";
import { judgeDeletion } from "../../functions/key-deletion-scheduled/state.js";
import { judgeExpiry } from "../../functions/key-material-expiring/state.js";
import { judgePolicy } from "../../functions/key-policy-violation/state.js";
import { judgeRotation } from "../../functions/key-rotation-disabled/state.js";
import { judgeGrants } from "../../functions/rogue-grant/state.js";
import { judgeKey, readsOf, stateIncidents } from "../../functions/scan/judge.js";
import { parseKeyArn } from "../../functions/shared/arn.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import type { KeyState, ListedGrant } from "../../functions/shared/state.js";

const ACCOUNT = "111122223333";
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const NOW = new Date("2026-12-07T12:00:00Z");
/** Enforce unless the input sets a mode (the default is notify): these tests pin what acting would plan. */
const config = (input: ConfigInput = {}) => parseConfig({ mode: "enforce", ...input });

function keyOf(arn: string) {
  const key = parseKeyArn(arn);
  if (!key) throw new Error(`bad test ARN ${arn}`);
  return key;
}

const DEFAULT_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "root",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
});

function state(
  over: Partial<Omit<KeyState, "metadata">> & { metadata?: Partial<KeyState["metadata"]> } = {},
): KeyState {
  const { metadata, ...rest } = over;
  return {
    key: keyOf(KEY_ARN),
    aliases: ["alias/payments"],
    tags: {},
    grants: [],
    policy: DEFAULT_POLICY,
    rotation: { enabled: true, periodDays: 365 },
    ...rest,
    metadata: {
      keyState: "Enabled",
      keyManager: "CUSTOMER",
      keySpec: "SYMMETRIC_DEFAULT",
      origin: "AWS_KMS",
      deletionDate: undefined,
      validTo: undefined,
      expirationModel: undefined,
      multiRegion: false,
      ...metadata,
    },
  };
}

function grant(over: Partial<ListedGrant>): ListedGrant {
  return {
    grantId: "g-1",
    grantee: `arn:aws:iam::${ACCOUNT}:role/app`,
    retiringPrincipal: undefined,
    operations: ["Decrypt"],
    constrained: true,
    name: undefined,
    ...over,
  };
}

describe("a clean key", () => {
  it("gives no finding from any incident", () => {
    const c = config();
    expect(judgeKey(state({ grants: [grant({})] }), c, stateIncidents(c), NOW)).toEqual([]);
  });

  it("the incidents that judge state, and what they need read", () => {
    const c = config();
    expect(stateIncidents(c).map((i) => i.name)).toEqual([
      "key-deletion-scheduled",
      "key-material-expiring",
      "key-policy-violation",
      "key-rotation-disabled",
      "rogue-grant",
    ]);
    expect([...readsOf(stateIncidents(c))].sort()).toEqual(["grants", "policy", "rotation"]);
  });

  it("an incident switched off is not asked", () => {
    const c = config({ incidents: { "key-rotation-disabled": { mode: "off" } } });
    expect(stateIncidents(c).map((i) => i.name)).not.toContain("key-rotation-disabled");
    const s = state({ rotation: { enabled: false, periodDays: 365 } });
    expect(judgeKey(s, c, stateIncidents(c), NOW)).toEqual([]);
  });
});

describe("rogue-grant on listed grants", () => {
  it("an external grantee: critical, revokes exactly that grant by id", () => {
    const s = state({
      grants: [
        grant({}),
        grant({ grantId: "g-ext", grantee: "arn:aws:iam::999988887777:role/x", constrained: false }),
      ],
    });
    const f = judgeGrants(s, config());
    expect(f).toMatchObject({
      incident: "rogue-grant",
      severity: "critical",
      reasons: ["external-grantee", "unconstrained-grant"],
      key: { arn: KEY_ARN, alias: "alias/payments" },
      event: undefined,
    });
    expect(f?.actions).toEqual([{ type: "revoke-grant", keyRef: KEY_ARN, grantId: "g-ext" }]);
  });

  it("several grants make one finding; only the high/critical ones are revoked", () => {
    const s = state({
      grants: [
        grant({ grantId: "g-low", constrained: false }),
        grant({ grantId: "g-deleg", operations: ["Decrypt", "CreateGrant"] }),
      ],
    });
    const f = judgeGrants(s, config());
    expect(f?.severity).toBe("high");
    expect(f?.reasons).toEqual(["unconstrained-grant", "grant-delegation"]);
    expect(f?.actions.map((a) => a.grantId)).toEqual(["g-deleg"]);
  });

  it("a trusted account, a service principal or AWS infrastructure of the key's account raise nothing", () => {
    const s = state({
      grants: [
        grant({ grantee: "arn:aws:iam::444455556666:role/partner" }),
        grant({ grantee: "dynamodb.eu-west-1.amazonaws.com", constrained: false }),
        grant({ grantee: `${ACCOUNT}:aws:ec2-infrastructure:i-81e2f56c`, constrained: true }),
      ],
    });
    expect(judgeGrants(s, config({ trustedAccounts: ["444455556666"] }))).toBeUndefined();
  });

  it("an exempt key is reported, its revoke held", () => {
    const s = state({
      tags: { "kms-responder:exempt": "yes" },
      grants: [grant({ grantee: "arn:aws:iam::999988887777:role/x" })],
    });
    expect(judgeGrants(s, config())?.actions[0]?.hold?.code).toBe("exempt-key");
  });

  it("in a sweep, an exempt key's exemption is of unknown origin: reported as such, nothing done", () => {
    const exempt = state({
      tags: { "kms-responder:exempt": "yes" },
      grants: [grant({ grantee: "arn:aws:iam::999988887777:role/x" })],
    });
    const [finding, ...rest] = judgeKey(exempt, config(), stateIncidents(config()), NOW);
    expect(rest.filter((f) => f.incident === "rogue-grant")).toEqual([]);
    expect(finding).toMatchObject({ incident: "rogue-grant", verdicts: ["exemption-origin-unknown"] });
    expect(finding?.actions.length).toBeGreaterThan(0);
    for (const action of finding?.actions ?? [])
      expect(action.hold).toMatchObject({ status: "skipped", code: "exempt-key" });
    expect(finding?.actions[0]?.hold?.why).toContain("who set it is unknown to a sweep");
    expect(finding?.details.at(-1)).toContain(
      `aws kms untag-resource --key-id ${exempt.key.arn} --tag-keys kms-responder:exempt`,
    );
    // The same key without the tag: nothing about an exemption, the revoke not held.
    const plain = state({ grants: [grant({ grantee: "arn:aws:iam::999988887777:role/x" })] });
    const [acting] = judgeKey(plain, config(), stateIncidents(config()), NOW);
    expect(acting?.verdicts ?? []).not.toContain("exemption-origin-unknown");
    expect(acting?.actions[0]?.hold).toBeUndefined();
  });
});

describe("key-policy-violation on the current policy", () => {
  const publicPolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      JSON.parse(DEFAULT_POLICY).Statement[0],
      { Sid: "open", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" },
    ],
  });

  it("a public statement: critical public-principal, onCritical disable-key", () => {
    const f = judgePolicy(state({ policy: publicPolicy }), config());
    expect(f).toMatchObject({
      incident: "key-policy-violation",
      severity: "critical",
      reasons: ["public-principal"],
    });
    expect(f?.actions).toEqual([{ type: "disable-key", keyRef: KEY_ARN }]);
  });

  it("remove-statements computes the repaired policy from the current one", () => {
    const f = judgePolicy(state({ policy: publicPolicy }), config({ onCritical: "remove-statements" }));
    const action = f?.actions[0];
    expect(action?.type).toBe("remove-statements");
    expect(JSON.parse(action?.policy ?? "{}").Statement).toHaveLength(1);
    expect(action?.previousPolicy).toBe(publicPolicy);
  });

  it("an account outside the trusted ones: external-account", () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        JSON.parse(DEFAULT_POLICY).Statement[0],
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::999988887777:root" },
          Action: "kms:Decrypt",
          Resource: "*",
        },
      ],
    });
    expect(judgePolicy(state({ policy }), config())?.reasons).toEqual(["external-account"]);
    expect(judgePolicy(state({ policy }), config({ trustedAccounts: ["999988887777"] }))).toBeUndefined();
  });

  it("an unreadable policy is a medium finding without action", () => {
    expect(judgePolicy(state({ policy: "not json" }), config())).toMatchObject({
      severity: "medium",
      reasons: ["unreadable-policy"],
      actions: [],
    });
  });

  it("an exempt key with a public policy is reported, the action held", () => {
    const f = judgePolicy(state({ policy: publicPolicy, tags: { "kms-responder:exempt": "" } }), config());
    expect(f?.severity).toBe("critical");
    expect(f?.actions[0]?.hold?.code).toBe("exempt-key");
  });
});

describe("key-deletion-scheduled on a key pending deletion", () => {
  const pending = (tags: Record<string, string> = {}) =>
    state({
      tags,
      metadata: { keyState: "PendingDeletion", deletionDate: new Date("2026-12-14T12:00:00Z") },
    });

  it("with no approved deleters every deletion is unapproved: critical, cancel and restore", () => {
    const f = judgeDeletion(pending(), config(), NOW);
    expect(f).toMatchObject({ severity: "critical", reasons: ["unapproved-deletion"] });
    expect(f?.actions.map((a) => a.type)).toEqual(["cancel-key-deletion", "enable-key"]);
    expect(f?.details[0]).toBe("Deletion date: 2026-12-14T12:00:00.000Z (7 days left)");
  });

  it("with approved deleters, who scheduled it is unknown: high deletion-unattributed", () => {
    const c = config({ approvedDeletionPrincipals: ["arn:aws:iam::*:role/Admin"] });
    expect(judgeDeletion(pending(), c, NOW)).toMatchObject({
      severity: "high",
      reasons: ["deletion-unattributed"],
    });
  });

  it("a protected key is critical whoever may delete", () => {
    const c = config({ approvedDeletionPrincipals: ["arn:aws:iam::*:role/Admin"] });
    expect(judgeDeletion(pending({ "kms-responder:protected": "" }), c, NOW)?.reasons).toEqual([
      "protected-key",
    ]);
  });

  it("a multi-Region primary waiting for its replicas counts, without a date", () => {
    const s = state({ metadata: { keyState: "PendingReplicaDeletion" } });
    expect(judgeDeletion(s, config(), NOW)?.details[0]).toMatch(/no deletion date yet/);
  });

  it("an enabled or disabled key: nothing", () => {
    expect(judgeDeletion(state(), config(), NOW)).toBeUndefined();
    expect(judgeDeletion(state({ metadata: { keyState: "Disabled" } }), config(), NOW)).toBeUndefined();
  });
});

describe("key-rotation-disabled", () => {
  const off = { enabled: false, periodDays: undefined };

  it("rotation off on an enabled symmetric KMS key: medium, enable-key-rotation", () => {
    expect(judgeRotation(state({ rotation: off }), config())).toMatchObject({
      severity: "medium",
      reasons: ["rotation-disabled"],
      actions: [{ type: "enable-key-rotation", keyRef: KEY_ARN }],
    });
  });

  it.each([
    ["imported material", { origin: "EXTERNAL" }],
    ["an asymmetric key", { keySpec: "RSA_2048" }],
    ["a disabled key", { keyState: "Disabled" }],
    ["a key pending deletion", { keyState: "PendingDeletion" }],
  ])("not for %s (it cannot or need not rotate)", (_, metadata) => {
    expect(judgeRotation(state({ rotation: off, metadata }), config())).toBeUndefined();
  });
});

describe("key-material-expiring", () => {
  const imported = (validTo: Date, expirationModel = "KEY_MATERIAL_EXPIRES") =>
    state({ metadata: { origin: "EXTERNAL", validTo, expirationModel } });

  it("within 30 days: high; later: medium", () => {
    expect(judgeExpiry(imported(new Date("2026-12-20T00:00:00Z")), NOW)).toMatchObject({
      severity: "high",
      reasons: ["key-material-expires"],
      actions: [],
    });
    expect(judgeExpiry(imported(new Date("2027-06-01T00:00:00Z")), NOW)?.severity).toBe("medium");
  });

  it("material that does not expire: nothing", () => {
    expect(
      judgeExpiry(imported(new Date("2026-12-20T00:00:00Z"), "KEY_MATERIAL_DOES_NOT_EXPIRE"), NOW),
    ).toBeUndefined();
  });
});

describe("one key, several problems", () => {
  it("one finding per incident, each with its Security Hub type", () => {
    const s = state({
      rotation: { enabled: false, periodDays: undefined },
      grants: [grant({ grantee: "arn:aws:iam::999988887777:role/x" })],
    });
    const c = config();
    const findings = judgeKey(s, c, stateIncidents(c), NOW);
    expect(findings.map((f) => f.incident)).toEqual(["key-rotation-disabled", "rogue-grant"]);
    expect(findings[1]?.findingType).toBe("TTPs/Persistence/KMS Grant To Untrusted Principal");
  });
});
