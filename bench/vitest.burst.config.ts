import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** `npm run bench:burst`: the burst sizing simulations (bench/burst-sizing.sim.ts), outside the test tiers. */
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["bench/burst-sizing.sim.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 300_000,
  },
});
