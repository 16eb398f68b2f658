import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INCIDENT_NAMES, INCIDENTS } from "../../functions/registry.js";
import {
  type Config,
  configFromEnv,
  DEFAULT_CONFIG,
  incidentOptions,
  parseConfig as parseAnyIncidents,
  parseConfigText as parseAnyIncidentsText,
} from "../../functions/shared/config.js";
import { incidentMode } from "../../functions/shared/decision.js";
import { ConfigError } from "../../functions/shared/errors.js";

/** The message of the ConfigError `run` throws; fails the test when it throws nothing or something else. */
function configErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe("ConfigError");
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

/**
 * The config as the CLI and the stack check it, with the registry's declarations: what these
 * tests pin (an incident's Lambda checks without them: "without the declarations" below).
 */
const parseConfig = (input: unknown, origin?: string) => parseAnyIncidents(input, origin, INCIDENTS);
const parseConfigText = (text: string | undefined, origin?: string) =>
  parseAnyIncidentsText(text, origin, INCIDENTS);

/** Incidents with options of their own, at their defaults. */
const DEFAULT_SETTINGS: Partial<Record<string, object>> = {
  "key-rotation-weakened": { mode: "enforce", maxPeriodDays: 365, approvedPrincipals: [] },
  "key-region-changed": { mode: "enforce", allowedRegions: [] },
  "responder-tampered": { mode: "enforce", repair: false },
};

function expectDefaults(config: Config): void {
  expectDefaultsBesideIncidents(config);
  expect(Object.keys(config.incidents).sort()).toEqual([...INCIDENT_NAMES].sort());
  // `mode` and each incident's own options at their defaults.
  for (const incident of INCIDENT_NAMES)
    expect(config.incidents[incident]).toEqual(DEFAULT_SETTINGS[incident] ?? { mode: "enforce" });
}

function expectDefaultsBesideIncidents(config: Config): void {
  expect(config.mode).toBe("notify");
  expect(config.afterCancel).toBe("restore");
  expect(config.onCritical).toBe("disable-key");
  expect(config.requireMfa).toBe(false);
  expect(config.reenableDisabledKeys).toBe(false);
  expect(config.exemptTagKey).toBe("kms-responder:exempt");
  expect(config.protectedTagKey).toBe("kms-responder:protected");
  expect(config.trustedAccounts).toEqual([]);
  expect(config.trustedOrganizationIds).toEqual([]);
  expect(config.trustedGranteePrincipals).toEqual([]);
  expect(config.approvedDeletionPrincipals).toEqual([]);
  expect(config.approvedDisablePrincipals).toEqual([]);
  expect(config.responderRoleArns).toEqual([]);
  expect(config.ignoredKeys).toEqual([]);
  expect(config.notificationKeyAdmins).toEqual([]);
  expect(config.runbookInvokers).toEqual([]);
  expect(config.securityHub).toBe(false);
  expect(config.organization).toBeUndefined();
}

describe("parseConfig: defaults", () => {
  it("fills in every default for an empty document", () => {
    // Act
    const config = parseConfig({});

    // Assess
    expectDefaults(config);
  });

  it.each([
    ["an empty string", ""],
    ["whitespace", "  \n\t "],
    ["undefined (no KMS_RESPONDER_CONFIG)", undefined],
    ["an empty JSON object", "{}"],
  ])("fills in every default for %s", (_label, text) => {
    // Act
    const config = parseConfigText(text);

    // Assess
    expectDefaults(config);
  });

  it("reads KMS_RESPONDER_CONFIG from the environment, defaults when unset", () => {
    // Act
    const fromEnv = configFromEnv({ KMS_RESPONDER_CONFIG: '{"mode":"notify"}' }, INCIDENTS);
    const unset = configFromEnv({}, INCIDENTS);

    // Assess
    expect(fromEnv.mode).toBe("notify");
    expectDefaults(unset);
  });

  it("names the environment variable when it holds a bad config", () => {
    // Act
    const message = configErrorOf(() => configFromEnv({ KMS_RESPONDER_CONFIG: '{"mode":"later"}' }));

    // Assess
    expect(message).toContain("KMS_RESPONDER_CONFIG");
    expect(message).toContain("mode");
  });

  it("is the DEFAULT_CONFIG, whose incidents are all left out (each then runs in mode enforce)", () => {
    // Assess
    expectDefaultsBesideIncidents(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.incidents).toEqual({});
    for (const incident of INCIDENT_NAMES) expect(incidentMode(DEFAULT_CONFIG, incident)).toBe("notify");
    expect(incidentMode({ ...DEFAULT_CONFIG, mode: "enforce" }, "key-disabled")).toBe("enforce");
  });

  it("keeps the other incidents' defaults when one incident is configured", () => {
    // Act
    const config = parseConfig({ incidents: { "rogue-grant": { mode: "off" }, "key-disabled": {} } });

    // Assess
    expect(config.incidents["rogue-grant"]).toEqual({ mode: "off" });
    expect(config.incidents["key-disabled"]).toEqual({ mode: "enforce" });
    expect(config.incidents["key-deletion-scheduled"]).toEqual({ mode: "enforce" });
  });

  it("accepts the example config shipped with the project", () => {
    // Prepare
    const text = readFileSync("config/example.json", "utf8");

    // Act
    const config = parseConfigText(text, "config/example.json");

    // Assess: it watches first; acting is a deliberate switch
    expect(config.mode).toBe("notify");
    expect(config.trustedAccounts).toEqual(["555566667777"]);
    expect(config.requireMfa).toBe(true);
    // No responder roles: the stack fills in its own; a shipped name would let whoever creates
    // a role of that name act unseen.
    expect(config.responderRoleArns).toEqual([]);
    expect(config.notificationKeyAdmins).toEqual(["arn:aws:iam::111122223333:role/KeyAdmin"]);
    expect(config.runbookInvokers).toEqual(["arn:aws:iam::111122223333:role/SecurityOnCall"]);
    expect(config.organization).toBeUndefined();
  });

  it("accepts the organisation example shipped with the project", () => {
    // Prepare
    const text = readFileSync("config/organization.example.json", "utf8");

    // Act
    const config = parseConfigText(text, "config/organization.example.json");

    // Assess
    expect(config.mode).toBe("notify");
    expect(config.securityHub).toBe(true);
    expect(config.responderRoleArns).toEqual([]);
    expect(config.organization).toEqual({
      id: "o-a1b2c3d4e5",
      memberRoleName: "kms-responder-member",
      regions: ["us-east-1", "eu-west-1"],
      organizationalUnitIds: ["ou-ab12-cdefgh34"],
      heartbeatAccounts: [],
    });
  });
});

describe("parseConfig: errors name the field", () => {
  it("rejects an unknown top-level key and names it", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ trustedAcounts: ["111122223333"] }));

    // Assess
    expect(message).toContain('unknown field "trustedAcounts"');
  });

  it("rejects an unknown nested key and names its whole path", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ incidents: { "rogue-grant": { mod: "notify" } } }));

    // Assess
    expect(message).toContain('"incidents.rogue-grant.mod"');
  });

  it("names every unknown field of an object, not only the first", () => {
    // Act
    const message = configErrorOf(() =>
      parseConfig({
        trustedAcounts: [],
        mode: "notify",
        requireMFA: true,
        incidents: { "rogue-grant": { mod: "off", x: 1 } },
      }),
    );

    // Assess
    expect(message).toBe(
      'invalid config: unknown field "incidents.rogue-grant.mod", "incidents.rogue-grant.x", "trustedAcounts", "requireMFA"',
    );
  });

  it("lists a field's allowed values the way the docs show them", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ mode: "notfy" }));

    // Assess
    expect(message).toBe('invalid config: mode: Invalid option: expected one of "enforce"|"notify"');
  });

  it("rejects an array where an object belongs and says so", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ incidents: [] }));

    // Assess
    expect(message).toBe("invalid config: incidents: expected object, received array");
  });

  it("rejects an unknown incident name", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ incidents: { "rogue-grants": { mode: "off" } } }));

    // Assess
    expect(message).toContain('"incidents.rogue-grants"');
  });

  it("rejects a bad enum value and names the field and the allowed values", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ afterCancel: "later" }));

    // Assess
    expect(message).toMatch(/^invalid config: afterCancel: /);
    expect(message).toContain("restore");
    expect(message).toContain("keep-disabled");
  });

  it("rejects a bad per-incident mode and names its path", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ incidents: { "key-disabled": { mode: "loud" } } }));

    // Assess
    expect(message).toContain("incidents.key-disabled.mode");
  });

  it("rejects a malformed account id and names the field and the position", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ trustedAccounts: ["111122223333", "4444-5555-6666"] }));

    // Assess
    expect(message).toContain("trustedAccounts.1");
    expect(message).toContain("12-digit account id");
  });

  it("rejects a wrong type and names the field", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ requireMfa: "yes" }));

    // Assess
    expect(message).toContain("requireMfa");
  });

  it("names every wrong field at once", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ mode: "off", onCritical: "panic", extra: 1 }));

    // Assess
    expect(message).toContain("mode");
    expect(message).toContain("onCritical");
    expect(message).toContain('"extra"');
  });

  it("rejects a document that is not an object", () => {
    // Act
    const message = configErrorOf(() => parseConfigText("[]"));

    // Assess
    expect(message).toContain("expected object");
  });

  it("rejects text that is not JSON and says so", () => {
    // Act
    const message = configErrorOf(() => parseConfigText("{ mode: enforce }", "config file x.json"));

    // Assess
    expect(message).toContain("config file x.json");
    expect(message).toContain("not JSON");
  });
});

describe("parseConfig: the result", () => {
  it("is frozen all the way down", () => {
    // Act
    const config = parseConfig({ trustedAccounts: ["444455556666"] });

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.trustedAccounts)).toBe(true);
    expect(Object.isFrozen(config.incidents)).toBe(true);
    expect(Object.isFrozen(config.incidents["rogue-grant"])).toBe(true);
    expect(() => {
      (config.trustedAccounts as string[]).push("999988887777");
    }).toThrow(TypeError);
  });

  it("does not share default arrays between two configs", () => {
    // Act
    const first = parseConfig({});
    const second = parseConfig({ trustedAccounts: ["444455556666"] });

    // Assess
    expect(first.trustedAccounts).toEqual([]);
    expect(second.trustedAccounts).toEqual(["444455556666"]);
  });
});

describe("incidentMode", () => {
  it.each([
    ["enforce", "enforce", "enforce"],
    ["enforce", "notify", "notify"],
    ["enforce", "off", "off"],
    ["notify", "enforce", "notify"],
    ["notify", "notify", "notify"],
    ["notify", "off", "off"],
  ] as const)("global %s with incident %s is %s", (global, incident, expected) => {
    // Prepare
    const config = parseConfig({ mode: global, incidents: { "rogue-grant": { mode: incident } } });

    // Act
    const mode = incidentMode(config, "rogue-grant");

    // Assess
    expect(mode).toBe(expected);
  });
});

const ROLE_SHAPE = "must be an IAM ARN like arn:<partition>:iam::<12-digit account>:role/<path/name>";
const WILDCARD =
  "must be an exact ARN, without * or ?: a wildcard would let anyone who can create a look-alike role act unseen";

describe("parseConfig: responderRoleArns are exact role ARNs", () => {
  it("accepts exact role ARNs, with a path and in other partitions", () => {
    // Prepare
    const arns = [
      "arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE",
      "arn:aws:iam::111122223333:role/service-role/security/kms-responder",
      "arn:aws-us-gov:iam::111122223333:role/kms-responder",
      "arn:aws-cn:iam::111122223333:role/kms-responder",
      "arn:aws:iam::111122223333:role/odd:path/kms-responder+x=y,z.w@v_u",
    ];

    // Act
    const config = parseConfig({ responderRoleArns: arns });

    // Assess
    expect(config.responderRoleArns).toEqual(arns);
  });

  it.each([
    ["a * in the name", "arn:aws:iam::111122223333:role/kms-responder-*"],
    ["a ? in the name", "arn:aws:iam::111122223333:role/kms-responder-?"],
    ["a * in the path", "arn:aws:iam::111122223333:role/*/kms-responder"],
    ["a * for the account", "arn:aws:iam::*:role/kms-responder"],
    ["a bare *", "*"],
  ])("rejects %s, names the field and says why", (_label, arn) => {
    // Act
    const message = configErrorOf(() =>
      parseConfig({ responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder", arn] }),
    );

    // Assess: one problem (the wildcard), not also the shape
    expect(message).toBe(`invalid config: responderRoleArns.1: ${WILDCARD}`);
  });

  it.each([
    ["not an ARN", "kms-responder-RogueGrantRole"],
    ["an 11-digit account", "arn:aws:iam::11112222333:role/kms-responder"],
    ["a Region in an IAM ARN", "arn:aws:iam:us-east-1:111122223333:role/kms-responder"],
    ["a user", "arn:aws:iam::111122223333:user/kms-responder"],
    ["a role session", "arn:aws:sts::111122223333:assumed-role/kms-responder/session"],
    ["no role name", "arn:aws:iam::111122223333:role/"],
    ["a name with a space", "arn:aws:iam::111122223333:role/kms responder"],
    ["an unknown partition", "arn:gcp:iam::111122223333:role/kms-responder"],
  ])("rejects %s and names the field and the shape", (_label, arn) => {
    // Act
    const message = configErrorOf(() => parseConfig({ responderRoleArns: [arn] }));

    // Assess
    expect(message).toBe(`invalid config: responderRoleArns.0: ${ROLE_SHAPE}`);
  });
});

describe("parseConfig: notificationKeyAdmins and runbookInvokers", () => {
  it("accepts exact role and user ARNs as key administrators", () => {
    // Prepare
    const admins = ["arn:aws:iam::111122223333:role/KeyAdmin", "arn:aws:iam::111122223333:user/ops/alice"];

    // Act
    const config = parseConfig({ notificationKeyAdmins: admins });

    // Assess
    expect(config.notificationKeyAdmins).toEqual(admins);
  });

  it.each([
    ["a wildcard", "arn:aws:iam::111122223333:role/Key*", WILDCARD],
    [
      "the account root",
      "arn:aws:iam::111122223333:root",
      "must be an IAM ARN like arn:<partition>:iam::<12-digit account>:role/<name> or :user/<name>",
    ],
    [
      "a group",
      "arn:aws:iam::111122223333:group/KeyAdmins",
      "must be an IAM ARN like arn:<partition>:iam::<12-digit account>:role/<name> or :user/<name>",
    ],
  ])("rejects %s as a key administrator, naming the field", (_label, arn, why) => {
    // Act
    const message = configErrorOf(() => parseConfig({ notificationKeyAdmins: [arn] }));

    // Assess
    expect(message).toBe(`invalid config: notificationKeyAdmins.0: ${why}`);
  });

  it("accepts exact role ARNs as runbook invokers", () => {
    // Act
    const config = parseConfig({ runbookInvokers: ["arn:aws:iam::111122223333:role/SecurityOnCall"] });

    // Assess
    expect(config.runbookInvokers).toEqual(["arn:aws:iam::111122223333:role/SecurityOnCall"]);
  });

  it.each([
    ["a wildcard", "arn:aws:iam::111122223333:role/SecurityOnCall-*", WILDCARD],
    ["a user (roles only)", "arn:aws:iam::111122223333:user/alice", ROLE_SHAPE],
  ])("rejects %s as a runbook invoker, naming the field", (_label, arn, why) => {
    // Act
    const message = configErrorOf(() => parseConfig({ runbookInvokers: [arn] }));

    // Assess
    expect(message).toBe(`invalid config: runbookInvokers.0: ${why}`);
  });
});

describe("parseConfig: securityHub", () => {
  it("is off unless switched on", () => {
    // Act
    const on = parseConfig({ securityHub: true });

    // Assess
    expect(on.securityHub).toBe(true);
    expect(parseConfig({}).securityHub).toBe(false);
  });

  it("rejects a value that is not a boolean and names the field", () => {
    // Act
    const message = configErrorOf(() => parseConfig({ securityHub: "yes" }));

    // Assess
    expect(message).toBe("invalid config: securityHub: expected boolean, received string");
  });
});

const ORGANIZATION = {
  id: "o-a1b2c3d4e5",
  regions: ["us-east-1", "eu-west-1"],
  organizationalUnitIds: ["ou-ab12-cdefgh34"],
};

describe("parseConfig: organization", () => {
  it("fills in the member role name and keeps the rest", () => {
    // Act
    const config = parseConfig({ organization: ORGANIZATION });

    // Assess
    expect(config.organization).toEqual({
      ...ORGANIZATION,
      memberRoleName: "kms-responder-member",
      heartbeatAccounts: [],
    });
    expect(Object.isFrozen(config.organization)).toBe(true);
    expect(Object.isFrozen(config.organization?.regions)).toBe(true);
  });

  it("takes the heartbeat's member accounts as 12-digit ids, and names a wrong one", () => {
    const config = parseConfig({ organization: { ...ORGANIZATION, heartbeatAccounts: ["222233334444"] } });
    expect(config.organization?.heartbeatAccounts).toEqual(["222233334444"]);
    expect(() =>
      parseConfig({ organization: { ...ORGANIZATION, heartbeatAccounts: ["2222-3333-4444"] } }),
    ).toThrow(/organization\.heartbeatAccounts\.0: must be a 12-digit account id/);
  });

  it("accepts roots, units, a custom member role and Regions of every partition", () => {
    // Prepare
    const organization = {
      id: "o-0123456789abcdefghijklmnopqrstuv",
      memberRoleName: "Security+KMS=member,ops.@x_y-z",
      regions: ["us-gov-west-1", "cn-north-1", "us-iso-east-1", "us-isob-east-1", "ap-southeast-2"],
      organizationalUnitIds: [
        "r-ab12",
        "ou-ab12-cdefgh34",
        "ou-0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef",
      ],
    };

    // Act
    const config = parseConfig({ organization });

    // Assess
    expect(config.organization).toEqual({ ...organization, heartbeatAccounts: [] });
  });

  it.each([
    ["id", { id: "o-abc" }, "organization.id: must look like o-xxxxxxxxxx"],
    ["id", { id: "O-A1B2C3D4E5" }, "organization.id: must look like o-xxxxxxxxxx"],
    ["id", { id: "ou-ab12-cdefgh34" }, "organization.id: must look like o-xxxxxxxxxx"],
    [
      "memberRoleName",
      { memberRoleName: "kms responder" },
      "organization.memberRoleName: must be an IAM role name ([\\w+=,.@-], 1-64 characters)",
    ],
    [
      "memberRoleName",
      { memberRoleName: "r".repeat(65) },
      "organization.memberRoleName: must be an IAM role name ([\\w+=,.@-], 1-64 characters)",
    ],
    [
      "memberRoleName",
      { memberRoleName: "" },
      "organization.memberRoleName: must be an IAM role name ([\\w+=,.@-], 1-64 characters)",
    ],
    ["regions", { regions: [] }, "organization.regions: must list at least one"],
    [
      "regions",
      { regions: ["us-east-1", "eu-west"] },
      "organization.regions.1: must be a Region name like eu-west-1",
    ],
    [
      "regions",
      { regions: ["us-east-1", "US-EAST-1"] },
      "organization.regions.1: must be a Region name like eu-west-1",
    ],
    ["regions", { regions: ["us-east-1", "us-east-1"] }, 'organization.regions.1: repeats "us-east-1"'],
    ["regions", { regions: "us-east-1" }, "organization.regions: expected array, received string"],
    [
      "organizationalUnitIds",
      { organizationalUnitIds: [] },
      "organization.organizationalUnitIds: must list at least one",
    ],
    [
      "organizationalUnitIds",
      { organizationalUnitIds: ["ou-ab12-cdefgh34", "ou-ab12"] },
      "organization.organizationalUnitIds.1: must be a root id (r-...) or an organizational unit id (ou-...)",
    ],
    [
      "organizationalUnitIds",
      { organizationalUnitIds: ["o-a1b2c3d4e5"] },
      "organization.organizationalUnitIds.0: must be a root id (r-...) or an organizational unit id (ou-...)",
    ],
    [
      "organizationalUnitIds",
      { organizationalUnitIds: ["r-ab12", "r-ab12"] },
      'organization.organizationalUnitIds.1: repeats "r-ab12"',
    ],
  ])("rejects a bad %s and names it: %j", (_field, override, expected) => {
    // Act
    const message = configErrorOf(() => parseConfig({ organization: { ...ORGANIZATION, ...override } }));

    // Assess
    expect(message).toBe(`invalid config: ${expected}`);
  });

  it.each(["id", "regions", "organizationalUnitIds"] as const)("requires %s and names it", (field) => {
    // Prepare
    const { [field]: _left, ...organization } = ORGANIZATION;

    // Act
    const message = configErrorOf(() => parseConfig({ organization }));

    // Assess
    expect(message).toContain(`organization.${field}: is required`);
  });

  it("rejects an unknown field inside the block and names its path", () => {
    // Act
    const message = configErrorOf(() =>
      parseConfig({ organization: { ...ORGANIZATION, accounts: ["444455556666"] } }),
    );

    // Assess
    expect(message).toBe('invalid config: unknown field "organization.accounts"');
  });
});

describe("parseConfig without the incidents' declarations (an incident's Lambda)", () => {
  it.each([
    ["a bad mode", { incidents: { "key-disabled": { mode: "loud" } } }],
    ["incidents not an object", { incidents: [] }],
    ["an entry not an object", { incidents: { "rogue-grant": "off" } }],
    ["a bad field beside incidents", { incidents: { "rogue-grant": {} }, afterCancel: "later" }],
  ])("rejects %s with the message the strict check gives", (_label, input) => {
    // Act
    const lambda = configErrorOf(() => parseAnyIncidents(input));
    const strict = configErrorOf(() => parseConfig(input));

    // Assess
    expect(lambda).toBe(strict);
  });

  it("keeps the fields it does not know (an incident checks its own), where the strict check names them", () => {
    // Prepare
    const input = { incidents: { "key-disabled": { mode: "off", colour: "red" }, "later-incident": {} } };

    // Act
    const config = parseAnyIncidents(input);
    const message = configErrorOf(() => parseConfig(input));

    // Assess
    expect(config.incidents).toEqual({
      "key-disabled": { mode: "off", colour: "red" },
      "later-incident": { mode: "enforce" },
    });
    expect(incidentMode({ ...config, mode: "enforce" }, "key-disabled")).toBe("off");
    expect(message).toBe(
      'invalid config: unknown field "incidents.key-disabled.colour", "incidents.later-incident"',
    );
  });

  it("takes any incident name in scan.enforce, where the strict check takes the registry's only", () => {
    // Act
    const config = parseAnyIncidents({ scan: { enforce: ["later-incident"] } });
    const message = configErrorOf(() => parseConfig({ scan: { enforce: ["later-incident"] } }));

    // Assess
    expect(config.scan.enforce).toEqual(["later-incident"]);
    expect(message).toMatch(
      /^invalid config: scan\.enforce\.0: Invalid option: expected one of "alias-changed"\|/,
    );
  });

  it("still asks for approvers when an incident's mode is approve", () => {
    // Act
    const message = configErrorOf(() =>
      parseAnyIncidents({ incidents: { "key-disabled": { mode: "approve" } } }),
    );

    // Assess
    expect(message).toBe(
      'invalid config: approval: is required (approvers) because incidents.key-disabled.mode is "approve"',
    );
  });
});

describe("incidentOptions", () => {
  const rotation = INCIDENTS.find((i) => i.name === "key-rotation-weakened");
  const entries = rotation?.options ?? {};

  it("gives an incident left out of the config its options' defaults", () => {
    // Act
    const options = incidentOptions(DEFAULT_CONFIG, "key-rotation-weakened", entries);

    // Assess
    expect(rotation?.options).toBeDefined();
    expect(options).toEqual({ mode: "enforce", maxPeriodDays: 365, approvedPrincipals: [] });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it("reads the options as written, with the defaults of those left out", () => {
    // Act
    const config = parseAnyIncidents({ incidents: { "key-rotation-weakened": { maxPeriodDays: 180 } } });

    // Assess
    expect(incidentOptions(config, "key-rotation-weakened", entries)).toEqual({
      mode: "enforce",
      maxPeriodDays: 180,
      approvedPrincipals: [],
    });
  });

  it("fails on a wrong or unknown option of its own, naming the field as the strict check does", () => {
    // Prepare
    const input = { incidents: { "key-rotation-weakened": { maxPeriodDays: 3000, maxPeriod: 100 } } };
    const config = parseAnyIncidents(input);

    // Act
    const message = configErrorOf(() => incidentOptions(config, "key-rotation-weakened", entries));

    // Assess
    expect(message).toBe(configErrorOf(() => parseConfig(input)));
    expect(message).toBe(
      'invalid config: unknown field "incidents.key-rotation-weakened.maxPeriod"; ' +
        "incidents.key-rotation-weakened.maxPeriodDays: expected <=2560, received number",
    );
  });
});
