/**
 * A sweep of one account and Region: list every key, read each customer managed key's state
 * (`concurrency` keys at a time, every call within the account and Region's budget), and judge it
 * with every incident that judges state. Reads only: planned actions are data, like triage's.
 */
import type { Config } from "../shared/config.js";
import type { Finding } from "../shared/decision.js";
import { describeError } from "../shared/errors.js";
import type { KmsEvent } from "../shared/event.js";
import type { KeyState } from "../shared/state.js";
import { judgeKey, readsOf, type StateIncident, stateIncidents } from "./judge.js";
import { listAliases, listKeyIds, type Reader, readKeyState } from "./read.js";

export interface ScanTarget {
  account: string;
  region: string;
}

export interface ScanResult extends ScanTarget {
  /** Customer managed keys judged. */
  keys: number;
  /** AWS managed keys seen and left alone. */
  awsManaged: number;
  findings: Finding[];
  /** Keys that could not be judged, or judged without some of their state: `<key id>: <error>`. */
  errors: string[];
  /** Set when not even the keys could be listed: nothing was read here. */
  failed?: string;
  /** Wall time, milliseconds. */
  elapsedMs: number;
}

export interface ScanOptions {
  concurrency: number;
  now?: Date;
  /** Told after each key (progress). */
  onKey?: (done: number, total: number) => void;
  /** How a failure to list the keys is told (default: the error's name and first line). */
  describe?: (error: unknown) => string;
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The key's findings; an exempt-tagged key with findings first has its tag's setter looked up in
 * its CloudTrail history (where the reader can), a failed lookup recorded and taken as unknown.
 */
async function judged(
  reader: Reader,
  state: KeyState,
  config: Config,
  incidents: readonly StateIncident[],
  now: Date,
  errors: string[],
): Promise<Finding[]> {
  const findings = judgeKey(state, config, incidents, now);
  if (!findings.length || !reader.tagSetter || !(config.exemptTagKey in state.tags)) return findings;
  let setter: KmsEvent | undefined;
  try {
    setter = await reader.tagSetter(state.key.arn, config.exemptTagKey);
  } catch (error) {
    errors.push(`${state.key.id}: exemption origin: ${describeError(error)}`);
  }
  return judgeKey(state, config, incidents, now, { setter });
}

export async function scanRegion(
  reader: Reader,
  target: ScanTarget,
  config: Config,
  options: ScanOptions,
): Promise<ScanResult> {
  const started = Date.now();
  const result: ScanResult = { ...target, keys: 0, awsManaged: 0, findings: [], errors: [], elapsedMs: 0 };
  const incidents = stateIncidents(config);
  const reads = readsOf(incidents);
  const now = options.now ?? new Date();
  let ids: string[];
  let aliases: Map<string, string[]>;
  try {
    [ids, aliases] = await Promise.all([listKeyIds(reader), listAliases(reader)]);
  } catch (error) {
    return { ...result, failed: (options.describe ?? describeError)(error), elapsedMs: Date.now() - started };
  }
  let done = 0;
  await pool(ids, options.concurrency, async (id) => {
    const read = await readKeyState(reader, id, aliases, reads);
    if (read.kind === "aws-managed") result.awsManaged++;
    else if (read.kind === "error") result.errors.push(`${read.keyId}: ${read.error}`);
    else {
      result.keys++;
      for (const [name, error] of Object.entries(read.state.readErrors ?? {}))
        result.errors.push(`${read.state.key.id}: ${name}: ${error}`);
      result.findings.push(...(await judged(reader, read.state, config, incidents, now, result.errors)));
    }
    options.onKey?.(++done, ids.length);
  });
  // Stable order whatever the concurrency: by key, then the registry's order within a key.
  result.findings.sort((a, b) => (a.key?.arn ?? "").localeCompare(b.key?.arn ?? ""));
  return { ...result, elapsedMs: Date.now() - started };
}
