/**
 * `kms-responder drill`, in-process against the tier's emulator: every scenario keeps its promise,
 * one test each. global-setup.ts has just built the bundles, so the drill does not rebuild them (a
 * rebuild here could race with another file loading them).
 */
import { describe, expect, it, vi } from "vitest";
import { gatherScenarios } from "../../cli/drill/gather.js";
import { formatReport, runDrill } from "../../cli/drill.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import { spawn } from "../cli/spawn.js";
import { ENDPOINT, SKIP } from "./harness.js";

/** The newer scenarios' ends, pinned beyond "no failure": the rule, outcome, actions, subject, end state. */
const PROMISED: Record<
  string,
  { rule: string | null; outcome: string; actions: string[]; subject: string; endState: string[] }
> = {
  "exempt-then-grant": {
    rule: "rogue-grant",
    outcome: "remediated",
    actions: ["revoke-grant:succeeded"],
    subject: "[CRITICAL]",
    endState: [
      "ok rules: exemption-tampered; outcome remediated; actions untag-exempt:succeeded",
      expect.stringMatching(/^ok notified: \[CRITICAL\] /) as unknown as string,
      "ok ListResourceTags: no tags",
      "ok ListGrants: not listed",
      "ok DescribeKey: Enabled",
    ],
  },
  "trail-stopped": {
    rule: "responder-tampered",
    outcome: "notified",
    actions: [],
    subject: "[CRITICAL]",
    endState: ["ok GetTrailStatus: IsLogging false"],
  },
  "new-key-material": {
    rule: "key-material-imported",
    outcome: "notified",
    actions: [],
    subject: "[HIGH]",
    endState: ["ok DescribeKey: Enabled"],
  },
  "material-rotated-onto-foreign-material": {
    rule: "key-material-imported",
    outcome: "notified",
    actions: [],
    // Critical: the drill's shim answers LookupEvents with the import's record (moto has none).
    subject: "[CRITICAL] KMS key rotated onto",
    endState: [
      expect.stringMatching(
        /^ok rules: key-material-imported; outcome notified; notified: \[HIGH\] New KMS key material imported, /,
      ) as unknown as string,
      "ok ListKeyRotations: 1 on demand",
      "ok DescribeKey: Enabled",
    ],
  },
  // Through the drill's shim, which keeps the period moto drops and answers LookupEvents.
  "rotation-period-restored": {
    rule: "key-rotation-disabled",
    outcome: "remediated",
    actions: ["enable-key-rotation:succeeded"],
    subject: "[MEDIUM]",
    endState: ["ok GetKeyRotationStatus: 90 days"],
  },
  "rotation-period-lengthened": {
    rule: "key-rotation-weakened",
    outcome: "remediated",
    actions: ["enable-key-rotation:succeeded"],
    subject: "[MEDIUM]",
    endState: ["ok GetKeyRotationStatus: 90 days"],
  },
  "custom-key-store-disconnected": {
    rule: "custom-key-store-changed",
    outcome: "notified",
    actions: [],
    subject: "[CRITICAL] KMS custom key",
    // Event only: moto has no custom key stores, so there is nothing to read back.
    endState: [],
  },
  "sweep-before-deployment": {
    rule: null,
    outcome: "swept",
    actions: [],
    subject: "",
    endState: ["ok findings: key-rotation-disabled:medium, rogue-grant:critical", "ok no errors"],
  },
};

const SCENARIOS = await gatherScenarios();

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
      // The event names a store and no key: the subject names the store where a key would be.
      if (id === "custom-key-store-disconnected") {
        expect(scenario?.notification?.subject).toMatch(/: store cks-[0-9a-f]{17} in \d{12}\/us-east-1$/);
        expect(scenario?.performed).toBe(false);
      }
      const promised = PROMISED[id];
      if (promised) {
        expect(scenario?.rule ?? null).toBe(promised.rule);
        expect(scenario?.decision.outcome).toBe(promised.outcome);
        expect(scenario?.actions.map((a) => `${a.type}:${a.status}`)).toEqual(promised.actions);
        expect(scenario?.notification?.subject?.slice(0, promised.subject.length) ?? "").toBe(
          promised.subject,
        );
        expect(scenario?.endState.map((c) => `${c.ok ? "ok" : "FAIL"} ${c.observed}`)).toEqual(
          promised.endState,
        );
      }
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
