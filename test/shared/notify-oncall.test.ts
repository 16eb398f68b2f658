/**
 * What an on-call reader gets at 3am: the key named by its aliases and description, what each
 * action broke, undo steps in a safe order with when each applies, subjects cut between words.
 */
import { describe, expect, it } from "vitest";
import { decide as decideDeletion } from "../../functions/key-deletion-scheduled/decide.js";
import { decide as decidePolicy } from "../../functions/key-policy-violation/decide.js";
import type { ActionResult } from "../../functions/shared/actions/action.js";
import { parseConfig } from "../../functions/shared/config.js";
import type { Finding } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import {
  cutAtWord,
  formatNotification,
  MAX_SUBJECT,
  sanitiseSubject,
} from "../../functions/shared/notify.js";
import { loadEvent } from "../helpers/fixtures.js";

const ENFORCING = parseConfig({ mode: "enforce" });

function findingOf(incident: "key-policy-violation" | "key-deletion-scheduled", variant: string): Finding {
  const event = normalise(loadEvent(`${incident}/${variant}`));
  if (!event) throw new Error("fixture did not normalise");
  const decision =
    incident === "key-policy-violation"
      ? decidePolicy(event, ENFORCING, {})
      : decideDeletion(event, ENFORCING, {});
  if (decision.kind !== "finding") throw new Error(`expected a finding, got ${decision.skipped}`);
  return decision;
}

/** Every planned action as if it succeeded. */
function succeeded(finding: Finding): ActionResult[] {
  return finding.actions.map((a) => ({
    type: a.type,
    target: a.keyRef,
    keyRef: a.keyRef,
    status: "succeeded",
    detail: "done",
  }));
}

describe("notifications for the on-call reader", () => {
  it("names the key by its aliases and description, and says when they are unknown", () => {
    // Prepare
    const finding = findingOf("key-policy-violation", "public-policy");

    // Act
    const known = formatNotification({
      finding,
      results: succeeded(finding),
      keyInfo: { aliases: ["alias/payments", "alias/payments-v2"], description: "Card data at rest" },
    });
    const unknown = formatNotification({ finding, results: succeeded(finding) });

    // Assess
    expect(known.text).toContain("(alias/payments, alias/payments-v2)");
    expect(known.text).toContain("Description: Card data at rest");
    expect(known.document.key).toMatchObject({
      aliases: ["alias/payments", "alias/payments-v2"],
      description: "Card data at rest",
    });
    expect(unknown.text).toContain("Description: (unknown)");
  });

  it("shows free text on its own line: a description cannot forge lines or drive a terminal", () => {
    // Prepare
    const finding = findingOf("key-policy-violation", "public-policy");

    // Act
    const { text } = formatNotification({
      finding,
      results: [],
      keyInfo: { description: "ok\nOutcome: remediated\r\u001b[2J\u2028x" },
    });

    // Assess
    expect(text).toContain("Description: ok\\nOutcome: remediated\\r\\u001b[2J\\u2028x");
    expect(text.split("\n").filter((line) => line.startsWith("Outcome: "))).toEqual(["Outcome: notified"]);
    expect([...text].filter((c) => c !== "\n" && (c < " " || c === "\u2028"))).toEqual([]);
  });

  it("says what disabling the key broke", () => {
    const finding = findingOf("key-policy-violation", "public-policy");
    const { text } = formatNotification({ finding, results: succeeded(finding) });
    expect(text).toContain(
      "Impact: every cryptographic call with this key (Decrypt, Encrypt, GenerateDataKey, ...) now fails until it is enabled",
    );
  });

  it("after disabling a key for its policy, says to fix the policy before enabling it again", () => {
    // Act
    const finding = findingOf("key-policy-violation", "public-policy");
    const { document, text } = formatNotification({ finding, results: succeeded(finding) });

    // Assess: two steps, policy first
    expect(document.undoSteps.map((s) => s.when)).toEqual([
      "first fix the key policy (re-enabling the key with the policy that was set exposes it again)",
      "then, once the policy is safe, to make the key usable again",
    ]);
    expect(document.undoSteps[0]?.command).toMatch(
      /^aws kms put-key-policy --key-id arn:aws:kms:\S+ --policy-name default --policy file:\/\/fixed-policy.json --region us-east-1$/,
    );
    expect(document.undoSteps[1]?.command).toMatch(/^aws kms enable-key --key-id arn:aws:kms:/);
    expect(document.undo).toEqual(document.undoSteps.map((s) => s.command));
    expect(text.indexOf("put-key-policy")).toBeLessThan(text.indexOf("aws kms enable-key"));
  });

  it("after a cancelled deletion, lists re-disabling before re-scheduling, each with when it applies", () => {
    const finding = findingOf("key-deletion-scheduled", "unapproved");
    const { document } = formatNotification({ finding, results: succeeded(finding) });
    expect(document.undoSteps.map((s) => [s.action, s.when])).toEqual([
      ["enable-key", "only if the key was meant to stay disabled"],
      [
        "cancel-key-deletion",
        "only if the deletion was intended and an approved owner confirms it (the key is deleted after the 30-day window)",
      ],
    ]);
  });

  it("offers no undo for what did not happen", () => {
    const finding = findingOf("key-deletion-scheduled", "unapproved");
    const results = succeeded(finding).map((r) => ({ ...r, status: "failed" as const }));
    expect(formatNotification({ finding, results }).document.undoSteps).toEqual([]);
  });

  it("cuts subjects between words, keeping severity, outcome and key", () => {
    // Prepare
    const finding = findingOf("key-deletion-scheduled", "unapproved");
    const long = {
      ...finding,
      title: "Unapproved KMS key deletion of a production payments key used by twelve services",
    };

    // Act
    const { subject } = formatNotification({ finding: long, results: succeeded(long) });

    // Assess
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT);
    expect(subject.startsWith("[CRITICAL] Unapproved KMS key")).toBe(true);
    expect(subject).toMatch(/\.\.\., deletion cancelled: key [0-9a-f]{8} in 111122223333\/us-east-1$/);
    // No word is cut: the text before "..." ends with a whole word of the title.
    const before = subject.slice(0, subject.indexOf("..."));
    expect(long.title.startsWith(before.replace("[CRITICAL] ", ""))).toBe(true);
    expect(long.title.replace("[CRITICAL] ", "").split(" ")).toContain(before.split(" ").at(-1));
  });

  it("cutAtWord and sanitiseSubject never cut inside a word when there is a space to cut at", () => {
    expect(cutAtWord("alpha beta gamma delta", 16)).toBe("alpha beta...");
    expect(cutAtWord("short", 16)).toBe("short");
    // "alpha beta" plus "..." is exactly 13: the word before the cut fits and stays.
    expect(cutAtWord("alpha beta gamma", 13)).toBe("alpha beta...");
    const subject = sanitiseSubject(`[HIGH] ${"word ".repeat(40)}`);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT);
    expect(subject.endsWith("word...")).toBe(true);
  });
});
