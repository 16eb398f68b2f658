/**
 * `npm run bench:burst` (and a section of `npm run bench`): the burst sizing the declared reserved
 * concurrencies come from. A sweep of simulated bursts against fake AWS accounts throttling at the
 * default KMS and CloudTrail quotas, with fake timers (the models: test/reliability/burst-sim.ts and
 * burst-org-sim.ts); tens of seconds of CPU, so not in the unit tier, which checks only the
 * declared concurrency. Run by vitest (the models drive its fake timers) with
 * bench/vitest.burst.config.ts; the checks below say whether the figures still support the sizing,
 * and BENCH_BURST_OUT, when set, receives the tables as markdown (bench/run.ts reads it).
 */
import { appendFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  loadOrgBurstModel,
  orgBurst,
  HEADER as orgHeader,
  kmsAttempts as orgKmsAttempts,
  line as orgLine,
  rogueGrant as orgRogueGrant,
  resetOrgBurstModel,
} from "../test/reliability/burst-org-sim.js";
import {
  attempts,
  type BurstReport,
  burst,
  HEADER,
  keyDeletion,
  line,
  loadBurstModel,
  reserved,
  resetBurstModel,
  rogueGrant,
} from "../test/reliability/burst-sim.js";

/** Prints a table and hands it to bench/run.ts. */
function table(title: string, rows: string[]): void {
  console.info([title, ...rows].join("\n"));
  const out = process.env.BENCH_BURST_OUT;
  if (out) appendFileSync(out, [`### ${title}`, "", "```", ...rows, "```", "", ""].join("\n"));
}

describe("a burst of 500 rogue grants and 50 unapproved deletions in one account", () => {
  beforeAll(loadBurstModel);
  afterEach(resetBurstModel);

  it("how many concurrent invocations the quotas sustain before the retry budget runs out", async () => {
    // Act: each function alone, at rising concurrency (one environment per event is 500 or 50).
    const rogue: BurstReport[] = [];
    for (const c of new Set([2, reserved(rogueGrant), 15, 50]))
      rogue.push(await burst({ rogue: c, deletion: 0, deletions: 0 }));
    const deletion: BurstReport[] = [];
    for (const c of new Set([1, reserved(keyDeletion), 2, 5, 15])) {
      deletion.push(await burst({ rogue: 0, deletion: c, grants: 0 }));
    }
    table("One account: each function alone at rising concurrency", [
      HEADER,
      ...rogue.map(line),
      ...deletion.map(line),
    ]);

    // Assess: up to the declared concurrency every call succeeds with an attempt to spare...
    const at = (list: BurstReport[], which: "rogue" | "deletion", c: number) => {
      const found = list.find((r) => r.concurrency[which] === c);
      if (!found) throw new Error(`no run at ${which} ${c}`);
      return found;
    };
    for (const c of [2, reserved(rogueGrant)]) {
      const r = at(rogue, "rogue", c);
      expect(r.failedInvocations + r.grantsLeft).toBe(0);
      expect(r.maxAttempt["kms:RevokeGrant"]).toBeLessThan(attempts.kms);
    }
    const declared = at(deletion, "deletion", reserved(keyDeletion));
    expect(declared.failedInvocations + declared.keysNotEnabled + declared.historyFallbacks).toBe(0);
    // ...and beyond it the budget runs thin or out. At RevokeGrant's 50/s, 50 environments still
    // revoke every grant but some RevokeGrant needs its last attempt (none to spare: a little more
    // load or latency and it fails), and the burst drains no faster than at 15, the backoff eating
    // what the extra environments add. History reads give up (LookupEvents' 2/s; the key is then
    // re-enabled without knowing its prior state): one pass over the history per event (not two)
    // holds up to 5 environments and gives up at 15; the declaration keeps one, with room to spare.
    const wide = at(rogue, "rogue", 50);
    expect(wide.maxAttempt["kms:RevokeGrant"]).toBe(attempts.kms);
    expect(wide.simulatedSeconds).toBeGreaterThanOrEqual(at(rogue, "rogue", 15).simulatedSeconds);
    expect(at(deletion, "deletion", 5).historyFallbacks).toBe(0);
    expect(at(deletion, "deletion", 15).historyFallbacks).toBeGreaterThan(0);
    // Eight simulated bursts: seconds of real time on a shared machine.
  }, 90_000);
});

describe("a central rogue-grant responder under an organisation-wide burst", () => {
  beforeAll(loadOrgBurstModel);
  afterEach(resetOrgBurstModel);

  it("derives the rule: more environments drain a spread burst faster, but one account's quota caps them", async () => {
    const declared = orgRogueGrant.reservedConcurrency ?? 0;

    // Act: 10 accounts at the declared and at 10x the declared concurrency, then the same
    // 10x concurrency with the whole burst in one account (every environment on one bucket).
    const spreadDeclared = await orgBurst(10, 500, declared);
    const spreadWide = await orgBurst(10, 500, declared * 10);
    const oneAccountWide = await orgBurst(1, 500, declared * 10);
    table("Organisation: 10 accounts at the declared and 10x concurrency, then one account at 10x", [
      orgHeader,
      orgLine(spreadDeclared),
      orgLine(spreadWide),
      orgLine(oneAccountWide),
    ]);

    // Assess: spread over accounts, ten times the environments drain it at least three times
    // faster, with no failure (each account sees about the declared concurrency)...
    expect(spreadWide.failedInvocations + spreadWide.grantsLeft).toBe(0);
    expect(spreadWide.simulatedSeconds * 3).toBeLessThan(spreadDeclared.simulatedSeconds);
    // ...but when the burst is in one account, the same concurrency spends RevokeGrant's retry
    // budget there to the last attempt (one more throttle and an invocation fails: Lambda retries
    // it, then the failure queue), and drains it twenty times slower than spread.
    expect(oneAccountWide.throttled).toBeGreaterThan(0);
    expect(oneAccountWide.maxRevokeAttempt).toBe(orgKmsAttempts);
    expect(oneAccountWide.simulatedSeconds).toBeGreaterThan(spreadWide.simulatedSeconds * 10);
  }, 120_000);
});
