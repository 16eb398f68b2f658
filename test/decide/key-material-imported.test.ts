import { describe, expect, it } from "vitest";
import { decide } from "../../functions/key-material-imported/decide.js";
import {
  config,
  decisionsFor,
  ENFORCING,
  eventOf,
  FAILED_CALL,
  findingOf,
  shapeOf,
} from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const { decideFixture } = decisionsFor("key-material-imported", decide);

const NEW = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1";
const APPROVED = config({
  approvedKeyMaterialPrincipals: ["arn:aws:iam::111122223333:role/KeyMaterialAdmin"],
});
const first = () => eventOf(loadEvent("key-material-imported/first-import-no-type"));
const added = () => eventOf(loadEvent("key-material-imported/new-material"));
const approvedImport = () => eventOf(loadEvent("key-material-imported/approved"));

describe("key-material-imported decide: imports", () => {
  it("NEW_KEY_MATERIAL by an unapproved caller: high, names the material, no action", () => {
    const decision = findingOf(decideFixture("new-material"));
    expect(shapeOf(decision)).toEqual({
      kind: "finding",
      incident: "key-material-imported",
      severity: "high",
      reasons: ["unapproved-key-material"],
      actions: [],
    });
    expect(decision.details[0]).toBe(`Key material: ${NEW} (rotation-2026-q4)`);
  });

  it("no importType and no earlier import seen: the key's first import, new material (high)", () => {
    expect(decideFixture("first-import-no-type")).toMatchObject({ severity: "high" });
  });

  it("no importType after an earlier import of the key: existing material, not an incident", () => {
    expect(decideFixture("first-import-no-type", ENFORCING, { earlier: [added()] })).toMatchObject({
      kind: "ignore",
      skipped: "no-incident",
    });
  });

  it("no importType, the key lists two materials: not its first import", () => {
    const keyMaterials = [
      { id: "a", state: "CURRENT", importState: "IMPORTED" },
      { id: "b", state: "PENDING_ROTATION", importState: "IMPORTED" },
    ];
    expect(decideFixture("first-import-no-type", ENFORCING, { keyMaterials }).kind).toBe("ignore");
  });

  it.each([
    ["existing-material", ENFORCING],
    ["approved", APPROVED],
  ] as const)("%s: not an incident", (variant, cfg) => {
    expect(decideFixture(variant, cfg)).toMatchObject({ kind: "ignore", skipped: "no-incident" });
  });

  it("failed-call", () => {
    expect(shapeOf(decideFixture("failed-call"))).toEqual(FAILED_CALL);
  });
});

describe("key-material-imported decide: the on-demand rotation", () => {
  it("history not read yet (the handler's first look): a provisional medium finding, so the handler reads it", () => {
    expect(decideFixture("rotate-on-demand")).toMatchObject({
      severity: "medium",
      reasons: ["on-demand-rotation"],
    });
  });

  it("history unreadable: high, says who imported the material is unknown", () => {
    const decision = findingOf(
      decideFixture("rotate-on-demand", ENFORCING, { readErrors: { earlier: "AccessDenied" } }),
    );
    expect(decision.severity).toBe("high");
    expect(decision.details[0]).toContain("could not be read (AccessDenied)");
  });

  it("after an unapproved import of new material: critical, names who imported it", () => {
    const decision = findingOf(decideFixture("rotate-on-demand", ENFORCING, { earlier: [first(), added()] }));
    expect(shapeOf(decision)).toEqual({
      kind: "finding",
      incident: "key-material-imported",
      severity: "critical",
      reasons: ["unapproved-key-material-current"],
      actions: [],
    });
    expect(decision.details[0]).toContain(
      `Material: ${NEW}, imported by arn:aws:iam::111122223333:user/mallory`,
    );
  });

  it("the materials read show the imported one current: verdict material-current", () => {
    const keyMaterials = [{ id: NEW, state: "CURRENT", importState: "IMPORTED" }];
    const decision = findingOf(
      decideFixture("rotate-on-demand", ENFORCING, {
        earlier: [added()],
        keyMaterials,
        keyOrigin: "EXTERNAL",
      }),
    );
    expect(decision.verdicts).toEqual(["material-current"]);
  });

  it.each([
    ["no import seen before (an AWS_KMS key, or history without one)", { earlier: [] }, ENFORCING],
    ["the import was approved", { earlier: [approvedImport()] }, APPROVED],
    ["the key's material is not imported", { earlier: [added()], keyOrigin: "AWS_KMS" }, ENFORCING],
  ] as const)("not an incident: %s", (_label, facts, cfg) => {
    expect(decideFixture("rotate-on-demand", cfg, facts)).toMatchObject({
      kind: "ignore",
      skipped: "no-incident",
    });
  });
});
