import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type Config,
  configFromEnv,
  DEFAULT_CONFIG,
  incidentMode,
  parseConfig,
  parseConfigText,
} from "../../functions/shared/config.js";
import { ConfigError } from "../../functions/shared/errors.js";
import { INCIDENTS } from "../../functions/shared/types.js";

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

function expectDefaults(config: Config): void {
  expect(config.mode).toBe("enforce");
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
  expect(Object.keys(config.incidents).sort()).toEqual([...INCIDENTS].sort());
  for (const incident of INCIDENTS) expect(config.incidents[incident]).toEqual({ mode: "enforce" });
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
    const fromEnv = configFromEnv({ KMS_RESPONDER_CONFIG: '{"mode":"notify"}' });
    const unset = configFromEnv({});

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

  it("is the DEFAULT_CONFIG", () => {
    // Assess
    expectDefaults(DEFAULT_CONFIG);
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

    // Assess
    expect(config.trustedAccounts).toEqual(["555566667777"]);
    expect(config.requireMfa).toBe(true);
    expect(config.responderRoleArns).toEqual(["arn:aws:iam::111122223333:role/kms-responder-*"]);
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
