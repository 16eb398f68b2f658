/** `drill --verbose` prints each notification's text body under the scenario's timeline. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gatherScenarios } from "../../cli/drill/gather.js";
import type { Expectation } from "../../cli/drill/scenarios.js";
import { formatScenario, judge, type Observed, type ScenarioReport, SWEPT } from "../../cli/drill.js";

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
  it("states the number of scenarios the drill runs", async () => {
    // Prepare
    const readme = readFileSync("README.md", "utf8");

    // Act
    const stated = /performs (\d+)\s+attack and control scenarios/.exec(readme)?.[1];

    // Assess
    expect(Number(stated)).toBe((await gatherScenarios()).length);
  });
});

describe("a sweep scenario's report", () => {
  it("says no event was delivered, and what the sweep found", () => {
    // Prepare
    const swept: ScenarioReport = {
      ...REPORT,
      scenario: "sweep-before-deployment",
      event: { fixture: "" },
      rule: null,
      decision: { outcome: SWEPT },
      notification: null,
      endState: [
        {
          what: "the sweep reports exactly rogue-grant:critical",
          ok: true,
          observed: "findings: rogue-grant:critical",
        },
      ],
    };

    // Act
    const lines = formatScenario(swept, 1, 1);

    // Assess
    expect(lines).toContain("      event      none (the problem predates the responder)");
    expect(lines).toContain("      rule       none: a sweep reads the keys, no event is delivered");
    expect(lines).toContain("      decision   -> swept");
    expect(lines).toContain(
      "      end state  ok   the sweep reports exactly rogue-grant:critical (findings: rogue-grant:critical)",
    );
  });
});

describe("the drill's judge", () => {
  const seen: Observed = {
    rule: "responder-tampered",
    matched: ["responder-tampered"],
    decision: { outcome: "notified" },
    direct: undefined,
    actions: [],
    calls: [],
    notifications: [
      {
        subject: "[CRITICAL] kms-responder tampered with",
        attributes: { incident: "responder-tampered", outcome: "notified" },
        document: {},
        topicArn: undefined,
      },
    ],
    endState: [{ what: "the trail is still stopped", ok: true, observed: "IsLogging false" }],
  };
  const want: Expectation = {
    rule: "responder-tampered",
    outcome: "notified",
    actions: [],
    severity: "CRITICAL",
  };

  it("keeps a promise the delivery kept", () => {
    expect(judge(want, seen)).toEqual([]);
  });

  it("names the text a notification was promised to contain and does not", () => {
    expect(judge({ ...want, notificationIncludes: ["aws cloudtrail start-logging"] }, seen)).toEqual([
      'notification text: expected it to contain "aws cloudtrail start-logging"',
    ]);
  });

  it("names the text a subject was promised to contain and does not", () => {
    expect(judge({ ...want, subjectIncludes: ["store cks-1234567890abcdef0"] }, seen)).toEqual([
      'notification subject: expected it to contain "store cks-1234567890abcdef0"',
    ]);
    expect(judge({ ...want, subjectIncludes: ["tampered with"] }, seen)).toEqual([]);
  });

  it("names every broken part: the rule, the outcome, the actions, the end state", () => {
    const broken: Observed = {
      ...seen,
      rule: null,
      matched: [],
      decision: { outcome: "ignored" },
      actions: [{ type: "disable-key", status: "succeeded" }],
      notifications: [],
      endState: [{ what: "the trail is still stopped", ok: false, observed: "IsLogging true" }],
    };
    expect(judge(want, broken)).toEqual([
      "rule: expected responder-tampered to match, got none",
      "outcome: expected notified, got ignored",
      "actions: expected none, got disable-key:succeeded",
      "notifications: expected 1 on the queue, got 0",
      "end state: the trail is still stopped: IsLogging true",
    ]);
  });
});
