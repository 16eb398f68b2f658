import { describe, expect, it } from "vitest";
import { decide } from "../../functions/alias-changed/decide.js";
import { config, decisionsFor, findingOf, shapeOf } from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const { decideFixture, decideEvent } = decisionsFor("alias-changed", decide);

const NEW_KEY = "arn:aws:kms:us-east-1:111122223333:key/0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";
const OLD_KEY = "arn:aws:kms:us-east-1:111122223333:key/6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

describe("alias-changed decide", () => {
  it("reports UpdateAlias as medium about the key the alias now points to, with the way back", () => {
    // Act
    const finding = findingOf(decideFixture("update-alias"));

    // Assess
    expect(shapeOf(finding)).toEqual({
      kind: "finding",
      incident: "alias-changed",
      severity: "medium",
      reasons: ["alias-retargeted"],
      actions: [],
    });
    expect(finding.key?.arn).toBe(NEW_KEY);
    expect(finding.summary).toBe(
      `alias/payments-data now points to ${NEW_KEY}: applications that use the alias encrypt under that key from now on`,
    );
    expect(finding.details[1]).toContain(
      "aws kms update-alias --alias-name alias/payments-data --target-key-id PREVIOUS_KEY_ID --region us-east-1",
    );
  });

  it("reports DeleteAlias as medium about the key the alias named, with the command that recreates it", () => {
    const finding = findingOf(decideFixture("delete-alias"));
    expect(finding.reasons).toEqual(["alias-deleted"]);
    expect(finding.key?.arn).toBe(OLD_KEY);
    expect(finding.details[1]).toBe(
      "If this was not intended: aws kms create-alias --alias-name alias/payments-data --target-key-id 6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0 --region us-east-1",
    );
  });

  it("ignores a failed call, an AWS managed alias and a switched-off incident", () => {
    expect(shapeOf(decideFixture("failed-call"))).toEqual({
      kind: "ignore",
      skipped: "failed-call",
      incident: undefined,
    });
    const managed = loadEvent("alias-changed/update-alias");
    managed.detail.requestParameters = { ...managed.detail.requestParameters, aliasName: "alias/aws/s3" };
    expect(shapeOf(decideEvent(managed))).toEqual({
      kind: "ignore",
      skipped: "no-incident",
      incident: "alias-changed",
    });
    expect(
      shapeOf(decideFixture("update-alias", config({ incidents: { "alias-changed": { mode: "off" } } }))),
    ).toEqual({ kind: "ignore", skipped: "incident-off", incident: "alias-changed" });
  });
});
