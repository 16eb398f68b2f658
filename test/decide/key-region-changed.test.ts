import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-region-changed/decide.js";
import { keyRegionChanged } from "../../functions/key-region-changed/incident.js";
import { normalise } from "../../functions/shared/event.js";
import { config, ENFORCING, FAILED_CALL, findingOf, shapeOf } from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const ALLOWED = config({
  incidents: { "key-region-changed": { allowedRegions: ["us-east-1", "eu-west-1"] } },
});

function decideFixture(name: string, cfg = ALLOWED) {
  const event = normalise(loadEvent(name), keyRegionChanged.details);
  if (!event) throw new Error("fixture did not normalise");
  return decide(event, cfg, {});
}

describe("key-region-changed decide", () => {
  it.each([
    ["key-region-changed/update-primary-region", "primary-region-not-allowed", "ap-northeast-1"],
    ["key-region-changed/replicate-key", "replica-region-not-allowed", "sa-east-1"],
  ] as const)("%s outside allowedRegions: high, notify (%s)", (name, reason, region) => {
    const decision = findingOf(decideFixture(name));
    expect(shapeOf(decision)).toMatchObject({ severity: "high", reasons: [reason], actions: [] });
    if (region) expect(decision.details[0]).toBe(`Region: ${region}`);
  });

  it("a Region inside allowedRegions: not an incident", () => {
    const cfg = config({ incidents: { "key-region-changed": { allowedRegions: ["ap-northeast-1"] } } });
    expect(decideFixture("key-region-changed/update-primary-region", cfg)).toMatchObject({ kind: "ignore" });
  });

  it("allowedRegions not configured (the default): not judged", () => {
    expect(decideFixture("key-region-changed/replicate-key", ENFORCING)).toMatchObject({
      kind: "ignore",
      skipped: "no-incident",
    });
  });

  it("a bad Region name is a config error naming the field", () => {
    expect(() => config({ incidents: { "key-region-changed": { allowedRegions: ["Mars"] } } })).toThrow(
      /incidents\.key-region-changed\.allowedRegions\.0/,
    );
  });

  it("failed-call", () => {
    expect(shapeOf(decideFixture("key-region-changed/failed-call"))).toEqual(FAILED_CALL);
  });
});
