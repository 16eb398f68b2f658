/**
 * Global setup of the integration tier: build the bundles the tests import (what the stack
 * deploys), start moto_server on a free 127.0.0.1 port, provide its endpoint to the tests, and
 * stop it by its own pid at teardown.
 *
 * Without moto_server on PATH the tier is skipped with a loud message; with `CI` set that is an
 * error instead (CI must never silently skip the integration tier; .ci/run checks it too).
 */
import type { TestProject } from "vitest/node";
import { buildBundles } from "../../cli/drill/bundles.js";
import { MOTO_COMMAND, motoAvailable, startMoto } from "../../emulator/moto.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The emulator's endpoint, or "" when the integration tier is skipped. */
    motoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!motoAvailable()) {
    const message = `${MOTO_COMMAND} is not on PATH: install it with  pip install "moto[server]"`;
    if (process.env.CI) throw new Error(`${message}. CI must run the integration tier, not skip it.`);
    const bar = "!".repeat(78);
    console.warn(`\n${bar}\n!! SKIPPING THE INTEGRATION TIER: ${message}\n${bar}\n`);
    project.provide("motoEndpoint", "");
    return undefined;
  }
  const started = performance.now();
  // Both take a few seconds: build and start at once. A failed build stops the started server.
  const [build, server] = await Promise.allSettled([buildBundles(), startMoto()]);
  if (build.status === "rejected") {
    if (server.status === "fulfilled") await server.value.stop();
    throw build.reason;
  }
  if (server.status === "rejected") throw server.reason;
  const moto = server.value;
  console.info(
    `integration tier: bundles built and moto_server ${moto.endpoint} (pid ${moto.pid}) up in ${Math.round(performance.now() - started)} ms`,
  );
  project.provide("motoEndpoint", moto.endpoint);
  return () => moto.stop();
}
