import { describe, expect, it } from "vitest";
import { normalise } from "../../functions/shared/event.js";
import { accountMismatch } from "../../functions/shared/provenance.js";
import { loadEvent } from "../helpers/fixtures.js";

const MEMBER_A = "111122223333";
const MEMBER_B = "444455556666";

function mismatchOf(event: ReturnType<typeof loadEvent>): string | undefined {
  const normalised = normalise(event);
  if (!normalised) throw new Error("fixture did not normalise");
  return accountMismatch(event, normalised);
}

describe("accountMismatch: records no real CloudTrail delivery produces", () => {
  it("accepts the fixtures as recorded", () => {
    // Act / Assess
    expect(mismatchOf(loadEvent("key-deletion-scheduled/unapproved"))).toBeUndefined();
    expect(mismatchOf(loadEvent("rogue-grant/foreign-key"))).toBeUndefined();
    expect(mismatchOf(loadEvent("pending-deletion-key-used/partner-key"))).toBeUndefined();
  });

  it("names member B's record of a deletion on member A's key (KMS allows it only in A)", () => {
    // Prepare: sent by B, recorded in B, by a caller of B, naming A's key.
    const event = loadEvent("key-deletion-scheduled/approved");
    event.account = MEMBER_B;
    event.detail.recipientAccountId = MEMBER_B;
    event.detail.userIdentity = {
      type: "AssumedRole",
      arn: `arn:aws:sts::${MEMBER_B}:assumed-role/KeyAdmin/x`,
      accountId: MEMBER_B,
      sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::${MEMBER_B}:role/KeyAdmin` } },
    };

    // Act
    const why = mismatchOf(event);

    // Assess
    expect(why).toContain(`ScheduleKeyDeletion by account ${MEMBER_B} on a key of account ${MEMBER_A}`);
  });
});
