/**
 * The exposure window as the drill sees it: each scenario of `kms-responder drill --json` (moto,
 * the built bundles loaded in-process as Lambda loads them, the first delivery to each bundle a
 * cold start) gives the time from delivery to the last successful change of the key
 * (`remediationMs`) and every AWS call the handler made. Beside each acting incident's calls, the
 * minimum: one round of its distinct reads, each action, and one read verifying each action.
 * Calls above that are listed by name.
 *
 * One sample per scenario, not a distribution: the warm p50/p99 of rogue-grant is the latency
 * section's. What moto cannot answer (CloudTrail LookupEvents returns 500 there, retried by the
 * SDK) is counted apart.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The KMS calls that change a key: an action. */
const ACTIONS = new Set([
  "RevokeGrant",
  "RetireGrant",
  "CancelKeyDeletion",
  "EnableKey",
  "DisableKey",
  "EnableKeyRotation",
  "PutKeyPolicy",
]);

interface Scenario {
  scenario: string;
  rule: string | null;
  decision?: { outcome?: string };
  timing?: {
    remediationMs?: number;
    handlerMs?: number;
    calls: Array<{ operation: string; status?: number }>;
  };
}

export interface ExposureRow {
  scenario: string;
  incident: string;
  remediationMs: number;
  handlerMs: number;
  calls: number;
  minimum: number;
  above: string[];
  unanswered: number;
}

/** The AWS calls a scenario's handler made, beside the minimum; undefined when nothing acted. */
export function exposureOf(s: Scenario): ExposureRow | undefined {
  const timing = s.timing;
  if (!timing || timing.remediationMs === undefined || !s.rule) return undefined;
  const calls = timing.calls.filter((c) => c.operation !== "sns" && c.operation !== "sts");
  const unanswered = calls.filter((c) => (c.status ?? 200) >= 500).length;
  const answered = calls.filter((c) => (c.status ?? 200) < 500);
  const first = answered.findIndex((c) => ACTIONS.has(c.operation));
  const before = answered.slice(0, first === -1 ? answered.length : first).map((c) => c.operation);
  const actions = answered.filter((c) => ACTIONS.has(c.operation)).length;
  const minimum = new Set(before).size + 2 * actions;
  // Above the minimum: repeated reads before the action, and every read after it but one per action.
  const repeated = before.filter((op, i) => before.indexOf(op) !== i);
  const after = answered.slice(first + 1).filter((c) => !ACTIONS.has(c.operation));
  const extraAfter = after.slice(actions).map((c) => c.operation);
  return {
    scenario: s.scenario,
    incident: s.rule,
    remediationMs: timing.remediationMs,
    handlerMs: timing.handlerMs ?? 0,
    calls: answered.length,
    minimum,
    above: [...repeated.map((op) => `${op} (again before acting)`), ...extraAfter],
    unanswered,
  };
}

/** Runs the drill with the bin and reads its scenarios. */
export async function measureExposure(bin: string): Promise<ExposureRow[]> {
  const { stdout } = await run(process.execPath, [bin, "drill", "--json"], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"scenario"'))
    .map((line) => exposureOf(JSON.parse(line) as Scenario))
    .filter((row): row is ExposureRow => row !== undefined);
}

export function exposureSection(rows: readonly ExposureRow[] | string): string[] {
  if (typeof rows === "string") return ["## Exposure window (drill on moto)", "", rows, ""];
  return [
    "## Exposure window per acting scenario (drill on moto; delivery to the last successful change, first delivery to each bundle cold; one sample each)",
    "",
    "| scenario | incident | delivery to remediation ms | handler ms | AWS calls | minimum | above the minimum | unanswered by moto (retried) |",
    "|---|---|---:|---:|---:|---:|---|---:|",
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.incident} | ${r.remediationMs} | ${r.handlerMs} | ${r.calls} | ${r.minimum} | ${r.above.join(", ") || "-"} | ${r.unanswered} |`,
    ),
    "",
    "Minimum: one parallel round of the incident's distinct reads, the action, one read verifying it. Not measured here: p50/p99 per incident and a burst of 200 grants across 10 accounts.",
    "",
  ];
}
