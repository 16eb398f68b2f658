/**
 * `kms-responder triage`: the responders' decisions, offline, over recorded events. Nothing is
 * called on AWS: it says what the responder would have done. Runs the very same `decide()` as
 * the Lambda handlers (through `decideAny` over the registry), without the key facts a handler
 * reads first (tags, the grant or key state now, history): those are unknown offline.
 */
import { stat } from "node:fs/promises";
import { SingleBar } from "cli-progress";
import { INCIDENTS } from "../functions/registry.js";
import { parseArn, parseKeyArn } from "../functions/shared/arn.js";
import type { Config } from "../functions/shared/config.js";
import { type Decision, notKms, type PlannedAction } from "../functions/shared/decision.js";
import { actorOf, cloudTrailRecord, type KmsEvent, normalise } from "../functions/shared/event.js";
import type { FactName } from "../functions/shared/facts.js";
import { isObject, str } from "../functions/shared/json.js";
import { decideAny, incidentFor } from "../functions/shared/route.js";
import { type Severity, severityRank } from "../functions/shared/types.js";
import type { CliIo } from "./io.js";
import { listFiles, type RecordEntry, readRecordBatches } from "./read-records.js";

export interface TriageRow {
  eventId: string | null;
  eventName: string | null;
  eventTime: string | null;
  source: { file: string; index: number };
  incident: string | null;
  severity: Severity | null;
  reasons: string[];
  /**
   * `when`: a condition the handler checks from what it reads first (enable-key after a cancelled
   * deletion); `hold`: the code of why it would not run (`notify-mode`, `unknown-key`, ...), `why` in words.
   */
  actions: Array<{ type: string; target: string; when?: string; hold?: string; why?: string }>;
  key: string | null;
  actor: string | null;
  summary: string | null;
  skipped: string | null;
  why: string | null;
}

export interface TriageOptions {
  paths: string[];
  config: Config;
  json: boolean;
  /** Show skipped records in the table too (the JSON output always has every record). */
  all: boolean;
  failOn: Severity | undefined;
  /** Show a progress bar when the input is at least this many bytes and stderr is a terminal. */
  progressThreshold?: number;
}

export interface Io extends CliIo {
  /** Where the progress bar draws (default process.stderr). */
  stderr?: NodeJS.WritableStream;
}

/** Records between waits for `io.drain`: bounds what waits in the output buffer. */
const DRAIN_EVERY = 256;

/** Turns one input entry into its triage row. Never throws. */
export function triageEntry(entry: RecordEntry, config: Config): TriageRow {
  const base: TriageRow = {
    eventId: null,
    eventName: null,
    eventTime: null,
    source: { file: entry.file, index: entry.index },
    incident: null,
    severity: null,
    reasons: [],
    actions: [],
    key: null,
    actor: null,
    summary: null,
    skipped: null,
    why: null,
  };
  if (entry.error !== undefined) return { ...base, skipped: "unparseable", why: entry.error };
  const record = cloudTrailRecord(entry.value);
  if (record && record.eventSource !== "kms.amazonaws.com") {
    // Most of a CloudTrail export is other services: answered without building the whole call.
    const actor = actorOf(isObject(record.userIdentity) ? record.userIdentity : {});
    const skip = notKms(str(record.eventSource));
    return {
      ...base,
      eventId: str(record.eventID) ?? null,
      eventName: str(record.eventName) ?? null,
      eventTime: str(record.eventTime) ?? null,
      actor: actor.roleArn ?? actor.arn ?? actor.invokedBy ?? null,
      skipped: skip.skipped,
      why: skip.why,
    };
  }
  const event = normalise(entry.value);
  if (!event) return { ...base, skipped: "unparseable", why: "not a CloudTrail record or EventBridge event" };
  const row: TriageRow = {
    ...base,
    eventId: event.eventId ?? null,
    eventName: event.eventName ?? null,
    eventTime: event.eventTime ?? null,
    key: event.key?.arn ?? event.keyHint ?? null,
    actor: event.actor.roleArn ?? event.actor.arn ?? event.actor.invokedBy ?? null,
  };
  let decision: Decision;
  try {
    decision = decideAny(INCIDENTS, event, config);
  } catch (error) {
    // A decide() that throws is a bug; the record is still answered, and the bug is visible.
    return {
      ...row,
      skipped: "error",
      why: `decision failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (decision.kind === "ignore") {
    return { ...row, incident: decision.incident ?? null, skipped: decision.skipped, why: decision.why };
  }
  return {
    ...row,
    incident: decision.incident,
    severity: decision.severity,
    reasons: decision.reasons,
    summary: decision.summary,
    actions: decision.actions.map((a) => rowAction(a, readsOf(event, config))),
  };
}

/** What the incident's handler reads before deciding again, under this config (none offline). */
function readsOf(event: KmsEvent, config: Config): readonly FactName[] {
  return incidentFor(INCIDENTS, event)?.reads(config) ?? [];
}

/**
 * A planned action as a row shows it. Offline the deciders plan without facts; where the handler
 * judges an action by a fact it reads first, the row says on what condition it runs.
 */
function rowAction(a: PlannedAction, reads: readonly FactName[]): TriageRow["actions"][number] {
  const target = a.grantId ? `${a.keyRef} grant ${a.grantId}` : a.keyRef;
  const action: TriageRow["actions"][number] = { type: a.type, target };
  // With afterCancel `restore` the handler reads the key's history and re-enables only a key
  // that was enabled before (restore.ts); offline that history is unknown.
  if (a.type === "enable-key" && reads.includes("history"))
    action.when = "only if the key was enabled before the deletion was scheduled";
  if (a.hold) {
    action.hold = a.hold.code;
    action.why = a.hold.why;
  }
  return action;
}

/** The input's files and their total size, for the progress bar. */
async function inputSize(paths: readonly string[]): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const p of paths) {
    for (const f of await listFiles(p)) {
      files++;
      bytes += (await stat(f)).size;
    }
  }
  return { files, bytes };
}

function pad(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}~` : text.padEnd(width);
}

function shortKey(key: string | null): string {
  if (!key) return "-";
  return parseKeyArn(key)?.id ?? key;
}

function shortActor(actor: string | null): string {
  if (!actor) return "-";
  const arn = parseArn(actor);
  return arn && (arn.service === "iam" || arn.service === "sts") ? arn.resource : actor;
}

function tableLine(row: TriageRow): string {
  const what = row.skipped
    ? `skipped: ${row.skipped}`
    : row.actions.length
      ? row.actions
          .map((a) => (a.hold ? `${a.type} (held)` : a.when ? `${a.type} (if enabled before)` : a.type))
          .join(", ")
      : "notify";
  return [
    pad((row.severity ?? "-").toUpperCase(), 8),
    pad(row.incident ?? "-", 25),
    pad(row.eventName ?? "-", 22),
    pad(shortKey(row.key), 36),
    pad(shortActor(row.actor), 28),
    pad(row.reasons.join(",") || "-", 34),
    what,
  ].join(" ");
}

const HEADER = [
  pad("SEVERITY", 8),
  pad("INCIDENT", 25),
  pad("EVENT", 22),
  pad("KEY", 36),
  pad("ACTOR", 28),
  pad("REASONS", 34),
  "WOULD DO",
].join(" ");

/** Runs triage; returns the exit code (0, or 1 when a finding reaches `failOn`). */
export async function runTriage(options: TriageOptions, io: Io): Promise<number> {
  const threshold = options.progressThreshold ?? 5 * 1024 * 1024;
  // On a terminal only (stderr), whatever stdout is: `triage --json big/ > out.jsonl` shows it too.
  const input = io.isTty ? await inputSize(options.paths) : { files: 0, bytes: 0 };
  const bar =
    io.isTty && input.bytes >= threshold
      ? new SingleBar({
          stream: io.stderr ?? process.stderr,
          format: "triage [{bar}] {value}/{total} files | {records} records",
          // The terminal check is ours (io.isTty), so the bar draws on the stream it is given.
          noTTYOutput: true,
        })
      : undefined;
  bar?.start(input.files, 0, { records: 0 });
  let currentFile: string | undefined;

  const counts = new Map<string, number>();
  const bySeverity = new Map<Severity, number>();
  let records = 0;
  let worst: Severity | undefined;
  let headerShown = false;

  for await (const batch of readRecordBatches(options.paths)) {
    for (const entry of batch) {
      const row = triageEntry(entry, options.config);
      records++;
      if (io.drain && records % DRAIN_EVERY === 0) await io.drain();
      if (bar && entry.file !== currentFile) {
        if (currentFile !== undefined) bar.increment(1, { records });
        currentFile = entry.file;
      }
      if (row.skipped) counts.set(row.skipped, (counts.get(row.skipped) ?? 0) + 1);
      if (row.severity) {
        bySeverity.set(row.severity, (bySeverity.get(row.severity) ?? 0) + 1);
        if (!worst || severityRank(row.severity) < severityRank(worst)) worst = row.severity;
      }
      if (options.json) {
        io.out(JSON.stringify(row));
        continue;
      }
      if (row.skipped && !options.all && row.skipped !== "unparseable") continue;
      if (!headerShown) {
        io.out(HEADER);
        headerShown = true;
      }
      io.out(
        row.skipped === "unparseable"
          ? `UNPARSEABLE ${row.source.file}#${row.source.index}: ${row.why}`
          : tableLine(row),
      );
    }
  }
  bar?.update(input.files, { records });
  bar?.stop();

  if (!options.json) {
    const findings = [...bySeverity.values()].reduce((a, b) => a + b, 0);
    const sev = [...bySeverity.entries()]
      .sort(([a], [b]) => severityRank(a) - severityRank(b))
      .map(([s, n]) => `${n} ${s}`)
      .join(", ");
    const skipped = [...counts.entries()].map(([why, n]) => `${n} ${why}`).join(", ");
    if (!headerShown) io.out("No findings.");
    io.out("");
    io.out(
      `${records} records: ${findings} findings${sev ? ` (${sev})` : ""}; skipped: ${skipped || "none"}`,
    );
  }
  if (options.failOn && worst && severityRank(worst) <= severityRank(options.failOn)) return 1;
  return 0;
}
