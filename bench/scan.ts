/**
 * Sweep throughput: keys judged per second in one account and Region, on moto (300 customer
 * managed keys, each with a grant, rotation on), with no budget (what the emulator and our code
 * allow) and with the default budget (half of each read's default KMS quota), beside the bound
 * the quotas set: each key costs one ListGrants, whose default quota (100 requests/s per account
 * and Region) is the lowest of the per-key reads.
 */
import {
  CreateGrantCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import { startMoto } from "../emulator/moto.js";
import {
  type Budget,
  DEFAULT_SHARE,
  keysPerSecondBound,
  PER_KEY_OPERATIONS,
  requestBudget,
  UNLIMITED,
} from "../functions/scan/budget.js";
import { scanRegion } from "../functions/scan/scan.js";
import { DEFAULT_CONFIG } from "../functions/shared/config.js";

const REGION = "us-east-1";
const KEYS = 300;
const CONCURRENCY = 8;

export interface ScanReport {
  keys: number;
  concurrency: number;
  unlimited: number;
  budgeted: number;
  /** The KMS quota bound at the full default quotas, and at the default share. */
  bound: number;
  boundAtShare: number;
  callsPerKey: number;
}

async function keysPerSecond(kms: KMSClient, budget: Budget): Promise<number> {
  const started = performance.now();
  const result = await scanRegion(
    { kms, budget },
    { account: "123456789012", region: REGION },
    DEFAULT_CONFIG,
    {
      concurrency: CONCURRENCY,
    },
  );
  if (result.failed || result.keys !== KEYS)
    throw new Error(`scan read ${result.keys} keys: ${result.failed ?? ""}`);
  return result.keys / ((performance.now() - started) / 1000);
}

export async function measureScan(): Promise<ScanReport> {
  const moto = await startMoto();
  try {
    const kms = new KMSClient({
      endpoint: moto.endpoint,
      region: REGION,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    for (let i = 0; i < KEYS; i++) {
      const id = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
      await kms.send(new EnableKeyRotationCommand({ KeyId: id }));
      await kms.send(
        new CreateGrantCommand({
          KeyId: id,
          GranteePrincipal: "arn:aws:iam::123456789012:role/app",
          Operations: ["Decrypt"],
          Constraints: { EncryptionContextSubset: { app: "bench" } },
        }),
      );
    }
    // A first pass warms the client's connections; the figures are the second and third.
    await keysPerSecond(kms, UNLIMITED);
    const unlimited = await keysPerSecond(kms, UNLIMITED);
    const budgeted = await keysPerSecond(kms, requestBudget());
    return {
      keys: KEYS,
      concurrency: CONCURRENCY,
      unlimited,
      budgeted,
      bound: keysPerSecondBound(PER_KEY_OPERATIONS),
      boundAtShare: keysPerSecondBound(PER_KEY_OPERATIONS, DEFAULT_SHARE),
      callsPerKey: PER_KEY_OPERATIONS.length,
    };
  } finally {
    await moto.stop();
  }
}

export function scanSection(r: ScanReport | string): string[] {
  if (typeof r === "string") return ["## Sweep throughput (moto)", "", r, ""];
  return [
    `## Sweep throughput (one account and Region on moto, ${r.keys} customer managed keys, ${r.concurrency} keys at a time, ${r.callsPerKey} reads per key)`,
    "",
    "| run | keys/s |",
    "|---|---:|",
    `| no budget (the emulator's and our own limit) | ${r.unlimited.toFixed(0)} |`,
    `| default budget (${DEFAULT_SHARE * 100}% of each read's default quota) | ${r.budgeted.toFixed(0)} |`,
    `| KMS bound at the default quotas (ListGrants 100 requests/s) | ${r.bound.toFixed(0)} |`,
    `| KMS bound at the default budget | ${r.boundAtShare.toFixed(0)} |`,
    "",
  ];
}
