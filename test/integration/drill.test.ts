/**
 * `kms-responder drill`, in-process against the tier's emulator: every scenario keeps its promise.
 * global-setup.ts has just built the bundles, so the drill does not rebuild them (a rebuild here
 * could race with another file loading them).
 */
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../cli/drill/scenarios.js";
import { formatReport, runDrill } from "../../cli/drill.js";
import { ENDPOINT, SKIP } from "./harness.js";

describe.skipIf(SKIP)("kms-responder drill", () => {
  it("runs every scenario end to end and each ends as promised", async () => {
    // Act
    const report = await runDrill({ endpoint: ENDPOINT, build: "never" });

    // Assess: the whole report on failure, so the broken promise is in the test output.
    const broken = report.scenarios.filter((s) => !s.passed);
    expect(broken, formatReport(report).join("\n")).toEqual([]);
    expect(report.scenarios.map((s) => s.scenario)).toEqual(SCENARIOS.map((s) => s.id));
    const revoked = report.scenarios.find((s) => s.scenario === "external-grant");
    expect(revoked?.rule).toBe("rogue-grant");
    expect(revoked?.timing.remediationMs).toBeGreaterThan(0);
    expect(revoked?.notification?.subject).toMatch(/^\[CRITICAL\] /);
    expect(report.scenarios.find((s) => s.scenario === "own-call")?.rule).toBeNull();
  }, 60_000);
});
