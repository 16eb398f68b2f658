/**
 * The exposure window: from the delivery of an event to the end of the read that verifies the
 * handler's change, for each acting incident, cold and warm, on moto.
 *
 * Each of `processes` fresh processes runs the drill's acting scenarios `rounds` times
 * (bench/exposure-child.ts): the built bundles are loaded in-process as Lambda loads them, the
 * first delivery to each bundle in a process is its cold start (import excluded: the clock starts
 * at delivery, as Lambda's does after init), every later one warm. Beside each incident, its AWS
 * calls per delivery and the minimum: one parallel round of its distinct reads, each action, one
 * read verifying each action; calls above that are listed by name.
 *
 * moto has no CloudTrail LookupEvents (it answers 500, which the SDK retries for about a second):
 * a small proxy in front of moto answers it with an empty history, as CloudTrail would for a key
 * with no earlier calls, and forwards everything else.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startMoto } from "../emulator/moto.js";
import { closeProxy, forwardingProxy } from "../emulator/proxy.js";
import { pendingDeletionKeyUsed } from "../functions/pending-deletion-key-used/incident.js";
import { type BurstReport, burstSection, measureBurst } from "./exposure-burst.js";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./exposure-child.ts", import.meta.url));

/** The drill scenarios in which a handler changes a key (one or more per acting incident). */
export const ACTING_SCENARIOS = [
  "external-grant",
  "delegation-grant",
  "unapproved-deletion",
  "public-policy",
  "cross-account-policy",
  "rotation-disabled",
  // This scenario is named after its incident.
  pendingDeletionKeyUsed.name,
  "member-account-grant",
  "member-account-deletion",
] as const;

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
  passed: boolean;
  timing?: {
    remediationMs?: number;
    verifiedMs?: number;
    calls: Array<{ operation: string; status?: number }>;
  };
}

export interface CallCount {
  calls: number;
  minimum: number;
  above: string[];
  unanswered: number;
}

/**
 * Reads only the notification waits for: the key's last use (started with the round of reads,
 * never awaited by the action) and a central responder's name for the account (asked beside the
 * round once the Organizations client has loaded, so it may go out after the action). Each is one
 * read of the round wherever it falls; only a repeat is above the minimum.
 */
const NOTICE_READS = new Set(["GetKeyLastUsage", "organizations:DescribeAccount"]);

/** The AWS calls of one delivery beside the minimum (SNS and STS are not calls about the key). */
export function callCount(calls: ReadonlyArray<{ operation: string; status?: number }>): CallCount {
  const aboutKey = calls.filter((c) => c.operation !== "sns" && c.operation !== "sts");
  const unanswered = aboutKey.filter((c) => (c.status ?? 200) >= 500).length;
  const answered = aboutKey.filter((c) => (c.status ?? 200) < 500).map((c) => c.operation);
  const notices = answered.filter((op) => NOTICE_READS.has(op));
  const path = answered.filter((op) => !NOTICE_READS.has(op));
  const first = path.findIndex((op) => ACTIONS.has(op));
  const before = path.slice(0, first === -1 ? path.length : first);
  const actions = path.filter((op) => ACTIONS.has(op)).length;
  // Above the minimum: a read repeated before the first action, and any read after an action but
  // the one that verifies it.
  const repeated = [...before, ...notices]
    .filter((op, i, all) => all.indexOf(op) !== i)
    .map((op) => `${op} (again${NOTICE_READS.has(op) ? "" : " before acting"})`);
  const extraAfter: string[] = [];
  if (first !== -1) {
    let pending = 0;
    for (const op of path.slice(first)) {
      if (ACTIONS.has(op)) pending++;
      else if (pending > 0) pending--;
      else extraAfter.push(`${op} (after acting, not verifying)`);
    }
  }
  return {
    calls: answered.length,
    minimum: new Set(before).size + new Set(notices).size + 2 * actions,
    above: [...repeated, ...extraAfter],
    unanswered,
  };
}

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  return { n: sorted.length, p50: at(50), p99: at(99) };
}

export interface IncidentExposure extends CallCount {
  incident: string;
  cold: Percentiles;
  warm: Percentiles;
  /** Scenario runs that did not keep the drill's promise (their timings are left out). */
  broken: number;
}

export interface ExposureReport {
  processes: number;
  rounds: number;
  incidents: IncidentExposure[];
  burst: BurstReport;
}

interface Sample {
  incident: string;
  cold: boolean;
  verifiedMs: number;
  count: CallCount;
}

/** The samples of one child's output: the first delivery to each bundle is cold. */
export function samplesOf(lines: readonly string[]): { samples: Sample[]; broken: Map<string, number> } {
  const seen = new Set<string>();
  const samples: Sample[] = [];
  const broken = new Map<string, number>();
  for (const line of lines) {
    if (!line.startsWith('{"scenario"')) continue;
    const s = JSON.parse(line) as Scenario;
    if (!s.rule) continue;
    const cold = !seen.has(s.rule);
    seen.add(s.rule);
    const verifiedMs = s.timing?.verifiedMs;
    if (!s.passed || verifiedMs === undefined) {
      broken.set(s.rule, (broken.get(s.rule) ?? 0) + 1);
      continue;
    }
    samples.push({ incident: s.rule, cold, verifiedMs, count: callCount(s.timing?.calls ?? []) });
  }
  return { samples, broken };
}

/** Answers CloudTrail LookupEvents with an empty history and forwards every other request to moto. */
function historyStub(target: string): ReturnType<typeof forwardingProxy> {
  return forwardingProxy(target, {
    answer: (req) =>
      String(req.headers["x-amz-target"] ?? "").endsWith(".LookupEvents")
        ? { status: 200, type: "application/x-amz-json-1.1", body: '{"Events":[]}' }
        : undefined,
  });
}

/** What an incident none of whose runs kept the drill's promise reports: no window, no count. */
const NO_COUNT: CallCount = { calls: Number.NaN, minimum: Number.NaN, above: [], unanswered: 0 };

function summarise(samples: readonly Sample[], broken: ReadonlyMap<string, number>): IncidentExposure[] {
  // An incident whose every run broke is listed too (with its broken runs), not left out.
  const incidents = [...new Set([...samples.map((s) => s.incident), ...broken.keys()])];
  return incidents.map((incident) => {
    const mine = samples.filter((s) => s.incident === incident);
    // The delivery with the most calls: every delivery of an incident should make the same.
    const worst = mine.reduce<Sample | undefined>(
      (a, b) =>
        a === undefined || b.count.calls - b.count.minimum > a.count.calls - a.count.minimum ? b : a,
      undefined,
    );
    return {
      incident,
      cold: percentiles(mine.filter((s) => s.cold).map((s) => s.verifiedMs)),
      warm: percentiles(mine.filter((s) => !s.cold).map((s) => s.verifiedMs)),
      ...(worst?.count ?? NO_COUNT),
      broken: broken.get(incident) ?? 0,
    };
  });
}

export async function measureExposure(
  processes: number,
  rounds: number,
  log: (line: string) => void,
): Promise<ExposureReport> {
  const moto = await startMoto();
  const stub = await historyStub(moto.endpoint);
  try {
    const samples: Sample[] = [];
    const broken = new Map<string, number>();
    for (let p = 0; p < processes; p++) {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", CHILD, stub.endpoint, String(rounds), ACTING_SCENARIOS.join(",")],
        {
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      const got = samplesOf(stdout.split("\n"));
      samples.push(...got.samples);
      for (const [k, v] of got.broken) broken.set(k, (broken.get(k) ?? 0) + v);
      log(`exposure: process ${p + 1}/${processes} done`);
    }
    const burst = await measureBurst(moto.endpoint);
    return { processes, rounds, incidents: summarise(samples, broken), burst };
  } finally {
    await closeProxy(stub.server);
    await moto.stop();
  }
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "-");

export function exposureSection(r: ExposureReport | string): string[] {
  if (typeof r === "string") return ["## Exposure window (moto)", "", r, ""];
  const atMinimum = r.incidents.every((i) => i.calls === i.minimum);
  return [
    `## Exposure window per acting incident (moto; delivery to the end of the read verifying the change; ${r.processes} fresh processes x ${r.rounds} rounds of the drill's acting scenarios; cold = the first delivery to a bundle in a process)`,
    "",
    "| incident | cold p50 ms | cold p99 ms (n) | warm p50 ms | warm p99 ms (n) | AWS calls per delivery | minimum | above the minimum | runs not as promised |",
    "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ...r.incidents.map(
      (i) =>
        `| ${i.incident} | ${ms(i.cold.p50)} | ${ms(i.cold.p99)} (${i.cold.n}) | ${ms(i.warm.p50)} | ${ms(i.warm.p99)} (${i.warm.n}) | ${ms(i.calls)} | ${ms(i.minimum)} | ${i.above.join(", ") || "-"} | ${i.broken} |`,
    ),
    "",
    "Minimum: one parallel round of the incident's distinct reads (the notification's aliases and description among them, and the reads only the notification waits for: the key's last use, a member account's name, wherever they fall), each action, one read verifying each action. SNS (the notification) and STS (the member role) are not counted. CloudTrail LookupEvents is answered by a stub (empty history) in front of moto.",
    `Goal: every acting incident at its minimum: ${atMinimum ? "met" : "missed"}.`,
    "",
    ...burstSection(r.burst),
  ];
}
