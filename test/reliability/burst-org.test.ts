/**
 * A central rogue-grant responder at its declared concurrency under a burst of 500 grants from 10
 * member accounts, each account with its own quota buckets (the model:
 * test/reliability/burst-org-sim.ts). The sizing rule (more environments drain a spread burst
 * faster, one account's quota caps them; docs/organization.md "Sizing") is measured in
 * bench/burst-sizing.sim.ts (`npm run bench:burst`).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  HEADER,
  kmsAttempts,
  line,
  loadOrgBurstModel,
  orgBurst,
  resetOrgBurstModel,
  rogueGrant,
} from "./burst-org-sim.js";

beforeAll(loadOrgBurstModel);
afterEach(resetOrgBurstModel);

describe("a central rogue-grant responder under an organisation-wide burst", () => {
  it("at the declared concurrency, 500 grants from 10 accounts are all revoked within the retry budget", async () => {
    const declared = rogueGrant.reservedConcurrency ?? 0;

    // Act
    const r = await orgBurst(10, 500, declared);
    console.info(`${HEADER}\n${line(r)}`);

    // Assess
    expect(r.events).toBe(500);
    expect(r.failedInvocations).toBe(0);
    expect(r.grantsLeft).toBe(0);
    expect(r.maxRevokeAttempt).toBeLessThan(kmsAttempts);
  }, 60_000);
});
