/**
 * The burst sizing section of `npm run bench`: runs bench/burst-sizing.sim.ts under vitest (its
 * models drive vitest's fake timers) and returns its tables, or why there are none.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface BurstSizing {
  /** The simulations' tables, as markdown. */
  tables: string;
  /** Whether every sizing check held. */
  passed: boolean;
  seconds: number;
}

export function measureBurstSizing(root: string, work: string): BurstSizing {
  const out = path.join(work, "burst-sizing.md");
  const started = performance.now();
  const run = spawnSync(
    process.execPath,
    [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", "bench/vitest.burst.config.ts"],
    { cwd: root, env: { ...process.env, BENCH_BURST_OUT: out }, encoding: "utf8" },
  );
  return {
    tables: existsSync(out)
      ? readFileSync(out, "utf8")
      : `No tables: vitest said\n\n${run.stderr.slice(-2000)}`,
    passed: run.status === 0,
    seconds: (performance.now() - started) / 1000,
  };
}

export function burstSection(r: BurstSizing): string[] {
  return [
    `## Burst sizing (simulated quotas, fake timers; ${r.seconds.toFixed(0)} s of real time)`,
    "",
    "Why the declared reserved concurrencies are what they are: bursts against fake accounts throttling at the default KMS and CloudTrail quotas (bench/burst-sizing.sim.ts; `npm run bench:burst` alone). RG, KDS: environments of rogue-grant and key-deletion-scheduled; sim: simulated time to drain; failed: invocations rejected after the SDK's retries; Th: throttled requests; Mx: highest attempt (the budget is 6).",
    "",
    r.tables.trimEnd(),
    "",
    `Sizing checks (the declared figures hold, one step beyond them fails): ${r.passed ? "held" : "FAILED, see the vitest output of npm run bench:burst"}.`,
    "",
  ];
}
