import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-deleted/decide.js";
import { config, decisionsFor, ENFORCING, eventOf, findingOf } from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const { decideFixture } = decisionsFor("key-deleted", decide);
const APPROVED = config({ approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"] });
const schedule = (variant: string) => eventOf(loadEvent(`key-deletion-scheduled/${variant}`));

describe("key-deleted decide", () => {
  it("the approved ScheduleKeyDeletion is in the key's history: info", () => {
    const decision = findingOf(
      decideFixture("delete-approved-key", APPROVED, { earlier: [schedule("approved")] }),
    );
    expect(decision).toMatchObject({
      severity: "info",
      reasons: ["approved-deletion-completed"],
      actions: [],
    });
    expect(decision.details[0]).toContain("Scheduled by arn:aws:iam::111122223333:role/KeyAdmin");
  });

  it("scheduled by a principal that is not approved: critical", () => {
    const decision = decideFixture("delete-unapproved-key", APPROVED, { earlier: [schedule("unapproved")] });
    expect(decision).toMatchObject({ severity: "critical", reasons: ["unapproved-deletion-completed"] });
  });

  it("no ScheduleKeyDeletion seen (history read, nothing there): critical", () => {
    expect(decideFixture("delete-unapproved-key", APPROVED, { earlier: [] })).toMatchObject({
      severity: "critical",
    });
  });

  it("history not read yet or unreadable: critical, and says approval is unknown", () => {
    expect(findingOf(decideFixture("delete-approved-key", APPROVED)).severity).toBe("critical");
    const unreadable = findingOf(
      decideFixture("delete-approved-key", APPROVED, { readErrors: { earlier: "AccessDenied" } }),
    );
    expect(unreadable.details[0]).toContain("could not be read (AccessDenied)");
  });

  it("requireMfa: a schedule without MFA was not approved", () => {
    const cfg = config({
      approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"],
      requireMfa: true,
    });
    const raw = loadEvent("key-deletion-scheduled/approved-without-mfa");
    expect(decideFixture("delete-approved-key", cfg, { earlier: [eventOf(raw)] })).toMatchObject({
      severity: "critical",
    });
  });

  it("never approved by the defaults (no approved principals)", () => {
    expect(
      decideFixture("delete-approved-key", ENFORCING, { earlier: [schedule("approved")] }),
    ).toMatchObject({
      severity: "critical",
    });
  });
});
