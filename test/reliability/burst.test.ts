/**
 * A burst of 500 rogue-grant and 50 key-deletion events at the reserved concurrency each
 * declaration sets, against a fake KMS that throttles like the real one (the model:
 * test/reliability/burst-sim.ts). How many environments the quotas sustain (the sizing those
 * figures come from) is measured in bench/burst-sizing.sim.ts (`npm run bench:burst`).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  attempts,
  burst,
  HEADER,
  keyDeletion,
  line,
  loadBurstModel,
  reserved,
  resetBurstModel,
  rogueGrant,
} from "./burst-sim.js";

beforeAll(loadBurstModel);
afterEach(resetBurstModel);

describe("a burst of 500 rogue grants and 50 unapproved deletions", () => {
  it("with the reserved concurrency each declaration sets: every grant revoked, every deletion cancelled and restored, within the retry budget", async () => {
    // Act
    const report = await burst({ rogue: reserved(rogueGrant), deletion: reserved(keyDeletion) });
    console.info(`${HEADER}\n${line(report)}`);

    // Assess
    expect(report.failedInvocations).toBe(0);
    expect(report.grantsLeft).toBe(0);
    expect(report.keysPendingDeletion).toBe(0);
    expect(report.keysNotEnabled).toBe(0);
    expect(report.historyFallbacks).toBe(0);
    expect(Math.max(...Object.values(report.maxAttempt))).toBeLessThanOrEqual(attempts.kms);
    // The quotas did bite: this is a test of backoff, not of an idle fake.
    expect(report.throttled["kms:RevokeGrant"]).toBeGreaterThan(0);
  });
});
