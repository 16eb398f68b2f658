/**
 * `kms-responder drill`, in-process against the tier's emulator: every scenario keeps its promise,
 * one test each. global-setup.ts has just built the bundles, so the drill does not rebuild them (a
 * rebuild here could race with another file loading them).
 */
import { describe, expect, it, vi } from "vitest";
import { formatReport, runDrill } from "../../cli/drill.js";
import { SCENARIOS } from "../../functions/drill-scenarios.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import { spawn } from "../cli/spawn.js";
import { ENDPOINT, SKIP } from "./harness.js";

describe.skipIf(SKIP)("kms-responder drill", () => {
  it.each(SCENARIOS.map((s) => [s.id, s.promise]))(
    "%s: %s",
    async (id) => {
      // Act
      const report = await runDrill({ endpoint: ENDPOINT, build: "never", only: [id] });

      // Assess: the whole report on failure, so the broken promise is in the test output.
      expect(report.scenarios.map((s) => s.scenario)).toEqual([id]);
      const [scenario] = report.scenarios;
      expect(scenario?.failures, formatReport(report).join("\n")).toEqual([]);
      expect(scenario?.passed).toBe(true);
      expect(report.passed).toBe(true);
      if (id === "external-grant") {
        expect(scenario?.rule).toBe(rogueGrant.name);
        expect(scenario?.timing.remediationMs).toBeGreaterThan(0);
        expect(scenario?.notification?.subject).toMatch(/^\[CRITICAL\] /);
      }
      if (id === "own-call") expect(scenario?.rule).toBeNull();
    },
    60_000,
  );
});

describe.skipIf(SKIP)("kms-responder drill --json, as a user runs it", () => {
  it("prints only the report on stdout: every line is JSON, none a CloudWatch metric line", async () => {
    // Prepare: the environment a user has (the test setup turns metrics off for every test).
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", undefined);
    try {
      // Act
      const run = await spawn([
        "drill",
        "--json",
        "--endpoint",
        ENDPOINT,
        "--build",
        "never",
        "--only",
        "external-grant",
      ]);

      // Assess
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      const report = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
      expect(report.scenario).toBe("external-grant");
      expect(run.stdout).not.toContain('"_aws"');
    } finally {
      vi.unstubAllEnvs();
    }
  }, 120_000);
});
