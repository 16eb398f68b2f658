/**
 * The build (scripts/build.ts) makes one bundle per registered incident plus the runbook, and each
 * holds only the AWS SDK clients its function uses, read from esbuild's metafile. The build runs
 * once, into a temporary directory (a few seconds).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import { type BuiltFunction, buildAll, clientsIn, unusedClients } from "../../scripts/build.js";

let outdir: string;
let built: BuiltFunction[];
beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), "kms-responder-bundles-"));
  built = await buildAll(outdir);
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * Every function loads KMS and SNS at cold start, nothing else. What only some invocations need
 * is split into chunks loaded on demand: CloudTrail where key history is read, SSM in the runbook,
 * Security Hub (findings, when configured) and STS (a central responder's member roles) everywhere.
 */
const COLD = ["kms", "sns"];
// Chunks on disk, never loaded unless needed. esbuild writes a chunk for every dynamic import in
// the module graph, so the history reader's chunk sits beside every bundle (the registry's names
// reach it), loaded only by an incident that reads key history; likewise Organizations (the
// key-policy responder learns its own organisation once, when the config names none).
const ON_DEMAND = ["cloudtrail", "organizations", "securityhub", "sts"];
const LAZY: Record<string, string[]> = {
  ...Object.fromEntries(INCIDENTS.map((i) => [i.name, ON_DEMAND])),
  runbook: ["cloudtrail", "organizations", "securityhub", "ssm", "sts"],
};
const EXPECTED: Record<string, string[]> = Object.fromEntries(Object.keys(LAZY).map((name) => [name, COLD]));

describe("bundles", () => {
  it("one per registered incident, and the runbook, each written with its source map", () => {
    expect(built.map((b) => b.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const { name, bytes } of built) {
      expect(bytes, name).toBeGreaterThan(0);
      expect(existsSync(path.join(outdir, name, "index.mjs.map")), name).toBe(true);
    }
  });

  it.each(Object.entries(EXPECTED))(
    "%s loads only KMS and SNS at cold start, the rest on demand",
    (name, clients) => {
      const bundle = built.find((b) => b.name === name);
      expect(bundle?.clients).toEqual(clients);
      expect(bundle?.lazyClients).toEqual(LAZY[name]);
    },
  );

  it("the build's own check finds no bundle with a client its function does not use", () => {
    expect(unusedClients(built)).toEqual([]);
  });

  it("the check is live: an unused client is named with its bundle", () => {
    const rogue = Object.entries(EXPECTED).map(([name, clients]) => ({
      name,
      bytes: 1,
      clients: name === "rogue-grant" ? [...clients, "ssm"] : clients,
      lazyClients: [],
    }));
    expect(unusedClients(rogue)).toEqual(["rogue-grant bundles @aws-sdk/client-ssm"]);
    // Only code that reached the output counts, and only what the entry imports statically is cold.
    const metafile = {
      inputs: {},
      outputs: {
        "out/index.mjs": {
          bytes: 10,
          imports: [
            { path: "out/chunks/a.mjs", kind: "import-statement" as const },
            { path: "out/chunks/b.mjs", kind: "dynamic-import" as const },
          ],
          exports: [],
          inputs: {
            "node_modules/@aws-sdk/client-kms/dist-es/index.js": { bytesInOutput: 5 },
            "node_modules/@aws-sdk/client-cloudtrail/dist-es/index.js": { bytesInOutput: 0 },
          },
        },
        "out/chunks/a.mjs": {
          bytes: 20,
          imports: [],
          exports: [],
          inputs: { "node_modules/@aws-sdk/client-sns/dist-es/index.js": { bytesInOutput: 7 } },
        },
        "out/chunks/b.mjs": {
          bytes: 30,
          imports: [],
          exports: [],
          inputs: { "node_modules/@aws-sdk/client-sts/dist-es/index.js": { bytesInOutput: 9 } },
        },
      },
    };
    expect(clientsIn(metafile, "out/index.mjs")).toEqual({
      cold: ["kms", "sns"],
      lazy: ["sts"],
      coldBytes: 30,
    });
  });
});
