import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    // `npm run coverage`: the unit tier's coverage of the product code (v8's own counters), without
    // the burst simulations (simulated load at the declared concurrency; they check, they do not
    // cover). The thresholds sit just under what the tier measures today, so a change that drops
    // coverage fails.
    coverage: {
      provider: "v8",
      include: ["functions/**/*.ts", "cli/**/*.ts", "infra/**/*.ts", "emulator/**/*.ts"],
      // The drill's scenarios (each incident's drill.ts) run in the integration tier
      // against moto, never in this one: counting them here would only measure where they live.
      exclude: ["functions/**/drill.ts"],
      reporter: ["text-summary", "json-summary"],
      reportsDirectory: "coverage",
      reportOnFailure: true,
      // Measured on this tier: statements 82.3%, branches 75.9%, functions 82.2%, lines 83.5%.
      thresholds: { statements: 81, branches: 75, functions: 81, lines: 82 },
    },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**"],
          // The CLI tests spawn the bin, which runs the built command line.
          globalSetup: ["test/build-cli.global-setup.ts"],
        },
      },
      {
        // Against a local emulator (moto): global-setup.ts builds the bundles, starts moto_server
        // on a free port and provides its endpoint. The files share that one server and reset it
        // before each test, so they run one at a time.
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // The built bundles are loaded by Node itself, as Lambda loads them: not transformed.
          server: { deps: { external: [/\/dist\/[^/]+\/index\.mjs/] } },
        },
      },
    ],
  },
});
