import { describe, expect, it } from "vitest";
import { isOwnCall } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import { RESPONDER_SOURCE_IDENTITY } from "../../functions/shared/source-identity.js";
import { config } from "../helpers/decide.js";
import { loadEvent } from "../helpers/fixtures.js";

const KEY_ACCOUNT = "111122223333";
const OTHER_MEMBER = "444455556666";
const ORG = config({
  organization: { id: "o-a1b2c3d4e5", regions: ["us-east-1"], organizationalUnitIds: ["r-ab12"] },
});

/** The external-grantee fixture (a key of 111122223333) as called by `role` with `sourceIdentity`. */
function calledBy(account: string, sourceIdentity: string | undefined) {
  const event = loadEvent("rogue-grant/external-grantee");
  const role = `arn:aws:iam::${account}:role/kms-responder-member`;
  event.detail.userIdentity = {
    type: "AssumedRole",
    arn: `arn:aws:sts::${account}:assumed-role/kms-responder-member/kmsr-rogue-grant-x`,
    accountId: account,
    sessionContext: {
      sessionIssuer: { type: "Role", arn: role, accountId: account },
      ...(sourceIdentity !== undefined && { sourceIdentity }),
    },
  };
  const normalised = normalise(event);
  if (!normalised) throw new Error("fixture did not normalise");
  return normalised;
}

describe("isOwnCall: whose call is the responder's", () => {
  it("is the member role of the key's own account in a session the central responder opened", () => {
    // Act / Assess
    expect(isOwnCall(calledBy(KEY_ACCOUNT, RESPONDER_SOURCE_IDENTITY), ORG)).toBe(true);
  });

  it("is not the member role without the responder's SourceIdentity", () => {
    // Act / Assess
    expect(isOwnCall(calledBy(KEY_ACCOUNT, undefined), ORG)).toBe(false);
    expect(isOwnCall(calledBy(KEY_ACCOUNT, "someone-else"), ORG)).toBe(false);
  });

  it("is not a role of that name in another account (a look-alike, or member B's role on A's key)", () => {
    // Act / Assess
    expect(isOwnCall(calledBy(OTHER_MEMBER, RESPONDER_SOURCE_IDENTITY), ORG)).toBe(false);
    expect(isOwnCall(calledBy("999988887777", RESPONDER_SOURCE_IDENTITY), ORG)).toBe(false);
  });

  it("is not the member role at all without an organisation in the config", () => {
    // Act / Assess
    expect(isOwnCall(calledBy(KEY_ACCOUNT, RESPONDER_SOURCE_IDENTITY), config({}))).toBe(false);
  });
});
