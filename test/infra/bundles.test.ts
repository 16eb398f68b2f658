/**
 * The build (scripts/build.ts) makes one bundle per registered incident plus the runbook, and each
 * holds only the AWS SDK clients its function uses, read from esbuild's metafile. The build runs
 * once, into a temporary directory (a few seconds).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import type { Incident } from "../../functions/shared/incident.js";
import {
  type BuiltFunction,
  buildAll,
  clientsIn,
  misplacedLazyImports,
  unusedClients,
} from "../../scripts/build.js";

let outdir: string;
let built: BuiltFunction[];
beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), "kms-responder-bundles-"));
  built = await buildAll(outdir);
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * Every function loads KMS and SNS at cold start, nothing else. What only some invocations need
 * is a bundle of its own under lazy/, loaded on demand: STS (a central responder's member roles)
 * and Security Hub (findings, when configured) everywhere, Organizations everywhere too (a central
 * responder names the account it notifies about; the key policy responder learns its own
 * organisation once), CloudTrail only in the incidents that declare a history reader, SSM in the
 * runbook (with DynamoDB) and, everywhere, in the approval
 * requests of an incident in approval mode.
 */
const COLD = ["kms", "sns"];
const readsHistory = (i: Incident) => i.history !== undefined;
/** The incident whose executors repair the responder's own resources (their calls load on demand). */
const repairs = (i: Incident) => i.executors.some((e) => e.type === "enable-rule");
const LAZY: Record<string, string[]> = {
  ...Object.fromEntries(
    INCIDENTS.map((i) => [
      i.name,
      // CloudTrail for every incident: the shared `earlier` fact reader loads it on demand.
      // EventBridge and Lambda only where the responder's own resources are repaired.
      repairs(i)
        ? ["cloudtrail", "eventbridge", "lambda", "organizations", "securityhub", "ssm", "sts"]
        : ["cloudtrail", "organizations", "securityhub", "ssm", "sts"],
    ]),
  ),
  // DynamoDB: the runbook claims an SSM execution id once, only for requests that name one.
  // Organizations in every function that notifies: a central responder names the account.
  runbook: ["cloudtrail", "dynamodb", "organizations", "securityhub", "ssm", "sts"],
  // The sweep: its record in S3, the organisation's listing, Security Hub's resolve and the member
  // role on demand; CloudWatch for the member heartbeat alarms (organisation mode, its own schedule).
  scan: ["cloudtrail", "cloudwatch", "organizations", "s3", "securityhub", "ssm", "sts"],
};
/** The on-demand bundles (lazy/*.mjs) that carry those clients. */
const LAZY_FILES: Record<string, string[]> = {
  ...Object.fromEntries(
    INCIDENTS.map((i) => [
      i.name,
      [
        "approval.mjs",
        "chat.mjs",
        "earlier-cloudtrail.mjs",
        ...(readsHistory(i) ? ["history-cloudtrail.mjs"] : []),
        "member.mjs",
        "organizations.mjs",
        ...(repairs(i) ? ["repair.mjs"] : []),
        "securityhub.mjs",
      ],
    ]),
  ),
  runbook: [
    "approval.mjs",
    "chat.mjs",
    "dynamodb.mjs",
    "history-cloudtrail.mjs",
    "member.mjs",
    "organizations.mjs",
    "securityhub.mjs",
    "ssm.mjs",
  ],
  scan: [
    "approval.mjs",
    "chat.mjs",
    "exemption-origin.mjs",
    "heartbeat.mjs",
    "history-cloudtrail.mjs",
    "member.mjs",
    "organization.mjs",
    "organizations.mjs",
    "resolve.mjs",
    "securityhub.mjs",
    "store.mjs",
  ],
};
/** The sources the source maps in `dir` name (only `files`, when given). */
function sourcesIn(dir: string, files?: string[]): string[] {
  const maps = files ?? (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".mjs.map")) : []);
  return maps.flatMap(
    (map) => (JSON.parse(readFileSync(path.join(dir, map), "utf8")) as { sources: string[] }).sources,
  );
}

/** Every function, the sweep included (its S3 record is read on demand, after the keys are judged). */
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
      files: 1,
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

  it.each(Object.keys(EXPECTED))(
    "%s: every on-demand module is a bundle of its own under lazy/, imported from index.mjs only",
    (name) => {
      const lazy = readdirSync(path.join(outdir, name, "lazy"))
        .filter((f) => f.endsWith(".mjs"))
        .sort();
      expect(lazy).toEqual(LAZY_FILES[name]);
      const index = readFileSync(path.join(outdir, name, "index.mjs"), "utf8");
      for (const file of lazy) expect(index, file).toContain(`import("./lazy/${file}")`);
      // The cold path's own chunks are the SDK's (its own dynamic imports): none holds ours.
      for (const chunk of readdirSync(path.join(outdir, name, "chunks")).filter((f) => f.endsWith(".mjs"))) {
        expect(readFileSync(path.join(outdir, name, "chunks", chunk), "utf8"), chunk).not.toContain(
          "./lazy/",
        );
      }
    },
  );

  it.each(Object.keys(EXPECTED))(
    "%s: a cold start parses neither the Security Hub mapping nor the chat formatting (loaded when configured)",
    (name) => {
      const cold = [
        ...sourcesIn(path.join(outdir, name), ["index.mjs.map"]),
        ...sourcesIn(path.join(outdir, name, "chunks")),
      ];
      const lazy = [
        ...sourcesIn(path.join(outdir, name, "lazy")),
        ...sourcesIn(path.join(outdir, name, "lazy", "chunks")),
      ];
      const ours = (sources: string[]) =>
        sources.filter((s) => /functions\/shared\/(securityhub|chat)\.ts$/.test(s));

      expect(cold.some((s) => s.endsWith("functions/shared/pipeline.ts"))).toBe(true);
      expect(ours(cold)).toEqual([]);
      expect(
        ours(lazy)
          .map((s) => path.basename(s))
          .sort(),
      ).toEqual(["chat.ts", "securityhub.ts"]);
    },
  );

  it("the check is live: a chunk that imports an on-demand bundle is named", () => {
    const out = (imports: Array<{ path: string; kind: "dynamic-import"; external?: boolean }>) => ({
      bytes: 1,
      imports,
      exports: [],
      inputs: {},
    });
    const metafile = {
      inputs: {},
      outputs: {
        "out/index.mjs": out([{ path: "./lazy/member.mjs", kind: "dynamic-import", external: true }]),
        "out/chunks/shared.mjs": out([{ path: "./lazy/member.mjs", kind: "dynamic-import", external: true }]),
        "out/chunks/sdk.mjs": out([{ path: "out/chunks/bowser.mjs", kind: "dynamic-import" }]),
      },
    };
    expect(misplacedLazyImports(metafile, "out/index.mjs")).toEqual(["out/chunks/shared.mjs"]);
  });
});
