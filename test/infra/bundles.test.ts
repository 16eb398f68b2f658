/**
 * The build (scripts/build.ts) makes one bundle per registered incident plus the runbook, and each
 * holds only the AWS SDK clients its function uses, read from esbuild's metafile. The build runs
 * once, into a temporary directory (a few seconds).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltFunction, buildAll, clientsIn, unusedClients } from "../../scripts/build.js";

let outdir: string;
let built: BuiltFunction[];
beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), "kms-responder-bundles-"));
  built = await buildAll(outdir);
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * Every function's AWS clients, written out: CloudTrail only where key history is read, SSM only in
 * the runbook; Security Hub (findings, when configured) and STS (a central responder assumes
 * member-account roles) everywhere, through the shared pipeline.
 */
const EXPECTED: Record<string, string[]> = {
  "rogue-grant": ["kms", "securityhub", "sns", "sts"],
  "key-deletion-scheduled": ["cloudtrail", "kms", "securityhub", "sns", "sts"],
  "key-policy-violation": ["kms", "securityhub", "sns", "sts"],
  "key-disabled": ["kms", "securityhub", "sns", "sts"],
  "key-material-deleted": ["kms", "securityhub", "sns", "sts"],
  "key-rotation-disabled": ["kms", "securityhub", "sns", "sts"],
  "pending-deletion-key-used": ["cloudtrail", "kms", "securityhub", "sns", "sts"],
  "key-material-expiring": ["kms", "securityhub", "sns", "sts"],
  "alias-changed": ["kms", "securityhub", "sns", "sts"],
  runbook: ["cloudtrail", "kms", "securityhub", "sns", "ssm", "sts"],
};

describe("bundles", () => {
  it("one per registered incident, and the runbook, each written with its source map", () => {
    expect(built.map((b) => b.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const { name, bytes } of built) {
      expect(bytes, name).toBeGreaterThan(0);
      expect(existsSync(path.join(outdir, name, "index.mjs.map")), name).toBe(true);
    }
  });

  it.each(Object.entries(EXPECTED))(
    "%s holds exactly the @aws-sdk/client-* packages it uses",
    (name, clients) => {
      expect(built.find((b) => b.name === name)?.clients).toEqual(clients);
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
    }));
    expect(unusedClients(rogue)).toEqual(["rogue-grant bundles @aws-sdk/client-ssm"]);
    expect(
      clientsIn({
        inputs: {
          "node_modules/@aws-sdk/client-kms/dist-es/index.js": { bytes: 1, imports: [] },
          "node_modules/@smithy/core/dist-es/index.js": { bytes: 1, imports: [] },
          "functions/shared/clients/kms.ts": { bytes: 1, imports: [] },
        },
        outputs: {},
      }),
    ).toEqual(["kms"]);
  });
});
