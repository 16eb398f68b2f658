/**
 * Bad input, by property: real records (events/) mutated every way real logs and attackers break
 * them (arbitraries.ts), fed to every incident's decide(), to the triage reader (with random,
 * truncated and half-written files beside good ones) and to the Lambda handlers (aws-sdk-client-mock,
 * with faults sprinkled in). What must hold:
 * - decide() never throws and always returns a well-formed decision;
 * - triage prints exactly one answer per input record, and a broken file costs no other record;
 * - a handler sends no mutating KMS command beyond what decide() planned for that record (nothing
 *   at all for records that are not an incident to act on), never throws anything but
 *   ActionError, and every notification it publishes fits SNS's limits.
 * test/shared/model.test.ts fuzzes normalise() and test/policy/*.property.test.ts the analyser on
 * their own; these tests fuzz the whole path through them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  KMSServiceException,
  ListGrantsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runTriage, type TriageRow, triageEntry } from "../../functions/cli/triage.js";
import { type Config, type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import type { Decision, KeyFacts } from "../../functions/shared/decision.js";
import { type KmsApiCall, normalise, parseKeyArn } from "../../functions/shared/model.js";
import type { HandlerResult } from "../../functions/shared/respond.js";
import { DECIDERS, decideAny } from "../../functions/shared/route.js";
import {
  ACTION_TYPES,
  type ActionType,
  INCIDENTS,
  type IncidentName,
  SEVERITIES,
} from "../../functions/shared/types.js";
import {
  configInput,
  FIXTURES,
  HOSTILE_STRINGS,
  keyFacts,
  type MutatedEvent,
  mutatedEvent,
  POLICY_LONG_KEYS,
} from "./arbitraries.js";

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
  }
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe("every decide() on mutated records", () => {
  it("never throws and returns a well-formed decision (any config, any key facts)", () => {
    fc.assert(
      fc.property(
        mutatedEvent(),
        configInput,
        fc.option(keyFacts, { nil: undefined }),
        (input, cfg, facts) => {
          const config = parseConfig(cfg);
          const call = normalise(input.event);
          if (!call) return;
          for (const incident of INCIDENTS) {
            const decision = DECIDERS[incident](call, config, facts as KeyFacts | undefined);
            expectWellFormed(decision);
          }
          expectWellFormed(decideAny(call, config, facts as KeyFacts | undefined));
          // What the CLI prints for it: never the "decision failed" row, always serialisable.
          const row = triageEntry({ file: "x.json", index: 0, value: input.event }, config);
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
function expectAnswers(spec: FileSpec, rows: TriageRow[]): void {
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
    case "half-written":
      // One unparseable answer for the file, nothing invented from half a document.
      expect(rows).toHaveLength(1);
      expect(unparseable).toHaveLength(1);
      return;
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
      expect(rows.every((r) => r.incident === null)).toBe(true);
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

  it("prints exactly one JSON answer per input record, reports broken files, loses no other record, exits 0", async () => {
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
        const code = await runTriage(
          { paths: [dir], config: parseConfig({}), json: true, all: false, failOn: undefined },
          { out: (l) => out.push(l), err: () => undefined, isTty: false },
        );

        // Assess
        expect(code).toBe(0);
        const rows = out.map((l) => JSON.parse(l) as TriageRow);
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
      }),
      { numRuns: 40 },
    );
  });
});

// --- handlers: never act beyond the decision, never throw anything but ActionError ---

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";
const RESOLVED_ARN = "arn:aws:kms:us-east-1:111122223333:key/0b0b0b0b-1111-4222-8333-444455556666";

/** The mutating command each planned action type sends (runbook-only types never plan here). */
const COMMAND_OF: Partial<Record<ActionType, string>> = {
  "revoke-grant": "RevokeGrantCommand",
  "cancel-key-deletion": "CancelKeyDeletionCommand",
  "enable-key": "EnableKeyCommand",
  "disable-key": "DisableKeyCommand",
  "enable-key-rotation": "EnableKeyRotationCommand",
  "remove-statements": "PutKeyPolicyCommand",
};
const MUTATING = [
  RevokeGrantCommand,
  RetireGrantCommand,
  CreateGrantCommand,
  CancelKeyDeletionCommand,
  ScheduleKeyDeletionCommand,
  EnableKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  DisableKeyRotationCommand,
  PutKeyPolicyCommand,
];

/** The handlers' needsKeyFacts (functions/<incident>/index.ts): only key-material-deleted skips the tags. */
const NEEDS_KEY_FACTS: Record<IncidentName, boolean> = {
  "rogue-grant": true,
  "key-deletion-scheduled": true,
  "key-policy-violation": true,
  "key-disabled": true,
  "key-material-deleted": false,
  "key-rotation-disabled": true,
  "pending-deletion-key-used": true,
};

const ENTRY_POINTS: Record<
  IncidentName,
  () => Promise<{ handler: (event: unknown) => Promise<HandlerResult> }>
> = {
  "rogue-grant": () => import("../../functions/rogue-grant/index.js"),
  "key-deletion-scheduled": () => import("../../functions/key-deletion-scheduled/index.js"),
  "key-policy-violation": () => import("../../functions/key-policy-violation/index.js"),
  "key-disabled": () => import("../../functions/key-disabled/index.js"),
  "key-material-deleted": () => import("../../functions/key-material-deleted/index.js"),
  "key-rotation-disabled": () => import("../../functions/key-rotation-disabled/index.js"),
  "pending-deletion-key-used": () => import("../../functions/pending-deletion-key-used/index.js"),
};

const HANDLER_CONFIGS: readonly ConfigInput[] = [
  {},
  { mode: "notify" },
  {
    afterCancel: "enable",
    onCritical: "remove-statements",
    reenableDisabledKeys: true,
    trustedGranteePrincipals: ["arn:aws:iam::111122223333:role/*"],
    approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"],
    requireMfa: true,
    responderRoleArns: ["arn:aws:iam::111122223333:role/kms-responder-*"],
  },
];

const handlers = new Map<string, (event: unknown) => Promise<HandlerResult>>();

/** A cold start per incident and config, reused across runs (the config is read at import). */
async function handlerFor(incident: IncidentName, configIndex: number) {
  const id = `${incident}#${configIndex}`;
  const cached = handlers.get(id);
  if (cached) return cached;
  vi.resetModules();
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("KMS_RESPONDER_CONFIG", JSON.stringify(HANDLER_CONFIGS[configIndex] ?? {}));
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
  const { handler } = await ENTRY_POINTS[incident]();
  handlers.set(id, handler);
  return handler;
}

/** Which calls fail in a run (an AWS error the handler must survive and report); one in four each. */
const sometimes = fc.constantFrom(false, false, false, true);
const faults = fc.record({
  describeKey: sometimes,
  tags: sometimes,
  action: sometimes,
  history: sometimes,
  publish: sometimes,
});

/** An incident and an event for it: mostly a mutated fixture of that incident, sometimes any fixture. */
const incidentAndEvent = fc.constantFrom(...INCIDENTS).chain((incident) =>
  fc.record({
    incident: fc.constant(incident),
    input: fc.oneof(
      {
        weight: 3,
        arbitrary: mutatedEvent({ envelope: true, from: FIXTURES.filter((f) => f.incident === incident) }),
      },
      { weight: 1, arbitrary: mutatedEvent({ envelope: true }) },
    ),
  }),
);
type Faults = { describeKey: boolean; tags: boolean; action: boolean; history: boolean; publish: boolean };

const awsError = (name: string) =>
  new KMSServiceException({
    name,
    $fault: "client",
    message: `${name}: injected`,
    $metadata: { httpStatusCode: 400 },
  });

function wireMocks(f: Faults, tags: Record<string, string>, state: string): void {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  const denied = () => Promise.reject(awsError("AccessDeniedException"));
  kms.on(DescribeKeyCommand).callsFake(() =>
    f.describeKey
      ? denied()
      : Promise.resolve({
          KeyMetadata: {
            KeyId: parseKeyArn(RESOLVED_ARN)?.keyId,
            Arn: RESOLVED_ARN,
            KeyState: state,
            KeyManager: "CUSTOMER",
          },
        }),
  );
  kms.on(ListResourceTagsCommand).callsFake(() =>
    f.tags
      ? denied()
      : Promise.resolve({
          Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
          Truncated: false,
        }),
  );
  const act = () => (f.action ? denied() : Promise.resolve({}));
  kms.on(RevokeGrantCommand).callsFake(act);
  kms.on(CancelKeyDeletionCommand).callsFake(act);
  kms.on(EnableKeyCommand).callsFake(act);
  kms.on(DisableKeyCommand).callsFake(act);
  kms.on(EnableKeyRotationCommand).callsFake(act);
  kms.on(PutKeyPolicyCommand).callsFake(act);
  kms.on(ListGrantsCommand).resolves({ Grants: [], Truncated: false });
  kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
  kms.on(GetKeyPolicyCommand).resolves({
    Policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:root" },
          Action: "kms:*",
          Resource: "*",
        },
        { Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" },
      ],
    }),
  });
  cloudTrail
    .on(LookupEventsCommand)
    .callsFake(() =>
      f.history ? Promise.reject(new Error("ThrottlingException")) : Promise.resolve({ Events: [] }),
    );
  sns
    .on(PublishCommand)
    .callsFake(() =>
      f.publish ? Promise.reject(new Error("SNS unavailable")) : Promise.resolve({ MessageId: "m-1" }),
    );
}

/**
 * What the handler may do, computed with decide() itself on the normalised record and the facts
 * the mocks give (the pipeline in functions/shared/respond.ts): the planned, unheld actions.
 */
function plannedCommands(
  incident: IncidentName,
  event: unknown,
  config: Config,
  f: Faults,
  tags: Record<string, string>,
): { decision: Decision | undefined; commands: Map<string, number> } {
  const commands = new Map<string, number>();
  const parsed = normalise(event);
  if (!parsed) return { decision: undefined, commands };
  const decide = DECIDERS[incident];
  const first = decide(parsed, config);
  if (first.kind === "ignore") return { decision: first, commands };
  // The key the decision is about (for ReplicateKey the new replica), as the handler resolves it.
  let call: KmsApiCall = first.call;
  if (!call.keyArn && (call.keyId ?? call.keyAlias) && !f.describeKey) {
    call = { ...call, keyArn: RESOLVED_ARN, keyId: parseKeyArn(RESOLVED_ARN)?.keyId };
  }
  const facts: KeyFacts =
    NEEDS_KEY_FACTS[incident] && call.keyArn ? (f.tags ? { lookupError: "x" } : { tags }) : {};
  const decision = decide(call, config, facts);
  if (decision.kind === "finding") {
    for (const action of decision.actions) {
      const command = COMMAND_OF[action.type];
      if (!action.hold && command) commands.set(command, (commands.get(command) ?? 0) + 1);
    }
  }
  return { decision, commands };
}

describe("every handler on mutated events (aws-sdk-client-mock, faults included)", () => {
  beforeEach(() => {
    kms.reset();
    sns.reset();
    cloudTrail.reset();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("sends no mutating command beyond decide()'s plan, throws only ActionError, publishes what SNS accepts", async () => {
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
        fc.constantFrom("Enabled", "Disabled", "PendingDeletion"),
        async ({ incident, input }, configIndex, f, tags, state) => {
          // Prepare
          const handler = await handlerFor(incident, configIndex);
          const config = parseConfig(HANDLER_CONFIGS[configIndex] ?? {});
          wireMocks(f, tags, state);
          const expected = plannedCommands(incident, input.event, config, f, tags);

          // Act
          let thrown: unknown;
          try {
            await handler(input.event);
          } catch (error) {
            thrown = error;
          }

          // Assess: only ActionError escapes (an AWS failure Lambda should retry)...
          if (thrown !== undefined) expect(thrown).toMatchObject({ name: "ActionError" });
          // ...no mutating command the decision did not plan, and never more often than planned...
          for (const command of MUTATING) {
            const sent = kms.calls().filter((c) => c.args[0] instanceof command).length;
            expect(sent, `${command.name} for ${input.origin}`).toBeLessThanOrEqual(
              expected.commands.get(command.name) ?? 0,
            );
          }
          // ...a finding is always notified, once, within SNS's limits; an ignored record never.
          const publishes = sns.commandCalls(PublishCommand);
          expect(publishes).toHaveLength(expected.decision?.kind === "finding" ? 1 : 0);
          for (const p of publishes) {
            const { Subject = "", Message = "" } = p.args[0].input;
            expect(Subject).toMatch(/^[\x20-\x7e]{1,99}$/);
            expect(Buffer.byteLength(Message, "utf8")).toBeLessThanOrEqual(262_144);
          }
          expectNoPollution();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a dangerous policy whose statements carry 100 KB keys is still disabled and notified under SNS's limit", async () => {
    // Prepare: the counterexample that found uncut keys in the notification (functions/shared/notify.ts).
    const handler = await handlerFor("key-policy-violation", 0);
    wireMocks(
      { describeKey: false, tags: false, action: false, history: false, publish: false },
      {},
      "Enabled",
    );
    const event = structuredClone(FIXTURES.find((f) => f.variant === "public-policy")?.event);
    if (!event) throw new Error("events/key-policy-violation/public-policy.json is missing");
    event.detail.requestParameters = { ...event.detail.requestParameters, policy: POLICY_LONG_KEYS };

    // Act
    const result = await handler(event);

    // Assess
    expect(result).toMatchObject({ outcome: "remediated", severity: "critical" });
    const [publish] = sns.commandCalls(PublishCommand);
    expect(Buffer.byteLength(publish?.args[0].input.Message ?? "", "utf8")).toBeLessThanOrEqual(262_144);
  });

  it("fixtures cover every incident (the generator reaches every handler's acting path)", () => {
    const incidents = new Set(FIXTURES.map((f) => f.incident));
    for (const incident of INCIDENTS) expect(incidents).toContain(incident);
  });
});
