/**
 * Bad input, by property: real records (events/) mutated every way real logs and attackers break
 * them (arbitraries.ts), and arbitrary JSON, fed to normalise(), to every incident's decide() with
 * any facts, to the triage reader (with random, truncated and half-written files beside good ones)
 * and to the Lambda entries of every registered incident and of the runbook (aws-sdk-client-mock
 * with the shared fake KMS behind it, faults sprinkled in). What must hold:
 * - normalise() never throws, on any JSON value;
 * - decide() never throws on any normalised event with any facts, and returns a well-formed decision;
 * - triage prints exactly one answer per input record, reports unreadable ones, and a broken file
 *   costs no other record;
 * - a handler returns or throws one of the project's error classes (never a TypeError), sends no
 *   mutating KMS command beyond what decide() planned from the facts it read, and every
 *   notification it publishes fits SNS's limits.
 * test/shared/event.test.ts and test/policy/*.property.test.ts test normalise() and the analyser
 * on their own; these tests fuzz the whole path through them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, type PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  fileInput,
  NOTHING_READ,
  type NotKmsRow,
  runTriage,
  type TriageRow,
  triageEntry,
} from "../../cli/triage.js";
import { INCIDENTS, type RegisteredIncident } from "../../functions/registry.js";
import { ACTION_TYPES } from "../../functions/shared/actions/index.js";
import { type Config, type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import type { Decision, PlannedAction } from "../../functions/shared/decision.js";
import { type DetailParser, normalise } from "../../functions/shared/event.js";
import { readFacts } from "../../functions/shared/facts.js";
import { decideAny } from "../../functions/shared/route.js";
import { ACTION_STATUSES, SEVERITIES } from "../../functions/shared/types.js";
import { FakeKms, KmsError, MUTATING_OPERATIONS } from "../helpers/fake-kms.js";
import {
  configInput,
  FIXTURES,
  HOSTILE_STRINGS,
  hostileObject,
  keyFacts,
  type MutatedEvent,
  mutatedEvent,
  POLICY_LONG_KEYS,
} from "./arbitraries.js";
import { type Handler, loadEntry, seedFromEvent } from "./responders.js";

/** Any one decide() of a mutated record must answer well within this (catches super-linear blow-ups). */

function expectWellFormed(decision: Decision): void {
  expect(["finding", "ignore"]).toContain(decision.kind);
  if (decision.kind === "ignore") {
    expect(typeof decision.skipped).toBe("string");
    return;
  }
  expect(SEVERITIES).toContain(decision.severity);
  expect(Array.isArray(decision.reasons)).toBe(true);
  for (const action of decision.actions) {
    expect(ACTION_TYPES).toContain(action.type);
    expect(typeof action.keyRef).toBe("string");
    if (action.hold) expect(["dry-run", "skipped", "failed"]).toContain(action.hold.status);
  }
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

/** Any JSON value, and JSON shaped like a record whose fields have the wrong types. */
const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.constant(null).map(hostileObject),
  fc.record(
    {
      detail: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
      ),
      "detail-type": fc.jsonValue({ maxDepth: 1 }),
      source: fc.jsonValue({ maxDepth: 1 }),
      eventName: fc.oneof(
        fc.constantFrom("CreateGrant", "ScheduleKeyDeletion", "PutKeyPolicy"),
        fc.jsonValue(),
      ),
      eventSource: fc.oneof(fc.constant("kms.amazonaws.com"), fc.jsonValue({ maxDepth: 1 })),
      eventID: fc.jsonValue({ maxDepth: 1 }),
      eventTime: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.jsonValue({ maxDepth: 1 })),
      userIdentity: fc.jsonValue({ maxDepth: 3 }),
      requestParameters: fc.jsonValue({ maxDepth: 3 }),
      responseElements: fc.jsonValue({ maxDepth: 3 }),
      resources: fc.jsonValue({ maxDepth: 3 }),
      errorCode: fc.jsonValue({ maxDepth: 1 }),
      errorMessage: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  ),
);

describe("normalise() on any JSON", () => {
  it("never throws; answers undefined or an event whose key, if any, is a parsed key ARN", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyJson,
          mutatedEvent().map((m) => m.event),
        ),
        (value) => {
          const event = normalise(value);
          if (event === undefined) return;
          expect(typeof event.detail.kind).toBe("string");
          if (event.key) expect(event.key.arn).toMatch(/^arn:aws[a-z-]*:kms:/);
          expect(() => JSON.stringify(event)).not.toThrow();
          expectNoPollution();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("every decide() on normalised events with any facts", () => {
  it("never throws and returns a well-formed decision (any config, any facts, every incident)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 4, arbitrary: mutatedEvent().map((m) => m.event) },
          { weight: 1, arbitrary: anyJson },
        ),
        configInput,
        fc.option(keyFacts, { nil: undefined }),
        (value, cfg, facts) => {
          const config = parseConfig(cfg);
          const event = normalise(value);
          if (!event) return;
          for (const incident of INCIDENTS) {
            expectWellFormed(incident.decide(event, config, facts ?? {}));
          }
          expectWellFormed(decideAny(INCIDENTS, event, config));
          // What the CLI prints for it: never the "decision failed" row, always serialisable.
          const row = triageEntry({ file: "x.json", index: 0, value }, config);
          expect(row.skipped).not.toBe("error");
          expect(() => JSON.stringify(row)).not.toThrow();
          expectNoPollution();
        },
      ),
      { numRuns: 300 },
    );
  });
});

// --- triage: every input record answered once, broken files reported and skipped ---

type FileSpec =
  | { kind: "log"; gzip: boolean; records: unknown[] }
  | { kind: "array"; records: unknown[] }
  | { kind: "lines"; lines: Array<{ record: unknown } | { broken: string }>; crlf: boolean }
  | { kind: "half-written"; records: unknown[]; cut: number }
  | { kind: "truncated-gzip"; lines: boolean; records: unknown[]; cut: number }
  | { kind: "random"; bytes: Uint8Array };

const record = mutatedEvent({ max: 2 }).map((m: MutatedEvent) => m.event);
const records = fc.array(record, { maxLength: 6 });
/** A line that is not a whole JSON document: a half-written record, or junk. */
const brokenLine = fc.oneof(
  record.chain((r) => {
    const text = JSON.stringify(r);
    return fc.integer({ min: 1, max: Math.max(1, text.length - 1) }).map((n) => text.slice(0, n));
  }),
  fc.string({ minLength: 1 }).filter((s) => !s.includes("\n") && s.trim() !== ""),
  fc.constantFrom(...HOSTILE_STRINGS.filter((s) => !s.includes("\n") && s.trim() !== "")),
);

const fileSpec: fc.Arbitrary<FileSpec> = fc.oneof(
  fc.record({ kind: fc.constant("log" as const), gzip: fc.boolean(), records }),
  fc.record({ kind: fc.constant("array" as const), records }),
  fc.record({
    kind: fc.constant("lines" as const),
    // At least one whole record, so the file reads as JSON lines (the reader's own rule).
    lines: fc
      .tuple(
        record.map((r) => ({ record: r })),
        fc.array(
          fc.oneof(
            record.map((r) => ({ record: r })),
            brokenLine.map((b) => ({ broken: b })),
          ),
          {
            maxLength: 6,
          },
        ),
        fc.nat(),
      )
      .map(([first, rest, at]) => {
        const lines = [...rest];
        lines.splice(at % (lines.length + 1), 0, first);
        return lines;
      }),
    crlf: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("half-written" as const),
    records: fc.array(record, { minLength: 1, maxLength: 4 }),
    cut: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("truncated-gzip" as const),
    lines: fc.boolean(),
    records: fc.array(record, { minLength: 1, maxLength: 4 }),
    cut: fc.nat(),
  }),
  fc.record({ kind: fc.constant("random" as const), bytes: fc.uint8Array({ maxLength: 2_000 }) }),
);

function writeSpec(file: string, spec: FileSpec): void {
  switch (spec.kind) {
    case "log": {
      const text = JSON.stringify({ Records: spec.records });
      writeFileSync(file, spec.gzip ? gzipSync(text) : text);
      return;
    }
    case "array":
      writeFileSync(file, JSON.stringify(spec.records));
      return;
    case "lines": {
      const eol = spec.crlf ? "\r\n" : "\n";
      writeFileSync(
        file,
        spec.lines.map((l) => ("record" in l ? JSON.stringify(l.record) : l.broken)).join(eol) + eol,
      );
      return;
    }
    case "half-written": {
      const text = JSON.stringify({ Records: spec.records });
      writeFileSync(file, text.slice(0, spec.cut % text.length));
      return;
    }
    case "truncated-gzip": {
      const text = spec.lines
        ? spec.records.map((r) => JSON.stringify(r)).join("\n")
        : JSON.stringify({ Records: spec.records });
      const gz = gzipSync(text);
      writeFileSync(file, gz.subarray(0, spec.cut % gz.length));
      return;
    }
    case "random":
      // A NUL first: random bytes must not happen to spell "[]" (a valid, empty document).
      writeFileSync(file, Buffer.concat([Buffer.from([0]), spec.bytes]));
      return;
  }
}

function extensionOf(spec: FileSpec): string {
  if (spec.kind === "log") return spec.gzip ? ".json.gz" : ".json";
  if (spec.kind === "truncated-gzip") return ".json.gz";
  if (spec.kind === "lines") return ".jsonl";
  return ".json";
}

/** Checks one file's answers against what it holds. */
/** A JSON line of triage: a full row, or the compact line of another service's record. */
type Row = TriageRow | NotKmsRow;

function expectAnswers(spec: FileSpec, rows: Row[]): void {
  const indexes = rows.map((r) => r.source.index);
  const unparseable = rows.filter((r) => r.skipped === "unparseable");
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
  switch (spec.kind) {
    case "log":
    case "array":
      // Exactly one answer per record, in order.
      expect(indexes).toEqual(upTo(spec.records.length));
      return;
    case "lines": {
      // Exactly one answer per non-blank line, the broken ones as unparseable.
      expect(indexes).toEqual(upTo(spec.lines.length));
      spec.lines.forEach((l, i) => {
        if ("broken" in l && !isJson(l.broken)) expect(rows[i]?.skipped).toBe("unparseable");
      });
      return;
    }
    case "half-written": {
      // The log-file parser hands over each complete record (a prefix of the file's, in order) and
      // one unparseable answer for the cut: nothing invented from half a record.
      // The last answer is the cut (the file's, or its first record's when no record was reached).
      // Every answer before it is a whole record at its own index, in order; a whole record may
      // itself be unparseable (an envelope without its record).
      const whole = rows.slice(0, -1);
      expect(whole.map((r) => r.source.index)).toEqual(upTo(whole.length));
      // A cut after the last record's closing brace leaves every record whole.
      expect(whole.length).toBeLessThanOrEqual(spec.records.length);
      expect(rows.at(-1)?.skipped).toBe("unparseable");
      return;
    }
    case "truncated-gzip": {
      // Salvaged records are a prefix of the file's, in order, then the damage is reported. A
      // salvaged record may itself be unparseable (an envelope whose detail is null is no record).
      const positions = rows.filter((r) => r.source.index >= 0).map((r) => r.source.index);
      expect(positions).toEqual(upTo(positions.length));
      expect(positions.length).toBeLessThanOrEqual(spec.records.length);
      expect(unparseable.length).toBeGreaterThanOrEqual(1);
      expect(rows.length).toBeLessThanOrEqual(spec.records.length + 2);
      return;
    }
    case "random":
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows.every((r) => r.skipped === "unparseable")).toBe(true);
      return;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("triage over random, truncated and half-written files beside good ones", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("prints exactly one JSON answer per input record, reports unreadable records and broken files, loses no other record, exits 0", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fileSpec, { minLength: 1, maxLength: 6 }), async (specs) => {
        // Prepare
        const dir = mkdtempSync(path.join(tmpdir(), "kms-responder-triage-"));
        dirs.push(dir);
        const files = specs.map((spec, i) => {
          const file = path.join(dir, `f${String(i).padStart(2, "0")}${extensionOf(spec)}`);
          writeSpec(file, spec);
          return file;
        });
        const out: string[] = [];

        // Act
        const errors: string[] = [];
        const code = await runTriage(
          { input: fileInput([dir]), config: parseConfig({}), json: true, all: false, failOn: undefined },
          { out: (l) => out.push(l), err: (l) => errors.push(l), isTty: false },
        );

        // Assess: never aborted; exit 0 unless not one record could be read (then 2, and said so).
        const rows = out.map((l) => JSON.parse(l) as Row);
        const readable = rows.filter((r) => r.skipped !== "unparseable");
        expect(code).toBe(readable.length ? 0 : NOTHING_READ);
        if (!readable.length) expect(errors.join("\n")).toMatch(/no record could be read/);
        expect(rows.every((r) => files.includes(r.source.file))).toBe(true);
        files.forEach((file, i) => {
          const spec = specs[i];
          if (spec)
            expectAnswers(
              spec,
              rows.filter((r) => r.source.file === file),
            );
        });
        expect(rows.every((r) => r.skipped !== "error")).toBe(true);
        // An unreadable record is reported with why, never silently.
        for (const r of rows) if (r.skipped === "unparseable" && "why" in r) expect(r.why).toBeTruthy();
      }),
      { numRuns: 40 },
    );
  });
});

// --- handlers: never act beyond the decision, never throw anything but the project's errors ---

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** Where the cold-started handlers run: AWS_REGION and the topic's account. */
const RESPONDER = { region: "us-east-1", account: "111122223333" };

const HANDLER_CONFIGS: readonly ConfigInput[] = [
  { mode: "enforce" },
  { mode: "notify" },
  {
    mode: "enforce",
    afterCancel: "enable",
    onCritical: "remove-statements",
    reenableDisabledKeys: true,
    trustedGranteePrincipals: ["arn:aws:iam::111122223333:role/*"],
    approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"],
    requireMfa: true,
    responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole"],
  },
];

type Entry = Awaited<ReturnType<typeof loadEntry>>;
const entries = new Map<string, Entry>();

/** A cold start per incident and config, reused across runs (the config is read at import). */
async function entryFor(incident: RegisteredIncident, configIndex: number): Promise<Entry> {
  const id = `${incident.name}#${configIndex}`;
  const cached = entries.get(id);
  if (cached) return cached;
  const entry = await loadEntry(incident, HANDLER_CONFIGS[configIndex] ?? {});
  entries.set(id, entry);
  return entry;
}

/** Which calls fail in a run (an AWS error the handler must survive and report); one in four each. */
const sometimes = fc.constantFrom(false, false, false, true);
const faults = fc.record({
  describeKey: sometimes,
  tags: sometimes,
  grant: sometimes,
  policy: sometimes,
  action: sometimes,
  history: sometimes,
  publish: sometimes,
});
type Faults = {
  [K in "describeKey" | "tags" | "grant" | "policy" | "action" | "history" | "publish"]: boolean;
};

/** An incident of the registry and an event for it: mostly a mutated fixture of its own, sometimes any. */
const incidentAndEvent = fc.constantFrom(...INCIDENTS).chain((incident) =>
  fc.record({
    incident: fc.constant(incident),
    input: fc.oneof(
      {
        weight: 3,
        arbitrary: mutatedEvent({
          envelope: true,
          from: FIXTURES.filter((f) => f.incident === incident.name),
        }),
      },
      { weight: 1, arbitrary: mutatedEvent({ envelope: true }) },
    ),
  }),
);

/**
 * The shared fake KMS behind the mocks, holding the key the (mutated) event names, as the event
 * claims it, then in the state and with the tags the run draws; the chosen calls fail.
 */
function wireFake(event: unknown, f: Faults, tags: Record<string, string>, state: string): FakeKms {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  const fake = new FakeKms().wire(kms, cloudTrail);
  let key: ReturnType<typeof seedFromEvent>;
  try {
    key = seedFromEvent(fake, event);
  } catch {
    // The mutated event names a key the fake cannot hold (a mangled ARN): every call finds no key.
    key = undefined;
  }
  if (key) {
    Object.assign(key.tags, tags);
    if (state !== "as-claimed") key.state = state as typeof key.state;
  }
  const denied = () => new KmsError("AccessDeniedException", "injected: not authorized");
  if (f.describeKey) fake.fail("DescribeKey", denied);
  if (f.tags) fake.fail("ListResourceTags", denied);
  if (f.grant) fake.fail("ListGrants", () => new KmsError("ThrottlingException", "injected: Rate exceeded"));
  if (f.policy) fake.fail("GetKeyPolicy", denied);
  if (f.history)
    fake.fail("LookupEvents", () => new KmsError("ThrottlingException", "injected: Rate exceeded"));
  if (f.action) for (const operation of MUTATING_OPERATIONS) fake.fail(operation, denied);
  sns
    .on(PublishCommand)
    .callsFake(() =>
      f.publish ? Promise.reject(new Error("SNS unavailable")) : Promise.resolve({ MessageId: "m-1" }),
    );
  return fake;
}

/**
 * What the handler may do: the pipeline's own steps (functions/shared/pipeline.ts) on the same
 * fake, before the handler runs (reads change nothing): decide on the event, read what the
 * incident declares, decide again with those facts. Returns the decision and the mutating
 * operations its unheld actions may send (each executor's mutating permission), with counts.
 */
async function plannedOperations(
  incident: RegisteredIncident,
  raw: unknown,
  config: Config,
  fake: FakeKms,
): Promise<{ decision: Decision | undefined; operations: Map<string, number> }> {
  const operations = new Map<string, number>();
  // As the handler normalises: with the incident's own event-detail parsers.
  const own = incident as { details?: readonly DetailParser[]; remembers?: readonly string[] };
  const event = normalise(raw, own.details);
  if (!event) return { decision: undefined, operations };
  const first = incident.decide(event, config, {});
  if (first.kind === "ignore") return { decision: first, operations };
  const grantId = first.actions.find((a) => a.type === "revoke-grant")?.grantId;
  const reachable =
    !first.key || (first.key.account === RESPONDER.account && first.key.region === RESPONDER.region);
  const client = new KMSClient({ region: RESPONDER.region });
  const { key, facts } = await readFacts(client, {
    names: reachable ? incident.reads(config) : [],
    key: first.key,
    keyHint: first.key ? undefined : event.keyHint,
    ...(grantId && { grantId }),
    ...(event.eventTime && { eventTime: event.eventTime }),
    ...("history" in incident && { history: incident.history }),
    ...(own.remembers && { remember: own.remembers }),
    ...(own.details && { parsers: own.details }),
  });
  // The reads above are the pipeline's, not the handler's: they must not count as its calls.
  fake.log.length = 0;
  const resolved = !event.key && key ? { ...event, key } : event;
  const decision = incident.decide(resolved, config, { ...facts, responder: RESPONDER });
  if (decision.kind === "finding") countMutating(incident, decision.actions, operations);
  return { decision, operations };
}

/** Counts, per mutating operation, how often the unheld actions' executors may send it. */
function countMutating(
  incident: RegisteredIncident,
  actions: readonly PlannedAction[],
  operations: Map<string, number>,
): void {
  for (const action of actions) {
    if (action.hold) continue;
    const executor = incident.executors.find((e) => e.type === action.type);
    for (const p of executor?.permissions ?? []) {
      const operation = p.replace(/^kms:/, "");
      if (MUTATING_OPERATIONS.has(operation)) operations.set(operation, (operations.get(operation) ?? 0) + 1);
    }
  }
}

/** Each published subject is printable ASCII of 1-99 characters, each message at most 256 KB. */
function expectWithinSnsLimits(publishes: ReadonlyArray<{ args: [{ input: PublishCommandInput }] }>): void {
  for (const p of publishes) {
    const { Subject = "", Message = "" } = p.args[0].input;
    expect(Subject).toMatch(/^[\x20-\x7e]{1,99}$/);
    expect(Buffer.byteLength(Message, "utf8")).toBeLessThanOrEqual(262_144);
  }
}

/** Runs the handler, keeping what it returned or threw. */
async function invoke(
  handler: Handler,
  event: unknown,
): Promise<{ result: Awaited<ReturnType<Handler>> | undefined; thrown: unknown }> {
  try {
    return { result: await handler(event), thrown: undefined };
  } catch (error) {
    return { result: undefined, thrown: error };
  }
}

describe("every registered handler on mutated events (the shared fake KMS behind the mocks, faults included)", () => {
  beforeEach(() => {
    kms.reset();
    sns.reset();
    cloudTrail.reset();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("returns or throws a project error (never a TypeError), sends no mutating call beyond decide()'s plan, publishes what SNS accepts", async () => {
    await fc.assert(
      fc.asyncProperty(
        incidentAndEvent,
        fc.nat({ max: HANDLER_CONFIGS.length - 1 }),
        faults,
        fc.constantFrom<Record<string, string>>(
          {},
          { "kms-responder:exempt": "yes" },
          { "kms-responder:protected": "" },
        ),
        fc.constantFrom("as-claimed", "Enabled", "Disabled", "PendingDeletion"),
        async ({ incident, input }, configIndex, f, tags, state) => {
          // Prepare
          const { handler, KmsResponderError } = await entryFor(incident, configIndex);
          const config = parseConfig(HANDLER_CONFIGS[configIndex] ?? {});
          const fake = wireFake(input.event, f, tags, state);
          const expected = await plannedOperations(incident, input.event, config, fake);

          // Act
          const { result, thrown } = await invoke(handler, input.event);

          // Assess: only the project's errors escape (an AWS failure Lambda should retry)...
          if (thrown !== undefined) {
            expect(thrown, `${input.origin}: ${String(thrown)}`).toBeInstanceOf(KmsResponderError);
            expect(thrown).toMatchObject({ name: "ActionError" });
          }
          if (result) for (const a of result.actions ?? []) expect(ACTION_STATUSES).toContain(a.status);
          // ...no mutating call the decision did not plan, and never more often than planned...
          for (const operation of MUTATING_OPERATIONS) {
            const sent = fake.sent(operation).length;
            expect(sent, `${operation} for ${input.origin}`).toBeLessThanOrEqual(
              expected.operations.get(operation) ?? 0,
            );
          }
          // ...a finding is always notified, once, within SNS's limits; an ignored record never.
          const publishes = sns.commandCalls(PublishCommand);
          expect(publishes).toHaveLength(expected.decision?.kind === "finding" ? 1 : 0);
          expectWithinSnsLimits(publishes);
          expectNoPollution();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a dangerous policy whose statements carry 100 KB keys is still disabled and notified under SNS's limit", async () => {
    // Prepare: the counterexample that found uncut keys in the notification (functions/shared/notify.ts).
    const source = FIXTURES.find((f) => f.path.endsWith("/public-policy.json"));
    if (!source) throw new Error("the public-policy fixture is missing");
    const event = structuredClone(source.event);
    event.detail.requestParameters = { ...event.detail.requestParameters, policy: POLICY_LONG_KEYS };
    const incident = INCIDENTS.find((i) => i.name === source.incident);
    if (!incident) throw new Error(`no incident ${source.incident}`);
    const { handler } = await entryFor(incident, 0);
    const fake = wireFake(
      event,
      {
        describeKey: false,
        tags: false,
        grant: false,
        policy: false,
        action: false,
        history: false,
        publish: false,
      },
      {},
      "as-claimed",
    );

    // Act
    const result = await handler(event);

    // Assess
    expect(result).toMatchObject({ outcome: "remediated", severity: "critical" });
    expect(fake.mutations()).toEqual(["DisableKey"]);
    const [publish] = sns.commandCalls(PublishCommand);
    expect(Buffer.byteLength(publish?.args[0].input.Message ?? "", "utf8")).toBeLessThanOrEqual(262_144);
  });

  it("fixtures cover every registered incident (the generator reaches every handler's acting path)", () => {
    const incidents = new Set(FIXTURES.map((f) => f.incident));
    for (const incident of INCIDENTS) expect(incidents).toContain(incident.name);
  });
});

// --- the runbook entry: any payload ---

/** Payloads: valid ones, each field dropped, retyped or made hostile, and any JSON at all. */
const VALID_PAYLOAD = {
  action: "cancel-key-deletion",
  keyId: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  reason: "deletion scheduled by mistake",
  statedBy: "alice",
  ticket: "INC-4711",
};
const payload = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        action: fc.constantFrom(
          "revoke-grant",
          "revoke-grantee-grants",
          "disable-key",
          "enable-key",
          "cancel-key-deletion",
          "enable-key-rotation",
          "analyze-key-policy",
        ),
        mutations: fc.array(
          fc.record({
            field: fc.constantFrom(
              "action",
              "keyId",
              "grantId",
              "granteePrincipal",
              "dryRun",
              "reason",
              "statedBy",
              "requestedBy",
              "ticket",
              "automationExecutionId",
              "__proto__",
              "extra",
            ),
            value: fc.oneof(
              fc.constantFrom(...HOSTILE_STRINGS),
              fc.jsonValue({ maxDepth: 1 }),
              fc.constant(undefined),
            ),
          }),
          { maxLength: 3 },
        ),
      })
      .map(({ action, mutations }) => {
        const p: Record<string, unknown> = { ...VALID_PAYLOAD, action };
        if (action === "revoke-grant")
          p.grantId = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
        if (action === "revoke-grantee-grants") p.granteePrincipal = "arn:aws:iam::444455556666:role/x";
        for (const m of mutations) {
          if (m.value === undefined) delete p[m.field];
          else
            Object.defineProperty(p, m.field, {
              value: m.value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
        }
        return p as unknown;
      }),
  },
  { weight: 1, arbitrary: anyJson },
);

describe("the runbook entry on any payload", () => {
  let entry: { handler: (event: unknown) => Promise<unknown>; KmsResponderError: Entry["KmsResponderError"] };
  beforeEach(async () => {
    if (entry) return;
    vi.resetModules();
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
    vi.stubEnv("KMS_RESPONDER_CONFIG", "{}");
    vi.stubEnv("NOTIFICATION_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications");
    const { handler } = await import("../../functions/runbook/index.js");
    const { KmsResponderError } = await import("../../functions/shared/errors.js");
    entry = { handler, KmsResponderError };
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("returns or throws a project error (never a TypeError); a payload it refuses makes no AWS call", async () => {
    await fc.assert(
      fc.asyncProperty(payload, sometimes, async (value, failing) => {
        // Prepare
        kms.reset();
        sns.reset();
        cloudTrail.reset();
        const fake = new FakeKms().wire(kms, cloudTrail);
        fake.addKey({ arn: VALID_PAYLOAD.keyId, state: "PendingDeletion" });
        if (failing)
          fake.fail("CancelKeyDeletion", () => new KmsError("KMSInternalException", "injected", 500));
        sns.on(PublishCommand).resolves({ MessageId: "m-1" });

        // Act
        let thrown: unknown;
        try {
          await entry.handler(value);
        } catch (error) {
          thrown = error;
        }

        // Assess
        if (thrown === undefined) return;
        expect(thrown, String(thrown)).toBeInstanceOf(entry.KmsResponderError);
        if ((thrown as Error).name === "PayloadError") {
          expect(kms.calls()).toHaveLength(0);
          expect(sns.calls()).toHaveLength(0);
        }
        expectNoPollution();
      }),
      { numRuns: 150 },
    );
  });
});
