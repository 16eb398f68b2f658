import { describe, expect, it } from "vitest";
import { decide, URGENT_DAYS } from "../../functions/key-material-expiring/decide.js";
import { normalise } from "../../functions/shared/event.js";
import { config, decisionsFor, ENFORCING, findingOf, shapeOf } from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const { decideFixture } = decisionsFor("key-material-expiring", decide);

const KEY_ID = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

describe("key-material-expiring decide", () => {
  it("is high when the material expires within 30 days of the import, and names the date", () => {
    // Act
    const finding = findingOf(decideFixture("expires-soon"));

    // Assess
    expect(shapeOf(finding)).toEqual({
      kind: "finding",
      incident: "key-material-expiring",
      severity: "high",
      reasons: ["key-material-expires"],
      actions: [],
    });
    expect(finding.key?.id).toBe(KEY_ID);
    expect(finding.details[0]).toBe("Expires: 2026-12-12T00:00:00.000Z");
    expect(finding.summary).toContain("13 days after the import");
  });

  it("takes a validTo without an expirationModel as expiring: the API's default model", () => {
    // Act
    const finding = findingOf(decideFixture("default-model"));

    // Assess
    expect(shapeOf(finding)).toMatchObject({ severity: "medium", reasons: ["key-material-expires"] });
  });

  it("is medium when the expiry is further away than 30 days", () => {
    expect(findingOf(decideFixture("expires-later")).severity).toBe("medium");
  });

  it("counts the days from the import, so triage of old logs judges each import as it was", () => {
    // Prepare: the same import, judged long after the material expired.
    const event = normalise(loadEvent("key-material-expiring/expires-later"));
    if (!event) throw new Error("fixture did not normalise");

    // Act
    const late = decide(event, ENFORCING, {}, new Date("2030-01-01T00:00:00Z"));

    // Assess
    expect(late.kind === "finding" && late.severity).toBe("medium");
  });

  it("treats an unreadable expiry date as urgent: the key may stop working any day", () => {
    // Prepare
    const raw = loadEvent("key-material-expiring/expires-soon");
    raw.detail.requestParameters = { ...raw.detail.requestParameters, validTo: "someday" };

    // Act
    const event = normalise(raw);
    if (!event) throw new Error("fixture did not normalise");
    const finding = findingOf(decide(event, ENFORCING, {}));

    // Assess
    expect(finding.severity).toBe("high");
    expect(finding.details[0]).toBe("Expires: an unreadable date");
  });

  it(`is urgent exactly at ${URGENT_DAYS} days and not at ${URGENT_DAYS + 1}`, () => {
    const at = (days: number) => {
      const raw = loadEvent("key-material-expiring/expires-soon");
      const validTo = new Date(Date.parse(raw.detail.eventTime ?? "") + days * 86_400_000).toISOString();
      raw.detail.requestParameters = { ...raw.detail.requestParameters, validTo };
      const event = normalise(raw);
      if (!event) throw new Error("fixture did not normalise");
      return findingOf(decide(event, ENFORCING, {})).severity;
    };
    expect(at(URGENT_DAYS)).toBe("high");
    expect(at(URGENT_DAYS + 1)).toBe("medium");
  });

  it("ignores material that does not expire, and failed imports", () => {
    expect(shapeOf(decideFixture("does-not-expire"))).toEqual({
      kind: "ignore",
      skipped: "no-incident",
      incident: "key-material-expiring",
    });
    expect(shapeOf(decideFixture("failed-call"))).toEqual({
      kind: "ignore",
      skipped: "failed-call",
      incident: undefined,
    });
  });

  it("is silent when switched off", () => {
    expect(
      shapeOf(
        decideFixture("expires-soon", config({ incidents: { "key-material-expiring": { mode: "off" } } })),
      ),
    ).toEqual({
      kind: "ignore",
      skipped: "incident-off",
      incident: "key-material-expiring",
    });
  });
});
