import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import { parseConfig } from "../../functions/shared/config.js";
import { ConfigError } from "../../functions/shared/errors.js";
import { DEFAULT_CONFIG_FILE, loadConfig } from "../../infra/config-file.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "kms-responder-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfig (the CDK app's config)", () => {
  it("uses the defaults when no file is named and kms-responder.config.json is absent", () => {
    const defaults = parseConfig({}, "defaults", INCIDENTS);
    expect(loadConfig(undefined, dir)).toEqual({ config: defaults, source: "defaults" });
    // Every incident listed with its mode and options (checked against the registry).
    expect(Object.keys(defaults.incidents)).toEqual(INCIDENTS.map((i) => i.name));
  });

  it("reads kms-responder.config.json at the root when no file is named", () => {
    writeFileSync(path.join(dir, DEFAULT_CONFIG_FILE), JSON.stringify({ mode: "notify" }));
    const { config, source } = loadConfig(undefined, dir);
    expect(source).toBe(DEFAULT_CONFIG_FILE);
    expect(config.mode).toBe("notify");
  });

  it("reads the named file (CDK context `config`) and fills in defaults", () => {
    writeFileSync(path.join(dir, "prod.json"), JSON.stringify({ trustedAccounts: ["444455556666"] }));
    const { config, source } = loadConfig("prod.json", dir);
    expect(source).toBe("prod.json");
    expect(config.trustedAccounts).toEqual(["444455556666"]);
    expect(config.afterCancel).toBe("restore");
  });

  it("fails with a ConfigError naming the wrong field", () => {
    writeFileSync(
      path.join(dir, "bad.json"),
      JSON.stringify({ incidents: { "rogue-grant": { mode: "sometimes" } } }),
    );
    expect(() => loadConfig("bad.json", dir)).toThrow(ConfigError);
    expect(() => loadConfig("bad.json", dir)).toThrow(/config file bad\.json: incidents\.rogue-grant\.mode/);
  });

  it("fails on unknown fields and on text that is not JSON", () => {
    writeFileSync(path.join(dir, "typo.json"), JSON.stringify({ trustedAcounts: [] }));
    expect(() => loadConfig("typo.json", dir)).toThrow(/unknown field "trustedAcounts"/);
    writeFileSync(path.join(dir, "broken.json"), "{ mode: notify");
    expect(() => loadConfig("broken.json", dir)).toThrow(/not JSON/);
  });

  it("fails when the named file cannot be read", () => {
    expect(() => loadConfig("missing.json", dir)).toThrow(/cannot read config file missing\.json/);
  });
});
