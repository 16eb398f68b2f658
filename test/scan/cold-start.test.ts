/**
 * The sweep's function checks its config at cold start against every incident's declaration (it
 * carries the registry): an option no incident declares fails it, where an incident's own function
 * would check its own options only.
 */
import { afterEach, describe, expect, it, vi } from "vitest";

const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

/** Imports the sweep's entry from a fresh module registry with this config, as a cold start does. */
async function coldStart(config: object): Promise<unknown> {
  vi.resetModules();
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("KMS_RESPONDER_CONFIG", JSON.stringify(config));
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
  vi.stubEnv("SCAN_BUCKET", "kms-responder-sweep");
  return (await import("../../functions/scan/index.js")).handler;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("the sweep's cold start", () => {
  it("fails on an incident option no declaration has, or an unknown name in scan.enforce, naming them", async () => {
    // Act
    const start = coldStart({
      incidents: { "key-disabled": { colour: "red" } },
      scan: { enforce: ["later-incident"] },
    });

    // Assess
    await expect(start).rejects.toThrow(
      'invalid KMS_RESPONDER_CONFIG: unknown field "incidents.key-disabled.colour"; ' +
        'scan.enforce.0: Invalid option: expected one of "alias-changed"|',
    );
  });

  it("starts with every incident's own options set", async () => {
    // Act
    const handler = await coldStart({
      incidents: { "key-rotation-weakened": { maxPeriodDays: 180 }, "responder-tampered": { repair: true } },
      scan: { enforce: ["rogue-grant"] },
    });

    // Assess
    expect(typeof handler).toBe("function");
  });
});
