/**
 * rolePermissions: each function's role is derived from the reads and executors its incident can
 * plan under the deployed config. No mutating permission the config can never use; nothing at all
 * for an incident that is off.
 */
import { describe, expect, it } from "vitest";
import { keyDeletionScheduled } from "../../functions/key-deletion-scheduled/incident.js";
import { keyDisabled } from "../../functions/key-disabled/incident.js";
import { keyMaterialDeleted } from "../../functions/key-material-deleted/incident.js";
import { keyPolicyViolation } from "../../functions/key-policy-violation/incident.js";
import { keyRotationDisabled } from "../../functions/key-rotation-disabled/incident.js";
import { pendingDeletionKeyUsed } from "../../functions/pending-deletion-key-used/incident.js";
import { INCIDENTS } from "../../functions/registry.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import { parseConfig } from "../../functions/shared/config.js";
import { memberSessionActions, rolePermissions } from "../../functions/shared/permissions.js";
import { config, ENFORCING } from "../helpers/decide.js";

const MUTATING = [
  "kms:CancelKeyDeletion",
  "kms:DisableKey",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:PutKeyPolicy",
  "kms:RevokeGrant",
];

describe("rolePermissions with the defaults", () => {
  // Every function that is not off may read the key and its aliases, to name the key in its
  // notification (kms:ListAliases has no resource-level permission: it is in `other`, on *).
  it.each([
    [
      rogueGrant,
      ["kms:DescribeKey", "kms:ListGrants", "kms:ListResourceTags", "kms:RevokeGrant"],
      ["kms:ListAliases"],
    ],
    [
      keyDeletionScheduled,
      [
        "kms:CancelKeyDeletion",
        "kms:DescribeKey",
        "kms:EnableKey",
        "kms:GetKeyLastUsage",
        "kms:ListResourceTags",
      ],
      ["cloudtrail:LookupEvents", "kms:ListAliases"],
    ],
    [
      pendingDeletionKeyUsed,
      [
        "kms:CancelKeyDeletion",
        "kms:DescribeKey",
        "kms:EnableKey",
        "kms:GetKeyLastUsage",
        "kms:ListResourceTags",
      ],
      ["cloudtrail:LookupEvents", "kms:ListAliases"],
    ],
    [
      keyPolicyViolation,
      ["kms:DescribeKey", "kms:DisableKey", "kms:GetKeyPolicy", "kms:ListResourceTags"],
      // Its own organisation, learnt once when the config names none (trusted like its account).
      ["kms:ListAliases", "organizations:DescribeOrganization"],
    ],
    // reenableDisabledKeys is off by default: notify only, it reads the key and its last use for the
    // notification.
    [keyDisabled, ["kms:DescribeKey", "kms:GetKeyLastUsage"], ["kms:ListAliases"]],
    // Which material went, the imports and rotations before it, and when the key was last used.
    [
      keyMaterialDeleted,
      ["kms:DescribeKey", "kms:GetKeyLastUsage", "kms:ListKeyRotations"],
      ["cloudtrail:LookupEvents", "kms:ListAliases"],
    ],
    [
      keyRotationDisabled,
      ["kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
      // The EnableKeyRotation that set the period, when the status no longer reports it.
      ["cloudtrail:LookupEvents", "kms:ListAliases"],
    ],
  ] as const)("$name", (incident, kms, other) => {
    // Act / Assess
    expect(rolePermissions(incident, ENFORCING)).toEqual({ kms, other });
  });
});

describe("rolePermissions under other configs", () => {
  it("onCritical remove-statements adds PutKeyPolicy and keeps DisableKey for the fallback", () => {
    // Act
    const role = rolePermissions(keyPolicyViolation, config({ onCritical: "remove-statements" }));

    // Assess
    expect(role.kms).toEqual([
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:GetKeyPolicy",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
    ]);
  });

  it("onCritical notify: reads only, no DisableKey", () => {
    // Act
    const role = rolePermissions(keyPolicyViolation, config({ onCritical: "notify" }));

    // Assess
    expect(role.kms).toEqual(["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags"]);
  });

  it("reenableDisabledKeys gives key-disabled EnableKey and the reads that verify the state", () => {
    // Act
    const role = rolePermissions(keyDisabled, config({ reenableDisabledKeys: true }));

    // Assess
    expect(role).toEqual({
      kms: ["kms:DescribeKey", "kms:EnableKey", "kms:GetKeyLastUsage", "kms:ListResourceTags"],
      other: ["kms:ListAliases"],
    });
  });

  it.each([keyDeletionScheduled, pendingDeletionKeyUsed])(
    "afterCancel keep-disabled: $name gets no EnableKey and no CloudTrail",
    (incident) => {
      // Act
      const role = rolePermissions(incident, config({ afterCancel: "keep-disabled" }));

      // Assess
      expect(role).toEqual({
        kms: ["kms:CancelKeyDeletion", "kms:DescribeKey", "kms:GetKeyLastUsage", "kms:ListResourceTags"],
        other: ["kms:ListAliases"],
      });
    },
  );

  it.each([keyDeletionScheduled, pendingDeletionKeyUsed])(
    "afterCancel enable: $name re-enables without reading the history",
    (incident) => {
      // Act
      const role = rolePermissions(incident, config({ afterCancel: "enable" }));

      // Assess
      expect(role.kms).toContain("kms:EnableKey");
      expect(role.other).toEqual(["kms:ListAliases"]);
    },
  );

  it.each(INCIDENTS.map((i) => [i.name, i] as const))(
    "global notify mode: %s gets no mutating permission",
    (_name, incident) => {
      // Act
      const role = rolePermissions(
        incident,
        config({ mode: "notify", onCritical: "remove-statements", reenableDisabledKeys: true }),
      );

      // Assess
      expect(role.kms.filter((a) => MUTATING.includes(a))).toEqual([]);
    },
  );

  it("per-incident notify mode removes only that incident's mutating permissions", () => {
    // Prepare
    const cfg = config({ incidents: { "rogue-grant": { mode: "notify" } } });

    // Act / Assess
    expect(rolePermissions(rogueGrant, cfg).kms).toEqual([
      "kms:DescribeKey",
      "kms:ListGrants",
      "kms:ListResourceTags",
    ]);
    expect(rolePermissions(keyPolicyViolation, cfg).kms).toContain("kms:DisableKey");
  });

  it.each(INCIDENTS.map((i) => [i.name, i] as const))(
    "an incident that is off gets nothing: %s",
    (name, incident) => {
      // Act
      const role = rolePermissions(incident, config({ incidents: { [name]: { mode: "off" } } }));

      // Assess
      expect(role).toEqual({ kms: [], other: [] });
    },
  );
});

describe("memberSessionActions: a central function's session in a member account", () => {
  const org = parseConfig({
    mode: "enforce",
    organization: { id: "o-abcdefghij", regions: ["us-east-1"], organizationalUnitIds: ["r-abcd"] },
  });

  it("carries its KMS actions and the resourceless reads it makes there (aliases, the key's history)", () => {
    // Act
    const deletion = memberSessionActions(keyDeletionScheduled, org);
    const grant = memberSessionActions(rogueGrant, org);

    // Assert: the reads run with the member session's credentials, so the session must allow them.
    expect(deletion).toEqual(expect.arrayContaining(["kms:CancelKeyDeletion", "kms:ListAliases"]));
    expect(deletion.includes("cloudtrail:LookupEvents")).toBe(
      rolePermissions(keyDeletionScheduled, org).other.includes("cloudtrail:LookupEvents"),
    );
    expect(grant).toEqual(expect.arrayContaining(["kms:RevokeGrant", "kms:ListGrants", "kms:ListAliases"]));
    // Never the central account's own business.
    for (const actions of [deletion, grant]) {
      expect(actions).not.toContain("sts:AssumeRole");
      expect(actions).not.toContain("organizations:DescribeAccount");
    }
  });

  it("is empty for a function that never touches a key in another account (turned off)", () => {
    const off = parseConfig({
      organization: org.organization,
      incidents: { "rogue-grant": { mode: "off" } },
    });
    expect(memberSessionActions(rogueGrant, off)).toEqual([]);
  });
});
