/**
 * What a drill scenario is, and the building blocks scenarios are written with. Each incident
 * declares its own scenarios in `functions/<incident>/drill.ts` (gathered by `./gather.ts`);
 * a scenario builds its own piece of the world on the emulator (a
 * key with an alias, grants, policies), performs the attack with the SDK as an attacker would, and
 * returns the CloudTrail-shaped event AWS would deliver for that call, what the responder promises
 * to do about it, and how to read the end state back.
 *
 * Where moto cannot perform a call (its gaps are listed in docs/development.md and in the
 * scenario notes), the event is emitted as AWS would have written it and the report says so.
 */
import {
  CreateAliasCommand,
  type CreateAliasCommandInput,
  CreateGrantCommand,
  CreateKeyCommand,
  type CreateKeyCommandInput,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type GrantOperation,
  KMSClient,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { matchesPattern } from "../../emulator/event-pattern.js";
import { INCIDENTS, type IncidentName } from "../../functions/registry.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { forwardingRules } from "../../functions/shared/forwarding-rules.js";
import { isObject, type JsonObject, str } from "../../functions/shared/json.js";
import { cloudTrailDeletionDate, type EventTarget, eventForKey, readFixture } from "./events.js";

export interface DrillKey {
  arn: string;
  id: string;
  alias: string;
}

export interface DrillWorld {
  /** The SDK client the attacker (and the key admins) use against the emulator: no retries. */
  kms: KMSClient;
  account: string;
  region: string;
  /** Creates a customer managed key with the alias `alias/drill-<name>`. */
  createKey(name: string, input?: CreateKeyCommandInput): Promise<DrillKey>;
  /** A client acting in another account (through an assumed role, as moto models it) and Region. */
  kmsIn(account: string, region: string): Promise<KMSClient>;
  /** The config the handlers run with. */
  config: ConfigInput;
  /** How the drill's SDK clients reach the emulator (for clients of other services). */
  clientConfig: DrillClientConfig;
  /**
   * Delivers an event through the rules to the handler of the rule it matches, as a scenario's
   * event is: an earlier step of a multi-step attack.
   */
  deliver(event: JsonObject): Promise<StepResult>;
  /**
   * Adds a CloudTrail record to the event history of the key it names, which the handlers read
   * through LookupEvents. moto has no LookupEvents: the drill's shim in front of moto answers it
   * from these records, for the keys that have some (emulator/moto-shim.ts).
   */
  addToHistory(event: JsonObject): void;
}

export interface DrillClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/** What came of an earlier step's event. */
export interface StepResult {
  /** The rules whose patterns matched it. */
  rules: IncidentName[];
  /** The handler's outcome, `not-delivered` when no rule matched. */
  outcome: string;
  /** `<type>:<status>` of each action, in order. */
  actions: string[];
  /** The subjects of the notifications it published. */
  subjects: string[];
}

/**
 * The organisation the drill's central responder serves: the emulator's account is the central
 * account; DRILL_MEMBER is a member account whose keys live in DRILL_MEMBER_REGION.
 */
export const DRILL_MEMBER = "222233334444";
export const DRILL_MEMBER_REGION = "eu-west-1";
export const DRILL_ORGANIZATION = {
  id: "o-a1b2c3d4e5",
  regions: ["us-east-1", DRILL_MEMBER_REGION],
  organizationalUnitIds: ["ou-ab12-cdefgh34"],
};

/** A KMS client acting in `account` and `region` on the emulator (moto's AssumeRole acts in the role's account). */
export async function kmsInAccount(
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  },
  account: string,
  region: string,
): Promise<KMSClient> {
  const sts = new STSClient({ ...clientConfig, maxAttempts: 1 });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/KeyAdmin`,
      RoleSessionName: "drill-attacker",
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error("AssumeRole returned no credentials");
  return new KMSClient({
    endpoint: clientConfig.endpoint,
    region,
    maxAttempts: 1,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    },
  });
}

/**
 * Whether the member template forwards the event from a member account: the forwarding rule of
 * the incident (its pattern without the member role's calls), and that the member role's own
 * call is dropped there.
 */
export function forwardedFromMember(incident: { name: IncidentName }, event: JsonObject): Check[] {
  const config = parseConfig({ organization: DRILL_ORGANIZATION }, "config", INCIDENTS);
  const role = `arn:aws:iam::${DRILL_MEMBER}:role/${config.organization?.memberRoleName ?? ""}`;
  const rule = forwardingRules(config, role, INCIDENTS).find((r) => r.incident === incident.name);
  const own = structuredClone(event);
  const detail = detailOf(own);
  detail.userIdentity = {
    type: "AssumedRole",
    sessionContext: { sessionIssuer: { type: "Role", arn: role } },
  };
  const forwarded = rule !== undefined && matchesPattern(rule.pattern, event);
  const ownDropped = rule !== undefined && !matchesPattern(rule.pattern, own);
  return [
    {
      what: "the member account's forwarding rule sends it to the central bus",
      ok: forwarded,
      observed: forwarded ? "pattern matched" : "pattern did not match",
    },
    {
      what: "the same call by the member role is not forwarded (loop prevention)",
      ok: ownDropped,
      observed: ownDropped ? "dropped" : "forwarded",
    },
  ];
}

export interface Check {
  what: string;
  ok: boolean;
  observed: string;
}

export interface Expectation {
  /** The rule whose pattern must match the event; null when no rule may match. */
  rule: IncidentName | null;
  /** The handler's outcome (`remediated`, `already-remediated`, `notified`, `ignored`, ...). */
  outcome?: string;
  /** For `ignored`: why. */
  skipped?: string;
  /** The decision's verdict codes (how the current state compared with the event); none by default. */
  verdicts?: readonly string[];
  /** The actions and their statuses, in order. */
  actions?: ReadonlyArray<{ type: string; status: string }>;
  /** The reported delivery may send no key-changing KMS call (a replay acts on nothing). */
  noChange?: boolean;
  /** The severity the notification's subject starts with; undefined when none may be published. */
  severity?: string;
  /** Text the notification's body must contain (how to undo, what to run). */
  notificationIncludes?: readonly string[];
  /** Text the notification's subject must contain (what it is about, when that is not a key). */
  subjectIncludes?: readonly string[];
}

export interface StagedAttack {
  /** What the attacker did, one line. */
  attack: string;
  /** False when the emulator could not perform the call and only the event is emitted. */
  performed: boolean;
  note?: string;
  fixture: string;
  event: JsonObject;
  /** Deliver the event once before the delivery that is reported (a duplicate delivery). */
  deliverTwice?: boolean;
  /** Run this incident's handler on the event even though no rule delivers it (loop prevention in code). */
  directHandler?: IncidentName;
  expect: Expectation;
  /** Reads the end state back from the emulator. */
  verify(): Promise<Check[]>;
}

/**
 * A sweep scenario: no event, the problem predates the responder; `verify` runs the sweep and says
 * whether it found exactly what was planted. No notification may be published.
 */
export interface StagedSweep {
  sweep: true;
  attack: string;
  performed: boolean;
  note?: string;
  verify(): Promise<Check[]>;
}

export interface Scenario {
  id: string;
  title: string;
  /** What the responder promises, in a few words. */
  promise: string;
  stage(world: DrillWorld): Promise<StagedAttack | StagedSweep>;
}

// ---- reading the end state back ----

async function keyState(kms: KMSClient, key: DrillKey): Promise<string> {
  const out = await kms.send(new DescribeKeyCommand({ KeyId: key.arn }));
  return out.KeyMetadata?.KeyState ?? "unknown";
}

async function grantIds(kms: KMSClient, key: DrillKey): Promise<string[]> {
  const out = await kms.send(new ListGrantsCommand({ KeyId: key.arn }));
  return (out.Grants ?? []).flatMap((g) => (g.GrantId ? [g.GrantId] : []));
}

export async function checkKeyState(kms: KMSClient, key: DrillKey, expected: string): Promise<Check> {
  const state = await keyState(kms, key);
  return {
    what: `key ${key.alias} is ${expected}`,
    ok: state === expected,
    observed: `DescribeKey: ${state}`,
  };
}

export async function checkGrant(
  kms: KMSClient,
  key: DrillKey,
  grantId: string,
  expected: "listed" | "gone",
): Promise<Check> {
  const listed = (await grantIds(kms, key)).includes(grantId);
  return {
    what: `grant ${grantId} is ${expected === "gone" ? "gone from" : "still in"} ListGrants`,
    ok: listed === (expected === "listed"),
    observed: `ListGrants: ${listed ? "listed" : "not listed"}`,
  };
}

export async function checkRotation(kms: KMSClient, key: DrillKey): Promise<Check> {
  const out = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
  return {
    what: "automatic rotation is on",
    ok: out.KeyRotationEnabled === true,
    observed: `GetKeyRotationStatus: ${out.KeyRotationEnabled === true ? "enabled" : "disabled"}`,
  };
}

export async function checkPolicyMentions(
  kms: KMSClient,
  key: DrillKey,
  text: string,
  expected: boolean,
): Promise<Check> {
  const out = await kms.send(new GetKeyPolicyCommand({ KeyId: key.arn, PolicyName: "default" }));
  const has = (out.Policy ?? "").includes(text);
  return {
    what: `key policy ${expected ? "still names" : "no longer names"} ${text}`,
    ok: has === expected,
    observed: `GetKeyPolicy: ${has ? "names it" : "does not name it"}`,
  };
}

// ---- building attacks from the fixtures ----

/**
 * A fixture of an incident: `events/<incident>/<variant>.json`. Incidents are named through their
 * declarations (the registry's), never as text here.
 */
export function fixtureOf(incident: { name: IncidentName }, variant: string): string {
  return `${incident.name}/${variant}`;
}

export function detailOf(event: JsonObject): JsonObject {
  return isObject(event.detail) ? event.detail : event;
}

export function requestOf(event: JsonObject): JsonObject {
  const req = detailOf(event).requestParameters;
  return isObject(req) ? req : {};
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The event the fixture records, for the given key (and grant), and the request it records. */
export function template(fixture: string, target: EventTarget): { event: JsonObject; request: JsonObject } {
  const event = eventForKey(readFixture(fixture), target);
  return { event, request: requestOf(event) };
}

/** Performs the CreateGrant a fixture records, on the real key; returns the real grant id. */
export async function createGrantAsRecorded(
  kms: KMSClient,
  key: DrillKey,
  request: JsonObject,
): Promise<string> {
  const constraints = isObject(request.constraints) ? request.constraints : undefined;
  const subset =
    constraints && isObject(constraints.encryptionContextSubset)
      ? constraints.encryptionContextSubset
      : undefined;
  const out = await kms.send(
    new CreateGrantCommand({
      KeyId: key.arn,
      GranteePrincipal: str(request.granteePrincipal),
      RetiringPrincipal: str(request.retiringPrincipal),
      Operations: strings(request.operations) as GrantOperation[],
      Name: str(request.name),
      Constraints: subset
        ? {
            EncryptionContextSubset: Object.fromEntries(
              Object.entries(subset).map(([k, v]) => [k, String(v)]),
            ),
          }
        : undefined,
    }),
  );
  if (!out.GrantId) throw new Error("CreateGrant returned no grant id");
  return out.GrantId;
}

export function grantScenario(
  id: string,
  title: string,
  promise: string,
  fixture: string,
  who: string,
  outcome: Pick<StagedAttack, "expect" | "deliverTwice" | "directHandler">,
  gone: boolean,
): Scenario {
  return {
    id,
    title,
    promise,
    async stage(world) {
      const key = await world.createKey(id);
      const { request } = template(fixture, { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(world.kms, key, request);
      const { event } = template(fixture, { keyArn: key.arn, grantId });
      return {
        attack: `${who} CreateGrant on ${key.alias} to ${str(request.granteePrincipal)} (${strings(request.operations).join(", ")}) -> grant ${grantId}`,
        performed: true,
        fixture,
        event,
        ...outcome,
        verify: async () => [
          await checkGrant(world.kms, key, grantId, gone ? "gone" : "listed"),
          await checkKeyState(world.kms, key, "Enabled"),
        ],
      };
    },
  };
}

/** A ScheduleKeyDeletion performed on moto, delivered as CloudTrail records it, and the key's end state. */
export function deletionScenario(
  id: string,
  title: string,
  promise: string,
  fixture: string,
  who: string,
  days: number,
  expect: StagedAttack["expect"],
  endState: string,
  note?: string,
): Scenario {
  return {
    id,
    title,
    promise,
    async stage(world) {
      const key = await world.createKey(id);
      const date = await scheduleDeletion(world.kms, key, days);
      const { event } = template(fixture, {
        keyArn: key.arn,
        response: { deletionDate: cloudTrailDeletionDate(date) },
      });
      return {
        attack: `${who} ScheduleKeyDeletion on ${key.alias}, ${days}-day window`,
        performed: true,
        ...(note ? { note } : {}),
        fixture,
        event,
        expect,
        verify: async () => [await checkKeyState(world.kms, key, endState)],
      };
    },
  };
}

/** A policy-setting scenario: the attacker puts the policy the fixture records. */
export function policyScenario(
  id: string,
  title: string,
  promise: string,
  fixture: string,
  marker: string,
  expect: Expectation,
  endState: (world: DrillWorld, key: DrillKey) => Promise<Check[]>,
): Scenario {
  return {
    id,
    title,
    promise,
    async stage(world) {
      const key = await world.createKey(id);
      const { event, request } = template(fixture, { keyArn: key.arn });
      await world.kms.send(
        new PutKeyPolicyCommand({ KeyId: key.arn, PolicyName: "default", Policy: str(request.policy) }),
      );
      return {
        attack: `PutKeyPolicy on ${key.alias} adding a statement for ${marker}`,
        performed: true,
        fixture,
        event,
        expect,
        verify: () => endState(world, key),
      };
    },
  };
}

/** Schedules the key's deletion (moto needs the key id here, not the ARN); returns the real date. */
export async function scheduleDeletion(kms: KMSClient, key: DrillKey, days: number): Promise<Date> {
  const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: days }));
  return out.DeletionDate ?? new Date(Date.now() + days * 86_400_000);
}

/** Creates a key with an alias; `CreateAlias` takes the key id (what the console and CLI pass). */
export async function createDrillKey(
  kms: KMSClient,
  name: string,
  input: CreateKeyCommandInput = {},
): Promise<DrillKey> {
  const out = await kms.send(new CreateKeyCommand({ Description: `kms-responder drill: ${name}`, ...input }));
  const arn = out.KeyMetadata?.Arn;
  const id = out.KeyMetadata?.KeyId;
  if (!arn || !id) throw new Error("CreateKey returned no key ARN");
  const alias: CreateAliasCommandInput["AliasName"] = `alias/drill-${name}-${id.slice(0, 8)}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: id }));
  return { arn, id, alias };
}
