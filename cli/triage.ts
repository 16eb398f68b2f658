/**
 * `kms-responder triage`: the responders' decisions, offline, over recorded events. Nothing is
 * called on AWS: it says what the responder would have done. Runs the very same `decide()` as
 * the Lambda handlers (each record by the registry's incident for it), without the key facts a handler
 * reads first (tags, the grant or key state now, history): those are unknown offline.
 */
import { stat } from "node:fs/promises";
import { DETAIL_PARSERS, INCIDENTS } from "../functions/registry.js";
import { parseArn, parseKeyArn } from "../functions/shared/arn.js";
import type { Config } from "../functions/shared/config.js";
import type { Decision, Finding, PlannedAction } from "../functions/shared/decision.js";
import { cloudTrailRecord, type KmsEvent, normalise } from "../functions/shared/event.js";
import type { FactName } from "../functions/shared/facts.js";
import type { Incident } from "../functions/shared/incident.js";
import { str } from "../functions/shared/json.js";
import { detectionFinding } from "../functions/shared/ocsf.js";
import { heldFinding, inconsistentRecordHold } from "../functions/shared/provenance.js";
import { decideAny, decideBy, incidentFor, watchedSources } from "../functions/shared/route.js";
import { SEVERITIES, type Severity, severityRank } from "../functions/shared/types.js";
import type { CliIo } from "./io.js";
import { parallelReader } from "./parallel-read.js";
import {
  type FilesReader,
  listFiles,
  type RecordEntry,
  type RecordSource,
  readRecordBatches,
  STDIN,
} from "./read-records.js";
import { renderTable, wrap } from "./table.js";

/** The event sources some incident handles: KMS, and the services the responder depends on. */
const WATCHED = watchedSources(INCIDENTS);

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
  /** The key's account (else the caller's), its name from config `accountNames`, the key's Region. */
  account: string | null;
  accountName: string | null;
  region: string | null;
  /** The custom key store a finding is about, when its event names a store and no key. */
  customKeyStore?: string;
  /**
   * Set when the record itself is doubtful (`inconsistent-record`: its accounts disagree in a way
   * no real CloudTrail record does): the responder would notify, hold every action, and `why` says why.
   */
  held?: string;
  actor: string | null;
  summary: string | null;
  skipped: string | null;
  why: string | null;
}

/**
 * A record of another service (most of a CloudTrail export): its JSON line holds only what
 * identifies it, so the output of a large export stays about the size of the floor's.
 */
export interface NotKmsRow {
  eventId: string | null;
  eventName: string | null;
  source: { file: string; index: number };
  skipped: "not-kms";
}

/**
 * Where triage's records come from, behind one boundary: the files given on the command line
 * (`fileInput`), or any other source (a bucket, a query) that yields batches of entries.
 */
export interface TriageInput {
  records: RecordSource;
  /** How many inputs were given (paths, buckets, ...), for the message when nothing could be read. */
  inputs: number;
  /** After reading: what the inputs held besides records (e.g. "2 other files ignored"), if anything. */
  remark?: () => string | undefined;
  /**
   * True when every object of the input was done in an earlier run (`--resume` of a finished run):
   * nothing left to read is then a success, said as such.
   */
  finished?: () => boolean;
  /** Files and bytes to read, for the progress bar (sources that cannot tell leave it out). */
  size?: () => Promise<{ files: number; bytes: number }>;
}

export interface TriageOptions {
  input: TriageInput;
  config: Config;
  json: boolean;
  /** One OCSF Detection Finding (class 2004) per finding on stdout, nothing else (`--format ocsf`). */
  ocsf?: boolean;
  /** Show skipped records in the table too (the JSON output always has every record). */
  all: boolean;
  failOn: Severity | undefined;
  /** Show a progress bar when the input is at least this many bytes and stderr is a terminal. */
  progressThreshold?: number;
  /** The table's width (default: the terminal's, see `terminalWidth`). */
  width?: number;
  /** Told every row as it is decided (the HTML report keeps the findings; a progress bar counts them). */
  onRow?: (row: TriageRow | NotKmsRow) => void;
}

export interface Io extends CliIo {
  /** Where the progress bar draws (default process.stderr). */
  stderr?: NodeJS.WritableStream;
}

/** Exit code when nothing could be read from the inputs given: a bad input, as for an unreadable path. */
export const NOTHING_READ = 2;

/**
 * The files and directories given on the command line, as a triage input. With the run's config,
 * a large input is triaged on several threads (parallel-read.ts), with the same rows in the same
 * order; `reader` says otherwise (a test's threshold).
 */
export function fileInput(
  paths: readonly string[],
  config?: Config,
  reader: FilesReader | undefined = config && parallelReader(config),
): TriageInput {
  let files = 0;
  let ignored = 0;
  return {
    records: readRecordBatches(
      paths,
      (listing) => {
        files += listing.files.length;
        ignored += listing.ignored;
      },
      reader,
    ),
    inputs: paths.length,
    remark: () => {
      const parts = [`${files} data file${files === 1 ? "" : "s"} found`];
      if (ignored)
        parts.push(
          `${ignored} other file${ignored === 1 ? "" : "s"} ignored (not .json, .jsonl, .ndjson or .gz)`,
        );
      return parts.join("; ");
    },
    size: () => inputSize(paths),
  };
}

/**
 * The width a table is laid out to: `COLUMNS` when set (shells export it, and a user can), else
 * the terminal's width when stdout is one, else 120 (a pipe or a file has no width of its own).
 */
export function terminalWidth(
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean; columns?: number } = process.stdout,
): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv >= 20) return fromEnv;
  if (stdout.isTTY && stdout.columns && stdout.columns >= 20) return stdout.columns;
  return 120;
}

/** Records between waits for `io.drain`: bounds what waits in the output buffer. */
const DRAIN_EVERY = 256;

/** A row with nothing known but where its record is, every field in the type's (and the JSON line's) order. */
function blankRow(source: TriageRow["source"]): TriageRow {
  return {
    eventId: null,
    eventName: null,
    eventTime: null,
    source,
    incident: null,
    severity: null,
    reasons: [],
    actions: [],
    key: null,
    account: null,
    accountName: null,
    region: null,
    actor: null,
    summary: null,
    skipped: null,
    why: null,
  };
}

/** The row of an entry that could not be read as a record. */
function unreadRow(source: TriageRow["source"], why: string): TriageRow {
  return { ...blankRow(source), skipped: "unparseable", why };
}

/** The event names some incident reads earlier calls of (`remembers`). */
const REMEMBERED: ReadonlySet<string> = new Set(
  (INCIDENTS as readonly Incident[]).flatMap((i) => i.remembers ?? []),
);

/**
 * Offline correlation: the records of remembered event names read so far in this run, by key ARN.
 * A decision about one record sees the key's earlier ones, across files, in time order (an import
 * in one log file, the on-demand rotation in the next). Each key's records are kept sorted by time
 * as they arrive (nearly always in order: one insertion from the end), so that finding the ones at
 * or before a record is a binary search, not a sort of every earlier record for every record.
 */
export type TriageMemory = Map<string, Remembered>;

/**
 * A key's remembered records, oldest first, and their times beside them: the records at or before
 * a time are then one slice, not a copy record by record (a key's history can hold thousands).
 */
interface Remembered {
  at: number[];
  events: KmsEvent[];
}

function timeOf(event: KmsEvent): number {
  const t = event.eventTime ? Date.parse(event.eventTime) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** How many of the sorted times are at or before `at`. */
function countUpTo(times: readonly number[], at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] ?? 0) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The key's remembered records at or before the event, oldest first. */
function earlierOf(memory: TriageMemory | undefined, event: KmsEvent): KmsEvent[] {
  const seen = event.key ? memory?.get(event.key.arn) : undefined;
  if (!seen) return [];
  const out = seen.events.slice(0, countUpTo(seen.at, timeOf(event)));
  // A record is remembered after its own decision; should it be there already, it is not its own past.
  const self = out.indexOf(event);
  if (self !== -1) out.splice(self, 1);
  return out;
}

/**
 * The facts a record is judged with offline: its key's earlier records, gathered only when a
 * decider reads them (most records are judged without).
 */
class OfflineFacts {
  private gathered: KmsEvent[] | undefined;

  constructor(
    private readonly memory: TriageMemory | undefined,
    private readonly event: KmsEvent,
  ) {}

  get earlier(): readonly KmsEvent[] {
    this.gathered ??= earlierOf(this.memory, this.event);
    return this.gathered;
  }
}

function remember(memory: TriageMemory | undefined, event: KmsEvent): void {
  if (!memory || !event.key || event.errorCode !== undefined) return;
  if (!event.eventName || !REMEMBERED.has(event.eventName)) return;
  const at = timeOf(event);
  const seen = memory.get(event.key.arn);
  if (!seen) {
    memory.set(event.key.arn, { at: [at], events: [event] });
    return;
  }
  // After every record of the same time or earlier: records of one time keep their reading order.
  const where = countUpTo(seen.at, at);
  seen.at.splice(where, 0, at);
  seen.events.splice(where, 0, event);
}

/**
 * A record read: its row when nothing is left to decide, else the row so far, the event and the
 * incident it belongs to (looked up once: deciding, and what the handler reads, both need it).
 */
type Read = { done: TriageRow | NotKmsRow } | Reading;
interface Reading {
  row: TriageRow;
  event: KmsEvent;
  incident: Incident | undefined;
}

/** Reads an entry up to its decision. */
function readEntry(entry: RecordEntry, config: Config): Read {
  const record = entry.error === undefined ? cloudTrailRecord(entry.value) : undefined;
  if (record && !WATCHED.has(str(record.eventSource) ?? "")) {
    // Most of a CloudTrail export is other services: answered without building the whole call.
    return {
      done: {
        eventId: str(record.eventID) ?? null,
        eventName: str(record.eventName) ?? null,
        source: { file: entry.file, index: entry.index },
        skipped: "not-kms",
      },
    };
  }
  const source = { file: entry.file, index: entry.index };
  if (entry.error !== undefined) return { done: unreadRow(source, entry.error) };
  const event = normalise(entry.value, DETAIL_PARSERS);
  if (!event) return { done: unreadRow(source, "not a CloudTrail record or EventBridge event") };
  const account = event.key?.account ?? event.accountId;
  // Every field, in the order of the row's type (the JSON line's order), in one literal.
  const row: TriageRow = {
    eventId: event.eventId ?? null,
    eventName: event.eventName ?? null,
    eventTime: event.eventTime ?? null,
    source,
    incident: null,
    severity: null,
    reasons: [],
    actions: [],
    key: event.key?.arn ?? event.keyHint ?? null,
    account: account ?? null,
    accountName: (account && config.accountNames[account]) || null,
    region: event.key?.region ?? event.region ?? null,
    actor: event.actor.roleArn ?? event.actor.arn ?? event.actor.invokedBy ?? null,
    summary: null,
    skipped: null,
    why: null,
  };
  return { row, event, incident: incidentFor(INCIDENTS as readonly Incident[], event) };
}

/** Decides a record read, with the key's earlier records in `memory`, and remembers it there. */
function decideEntry(
  read: Reading,
  entry: RecordEntry,
  config: Config,
  memory: TriageMemory | undefined,
): TriageRow {
  const { row, event, incident } = read;
  let decision: Decision;
  try {
    const facts = new OfflineFacts(memory, event);
    decision = incident
      ? decideBy(incident, event, config, facts)
      : decideAny(INCIDENTS, event, config, facts);
    remember(memory, event);
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
  return findingRow(row, decision, inconsistentRecordHold(entry.value, event), incident?.reads(config) ?? []);
}

/** Turns one input entry into its triage row. */
export function triageEntry(
  entry: RecordEntry,
  config: Config,
  memory?: TriageMemory,
): TriageRow | NotKmsRow {
  const read = readEntry(entry, config);
  return "done" in read ? read.done : decideEntry(read, entry, config, memory);
}

/**
 * The row of an entry whose decision does not depend on the records before it, or undefined for
 * one that does: a record of an event name some incident remembers, or one an incident decides
 * with the key's earlier records. Any other record may be decided anywhere, in any order (a
 * reading thread, parallel-read.ts): its row is the one `triageEntry` gives it.
 */
export function triageAlone(entry: RecordEntry, config: Config): TriageRow | NotKmsRow | undefined {
  const read = readEntry(entry, config);
  if ("done" in read) return read.done;
  const name = read.event.eventName;
  if ((name !== undefined && REMEMBERED.has(name)) || read.incident?.remembers) return undefined;
  return decideEntry(read, entry, config, undefined);
}

/**
 * The row of a finding. As the handler does, a record whose accounts disagree (`hold`) is
 * reported with every action held: nothing would be done.
 */
function findingRow(
  row: TriageRow,
  decision: Finding,
  hold: PlannedAction["hold"],
  reads: readonly FactName[],
): TriageRow {
  const finding = heldFinding(decision, hold);
  return {
    ...row,
    incident: finding.incident,
    severity: finding.severity,
    reasons: finding.reasons,
    summary: finding.summary,
    actions: finding.actions.map((a) => rowAction(a, reads)),
    ...(finding.store && { customKeyStore: finding.store.id }),
    ...(hold && { held: hold.code, why: hold.why }),
  };
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
    if (p === STDIN) continue;
    for (const f of await listFiles(p)) {
      files++;
      bytes += (await stat(f)).size;
    }
  }
  return { files, bytes };
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

function wouldDo(row: TriageRow): string {
  if (row.skipped) return `skipped: ${row.skipped}`;
  if (row.held) return `notify only (held: ${row.held})`;
  if (row.actions.length === 0) return "notify";
  return row.actions
    .map((a) => (a.hold ? `${a.type} (held: ${a.hold})` : a.when ? `${a.type} (if enabled before)` : a.type))
    .join(", ");
}

/** The table's columns; the lower the priority number, the longer a column stays when space runs out. */
// Cells wrap only between words: at spaces, after a path's `/` and after the `_` between the fields
// of a CloudTrail file name, never inside `us-east-1` or `external-grantee`. The file is left out
// (with a note) before the table gets taller than its rows need: --json always has it.
const COLUMNS = [
  { header: "SEVERITY", priority: 0, required: true },
  { header: "INCIDENT", priority: 1, required: true },
  { header: "ACCOUNT", priority: 2, required: true },
  { header: "REGION", priority: 3 },
  { header: "WOULD DO", priority: 4, required: true },
  { header: "KEY", priority: 5 },
  { header: "REASONS", priority: 6 },
  { header: "FILE", priority: 7, breakAfter: "/_#" },
  { header: "EVENT", priority: 8 },
  { header: "ACTOR", priority: 9 },
] as const;

/** The cells of a row, in COLUMNS order. */
function cells(row: TriageRow): string[] {
  return [
    (row.severity ?? "-").toUpperCase(),
    row.incident ?? "-",
    row.account ? (row.accountName ? `${row.account} ${row.accountName}` : row.account) : "-",
    row.region ?? "-",
    wouldDo(row),
    row.customKeyStore ? `store ${row.customKeyStore}` : shortKey(row.key),
    row.reasons.join(", ") || "-",
    `${row.source.file}#${row.source.index}`,
    row.eventName ?? "-",
    shortActor(row.actor),
  ];
}

/** A row of the table, kept until the end (the table is sorted by severity). */
interface Shown {
  rank: number;
  order: number;
  cells: string[];
}

/** Rank for sorting: findings by severity, then skipped records. */
function rankOf(row: TriageRow): number {
  return row.severity ? severityRank(row.severity) : SEVERITIES.length;
}

function isFull(row: TriageRow | NotKmsRow): row is TriageRow {
  return "incident" in row;
}

/** A string JSON.stringify would write as it is, between quotes (no quote, backslash or control character). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string as JSON: an event id or name is nearly always plain, and quoting it is cheaper than stringify. */
function jsonString(value: string | null): string {
  if (value === null) return "null";
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * A not-KMS row's JSON line. Such rows are most of an export: written by hand (the same text
 * JSON.stringify gives) to keep their cost near the floor's.
 */
function notKmsLine(
  eventId: string | null,
  eventName: string | null,
  fileJson: string,
  index: number,
): string {
  return `{"eventId":${jsonString(eventId)},"eventName":${jsonString(eventName)},"source":{"file":${fileJson},"index":${index}},"skipped":"not-kms"}`;
}

/** A row's JSON line (`fileJson`: its file as JSON). A triage thread writes its rows' lines with it too. */
export function answerLine(row: TriageRow | NotKmsRow, fileJson: string): string {
  if (isFull(row)) return JSON.stringify(row);
  return notKmsLine(row.eventId, row.eventName, fileJson, row.source.index);
}

/** What a run of triage has seen so far: the counts, the table's rows, the key memory. */
interface TriageState {
  counts: Map<string, number>;
  bySeverity: Map<Severity, number>;
  records: number;
  readable: number;
  worst: Severity | undefined;
  shown: Shown[];
  unreadable: string[];
  memory: TriageMemory;
  currentFile: string | undefined;
  /** The current file's name as JSON, written into every not-KMS line of it. */
  fileJson: string;
}

/** The progress bar's part of `SingleBar` (loaded only when a bar is drawn). */
interface Bar {
  start(total: number, value: number, payload: { records: number }): void;
  increment(step: number, payload: { records: number }): void;
  update(value: number, payload: { records: number }): void;
  stop(): void;
}

/**
 * The progress bar, on a terminal only (stderr), whatever stdout is: `triage --json big/ > out.jsonl`
 * shows it too. Its package is loaded only then: a small file starts nothing it does not draw.
 */
async function progressBar(options: TriageOptions, io: Io): Promise<{ bar?: Bar; files: number }> {
  const threshold = options.progressThreshold ?? 5 * 1024 * 1024;
  const size = io.isTty && options.input.size ? await options.input.size() : { files: 0, bytes: 0 };
  if (!io.isTty || size.bytes < threshold) return { files: size.files };
  const { SingleBar } = await import("cli-progress");
  const bar: Bar = new SingleBar({
    stream: io.stderr ?? process.stderr,
    format: "triage [{bar}] {value}/{total} files | {records} records",
    // The terminal check is ours (io.isTty), so the bar draws on the stream it is given.
    noTTYOutput: true,
  });
  bar.start(size.files, 0, { records: 0 });
  return { bar, files: size.files };
}

/** The row of one entry; a record that breaks the reader's assumptions is reported, never fatal. */
function safeRow(entry: RecordEntry, config: Config, memory: TriageMemory): TriageRow | NotKmsRow {
  try {
    return triageEntry(entry, config, memory);
  } catch (error) {
    return {
      ...triageEntry({ file: entry.file, index: entry.index, error: "unreadable record" }, config),
      why: `unreadable record (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}

function noteSeverity(state: TriageState, severity: Severity): void {
  state.bySeverity.set(severity, (state.bySeverity.get(severity) ?? 0) + 1);
  if (!state.worst || severityRank(severity) < severityRank(state.worst)) state.worst = severity;
}

/** `--json` / `--ocsf`: the row goes out at once. */
function writeMachineRow(
  row: TriageRow | NotKmsRow,
  state: TriageState,
  options: TriageOptions,
  io: Io,
): void {
  const finding = isFull(row) && row.severity ? row.severity : undefined;
  if (!options.ocsf) io.out(answerLine(row, state.fileJson));
  else if (finding && isFull(row)) io.out(JSON.stringify(triageOcsf(row, finding)));
  if (finding) noteSeverity(state, finding);
}

/** The table: the row is kept (sorted at the end), or only counted. */
function keepForTable(row: TriageRow | NotKmsRow, state: TriageState, options: TriageOptions): void {
  if (!isFull(row)) {
    if (options.all)
      state.shown.push({ rank: SEVERITIES.length, order: state.records, cells: cells(notKmsRow(row)) });
    return;
  }
  if (row.severity) noteSeverity(state, row.severity);
  if (row.skipped === "unparseable") {
    state.unreadable.push(
      `${row.source.file}${row.source.index >= 0 ? `#${row.source.index}` : ""}: ${row.why}`,
    );
    return;
  }
  if (row.skipped && !options.all) return;
  state.shown.push({ rank: rankOf(row), order: state.records, cells: cells(row) });
}

/** Notes the entry's file: the bar moves when a file is done. */
function enterFile(entry: RecordEntry, state: TriageState, bar: Bar | undefined): void {
  if (entry.file === state.currentFile) return;
  if (bar && state.currentFile !== undefined) bar.increment(1, { records: state.records });
  state.currentFile = entry.file;
  state.fileJson = JSON.stringify(entry.file);
}

/** Counts the row and its file, then writes or keeps it. */
function takeRow(row: TriageRow | NotKmsRow, entry: RecordEntry, state: TriageState, run: Run): void {
  const { options, io, bar } = run;
  enterFile(entry, state, bar);
  if (row.skipped !== "unparseable") state.readable++;
  if (row.skipped) state.counts.set(row.skipped, (state.counts.get(row.skipped) ?? 0) + 1);
  if (options.json || options.ocsf) writeMachineRow(row, state, options, io);
  else keepForTable(row, state, options);
}

/**
 * A record a triage thread answered: counted and its line written, and its row (the line parsed)
 * built only when something needs more than the line: a listener, an OCSF finding, the table.
 */
function takeAnswered(
  entry: RecordEntry,
  answered: NonNullable<RecordEntry["answered"]>,
  state: TriageState,
  run: Run,
): void {
  const { options, io, bar } = run;
  const { line, skipped, severity } = answered;
  const table = !options.json && !options.ocsf;
  const needsRow =
    options.onRow !== undefined ||
    (options.ocsf && severity !== "") ||
    (table && (severity !== "" || skipped === "unparseable" || options.all));
  if (needsRow) {
    const row = JSON.parse(line) as TriageRow | NotKmsRow;
    options.onRow?.(row);
    takeRow(row, entry, state, run);
    return;
  }
  enterFile(entry, state, bar);
  if (skipped !== "unparseable") state.readable++;
  if (skipped) state.counts.set(skipped, (state.counts.get(skipped) ?? 0) + 1);
  if (options.json) io.out(line);
  if (severity) noteSeverity(state, severity as Severity);
}

interface Run {
  options: TriageOptions;
  io: Io;
  bar: Bar | undefined;
}

/** Reads every record of the input and takes its row. */
async function readAll(state: TriageState, run: Run): Promise<void> {
  const { options, io } = run;
  for await (const batch of options.input.records) {
    for (const entry of batch) {
      const answered = entry.answered;
      const row = answered === undefined ? safeRow(entry, options.config, state.memory) : undefined;
      if (row) options.onRow?.(row);
      state.records++;
      if (io.drain && state.records % DRAIN_EVERY === 0) await io.drain();
      if (row) takeRow(row, entry, state, run);
      else if (answered) takeAnswered(entry, answered, state, run);
    }
  }
}

/** The table of findings (or "No findings."), and what was left out to fit the width. */
function printTable(state: TriageState, width: number, io: Io): void {
  if (!state.shown.length) {
    io.out("No findings.");
    return;
  }
  state.shown.sort((a, b) => a.rank - b.rank || a.order - b.order);
  const table = renderTable(
    COLUMNS,
    state.shown.map((r) => r.cells),
    width,
  );
  for (const line of table.lines) io.out(line);
  if (!table.dropped.length) return;
  const note = `(${table.dropped.join(", ")} left out to fit ${width} columns: --json has every field)`;
  for (const line of wrap(note, width)) io.out(line);
}

/** The unreadable records, then one line of counts. */
function printSummary(state: TriageState, width: number, io: Io): void {
  if (state.unreadable.length) {
    io.out("");
    io.out(`Could not read (${state.unreadable.length}):`);
    for (const line of state.unreadable) for (const part of wrap(line, width - 2)) io.out(`  ${part}`);
  }
  const findings = [...state.bySeverity.values()].reduce((a, b) => a + b, 0);
  const sev = [...state.bySeverity.entries()]
    .sort(([a], [b]) => severityRank(a) - severityRank(b))
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  const skipped = [...state.counts.entries()].map(([why, n]) => `${n} ${why}`).join(", ");
  io.out("");
  const line = `${state.records} records: ${findings} findings${sev ? ` (${sev})` : ""}; skipped: ${skipped || "none"}`;
  for (const part of wrap(line, width)) io.out(part);
}

/** The exit code, saying on stderr why nothing was read when nothing was. */
function exitCode(state: TriageState, options: TriageOptions, io: Io): number {
  const { input } = options;
  if (state.readable === 0 && state.records === 0 && input.finished?.()) {
    io.err(
      `kms-responder triage: nothing left to read: ${input.remark?.() ?? "every object was done before"}`,
    );
    return 0;
  }
  if (state.readable === 0) {
    const remark = input.remark?.();
    io.err(
      `kms-responder triage: no record could be read from the ${input.inputs} input${input.inputs === 1 ? "" : "s"} given${remark ? ` (${remark})` : ""}${state.records ? `: ${state.records} unreadable` : ""}`,
    );
    return NOTHING_READ;
  }
  if (options.failOn && state.worst && severityRank(state.worst) <= severityRank(options.failOn)) return 1;
  return 0;
}

/**
 * Runs triage; returns the exit code: 0; 1 when a finding reaches `failOn`; NOTHING_READ (2) when
 * not one record could be read from the inputs (a scheduled `--fail-on` job must not pass on garbage).
 */
export async function runTriage(options: TriageOptions, io: Io): Promise<number> {
  const { bar, files } = await progressBar(options, io);
  const state: TriageState = {
    counts: new Map(),
    bySeverity: new Map(),
    records: 0,
    readable: 0,
    worst: undefined,
    shown: [],
    unreadable: [],
    memory: new Map(),
    currentFile: undefined,
    fileJson: "",
  };
  await readAll(state, { options, io, bar });
  bar?.update(files, { records: state.records });
  bar?.stop();
  if (!options.json && !options.ocsf) {
    const width = options.width ?? terminalWidth();
    printTable(state, width, io);
    printSummary(state, width, io);
  }
  return exitCode(state, options, io);
}

/** A finding's row as an OCSF Detection Finding (the same mapping a sweep of current state uses). */
export function triageOcsf(row: TriageRow, severity: Severity): Record<string, unknown> {
  const time = row.eventTime ? Date.parse(row.eventTime) : Number.NaN;
  return detectionFinding({
    uid: row.eventId ?? `${row.source.file}#${row.source.index}`,
    title: row.incident ?? "finding",
    summary: row.summary ?? row.why ?? "",
    incident: row.incident ?? "unknown",
    severity,
    reasons: row.reasons,
    time: Number.isNaN(time) ? Date.now() : time,
    account: row.account ?? undefined,
    accountName: row.accountName ?? undefined,
    region: row.region ?? undefined,
    keyArn: row.key ?? undefined,
    actor: row.actor ?? undefined,
    eventName: row.eventName ?? undefined,
    remediation: wouldDo(row),
  });
}

/** A not-KMS row in the table's shape (`--all` lists them). */
function notKmsRow(row: NotKmsRow): TriageRow {
  return { ...blankRow(row.source), eventId: row.eventId, eventName: row.eventName, skipped: row.skipped };
}
