/** `drill --verbose` prints each notification's text body under the scenario's timeline. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatScenario, type ScenarioReport } from "../../cli/drill.js";
import { SCENARIOS } from "../../functions/drill-scenarios.js";

const REPORT: ScenarioReport = {
  scenario: "external-grant",
  title: "a grant to another account",
  promise: "the grant is revoked",
  passed: true,
  failures: [],
  attack: "CreateGrant to 444455556666",
  performed: true,
  event: { fixture: "events/rogue-grant/external-grantee.json", eventName: "CreateGrant" },
  rule: "rogue-grant",
  decision: { outcome: "remediated" },
  actions: [],
  endState: [],
  notification: {
    subject: "[CRITICAL] Rogue KMS grant, grant revoked: key 7f3c9a12",
    attributes: { severity: "critical" },
    text: "[CRITICAL] Rogue KMS grant, grant revoked: key 7f3c9a12\n\nWhat happened: ...\nHow to undo (in this order, each only when its condition holds):",
  },
  timing: { calls: [] },
} as ScenarioReport;

describe("drill output", () => {
  it("prints the notification's text body with --verbose, indented under the scenario", () => {
    const lines = formatScenario(REPORT, 1, 1, true);
    const start = lines.indexOf("      ---- notification text ----");
    expect(start).toBeGreaterThan(0);
    expect(lines.slice(start + 1, start + 4)).toEqual([
      "      | [CRITICAL] Rogue KMS grant, grant revoked: key 7f3c9a12",
      "      | ",
      "      | What happened: ...",
    ]);
  });

  it("prints only the subject without --verbose", () => {
    const lines = formatScenario(REPORT, 1, 1);
    expect(lines.join("\n")).not.toContain("notification text");
    expect(lines.some((l) => l.includes("notified   [CRITICAL] Rogue KMS grant"))).toBe(true);
  });
});

describe("the README's account of the drill", () => {
  it("states the number of scenarios the drill runs", () => {
    // Prepare
    const readme = readFileSync("README.md", "utf8");

    // Act
    const stated = /performs (\d+)\s+attack and control scenarios/.exec(readme)?.[1];

    // Assess
    expect(Number(stated)).toBe(SCENARIOS.length);
  });
});
