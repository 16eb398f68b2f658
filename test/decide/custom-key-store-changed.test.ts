import { describe, expect, it } from "vitest";
import { decide } from "../../functions/custom-key-store-changed/decide.js";
import { storeDetail } from "../../functions/custom-key-store-changed/detail.js";
import { normalise } from "../../functions/shared/event.js";
import { ENFORCING, FAILED_CALL, findingOf, shapeOf } from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const STORE = "cks-1234567890abcdef0";

function decideFixture(variant: string) {
  const event = normalise(loadEvent(`custom-key-store-changed/${variant}`), [storeDetail]);
  if (!event) throw new Error("fixture did not normalise");
  return decide(event, ENFORCING, {});
}

describe("custom-key-store-changed decide", () => {
  it.each([
    ["disconnect", "critical", "custom-key-store-disconnected"],
    ["update-proxy-endpoint", "critical", "custom-key-store-repointed"],
    ["update-vpc-endpoint-service", "critical", "custom-key-store-repointed"],
    ["delete", "high", "custom-key-store-deleted"],
  ] as const)("%s: %s (%s), notify only, names the store and no key", (variant, severity, reason) => {
    // Act
    const decision = findingOf(decideFixture(variant));

    // Assess
    expect(shapeOf(decision)).toEqual({
      kind: "finding",
      incident: "custom-key-store-changed",
      severity,
      reasons: [reason],
      actions: [],
    });
    expect(decision.key).toBeUndefined();
    expect(decision.store).toMatchObject({ id: STORE, account: "111122223333", region: "us-east-1" });
  });

  it("names what an update changed (secret values are hidden in the record, their fields are not)", () => {
    expect(findingOf(decideFixture("update-proxy-endpoint")).details).toContain(
      "Changed: xksProxyUriEndpoint, xksProxyUriPath, xksProxyAuthenticationCredential",
    );
  });

  it("the store's name from additionalEventData; reconnecting is the undo of a disconnect", () => {
    const decision = findingOf(decideFixture("disconnect"));
    expect(decision.store?.name).toBe("ExampleKeyStore");
    expect(decision.undo).toEqual([
      {
        when: "if the change was not intended",
        command: `aws kms connect-custom-key-store --custom-key-store-id ${STORE} --region us-east-1`,
      },
    ]);
  });

  it("a new name only: not an incident", () => {
    expect(decideFixture("rename-only")).toMatchObject({ kind: "ignore", skipped: "no-incident" });
  });

  it("failed-call", () => {
    expect(shapeOf(decideFixture("failed-call"))).toEqual(FAILED_CALL);
  });

  it("a record without requestParameters still decides (store unknown), never throws", () => {
    const raw = loadEvent("custom-key-store-changed/disconnect");
    raw.detail.requestParameters = null;
    const event = normalise(raw, [storeDetail]);
    if (!event) throw new Error("did not normalise");
    const decision = findingOf(decide(event, ENFORCING, {}));
    expect(decision.store).toBeUndefined();
    expect(decision.details[0]).toBe("Custom key store: (not in the record)");
  });
});
