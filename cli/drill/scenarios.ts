/**
 * The drill's scenarios. Each builds its own piece of the world on the emulator (a key with an
 * alias, grants, policies), performs the attack with the SDK as an attacker would, and returns
 * the CloudTrail-shaped event AWS would deliver for that call, what the responder promises to do
 * about it, and how to read the end state back.
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
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type GrantOperation,
  KMSClient,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-kms";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { matchesPattern } from "../../emulator/event-pattern.js";
import { aliasChanged } from "../../functions/alias-changed/incident.js";
import { keyDeletionScheduled } from "../../functions/key-deletion-scheduled/incident.js";
import { keyMaterialDeleted } from "../../functions/key-material-deleted/incident.js";
import { keyMaterialExpiring } from "../../functions/key-material-expiring/incident.js";
import { keyPolicyViolation } from "../../functions/key-policy-violation/incident.js";
import { keyRotationDisabled } from "../../functions/key-rotation-disabled/incident.js";
import { pendingDeletionKeyUsed } from "../../functions/pending-deletion-key-used/incident.js";
import { INCIDENTS, type IncidentName } from "../../functions/registry.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import { parseConfig } from "../../functions/shared/config.js";
import { describeError } from "../../functions/shared/errors.js";
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
function forwardedFromMember(incident: { name: IncidentName }, event: JsonObject): Check[] {
  const config = parseConfig({ organization: DRILL_ORGANIZATION });
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

export interface Scenario {
  id: string;
  title: string;
  /** What the responder promises, in a few words. */
  promise: string;
  stage(world: DrillWorld): Promise<StagedAttack>;
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

async function checkRotation(kms: KMSClient, key: DrillKey): Promise<Check> {
  const out = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
  return {
    what: "automatic rotation is on",
    ok: out.KeyRotationEnabled === true,
    observed: `GetKeyRotationStatus: ${out.KeyRotationEnabled === true ? "enabled" : "disabled"}`,
  };
}

async function checkPolicyMentions(
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
function fixtureOf(incident: { name: IncidentName }, variant: string): string {
  return `${incident.name}/${variant}`;
}

function detailOf(event: JsonObject): JsonObject {
  return isObject(event.detail) ? event.detail : event;
}

function requestOf(event: JsonObject): JsonObject {
  const req = detailOf(event).requestParameters;
  return isObject(req) ? req : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The event the fixture records, for the given key (and grant), and the request it records. */
function template(fixture: string, target: EventTarget): { event: JsonObject; request: JsonObject } {
  const event = eventForKey(readFixture(fixture), target);
  return { event, request: requestOf(event) };
}

/** Performs the CreateGrant a fixture records, on the real key; returns the real grant id. */
async function createGrantAsRecorded(kms: KMSClient, key: DrillKey, request: JsonObject): Promise<string> {
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

function grantScenario(
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
function deletionScenario(
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

const revoked = (severity: string) => ({
  expect: {
    rule: rogueGrant.name,
    outcome: "remediated",
    actions: [{ type: "revoke-grant", status: "succeeded" }],
    severity,
  },
});

/** A policy-setting scenario: the attacker puts the policy the fixture records. */
function policyScenario(
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
async function scheduleDeletion(kms: KMSClient, key: DrillKey, days: number): Promise<Date> {
  const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: days }));
  return out.DeletionDate ?? new Date(Date.now() + days * 86_400_000);
}

export const SCENARIOS: readonly Scenario[] = [
  grantScenario(
    "external-grant",
    "Grant to another account",
    "grant revoked",
    fixtureOf(rogueGrant, "external-grantee"),
    "mallory (IAM user)",
    revoked("CRITICAL"),
    true,
  ),
  grantScenario(
    "delegation-grant",
    "Grant that lets the grantee re-delegate (CreateGrant)",
    "grant revoked",
    fixtureOf(rogueGrant, "delegation"),
    "Developer role",
    revoked("HIGH"),
    true,
  ),
  grantScenario(
    "aws-service-grant",
    "Grant DynamoDB creates for a table (control)",
    "not delivered: the rule leaves AWS service grantees out (the handler trusts them too)",
    fixtureOf(rogueGrant, "dynamodb-service"),
    "dynamodb.amazonaws.com on behalf of the Admin role",
    {
      expect: { rule: null, outcome: "ignored", skipped: "trusted-grant" },
      directHandler: rogueGrant.name,
    },
    false,
  ),
  deletionScenario(
    "unapproved-deletion",
    "Key deletion scheduled by a principal that is not approved",
    "deletion cancelled, key Enabled",
    fixtureOf(keyDeletionScheduled, "unapproved"),
    "mallory (IAM user)",
    7,
    {
      rule: keyDeletionScheduled.name,
      outcome: "remediated",
      actions: [
        { type: "cancel-key-deletion", status: "succeeded" },
        { type: "enable-key", status: "succeeded" },
      ],
      severity: "CRITICAL",
    },
    "Enabled",
    "moto has no CloudTrail LookupEvents: the key's prior state cannot be read, so it is re-enabled (the notification says so)",
  ),
  deletionScenario(
    "approved-deletion",
    "Key deletion scheduled by the approved KeyAdmin role with MFA (control)",
    "no action: approved deletion, notified",
    fixtureOf(keyDeletionScheduled, "approved"),
    "KeyAdmin role (MFA)",
    30,
    { rule: keyDeletionScheduled.name, outcome: "notified", actions: [], severity: "MEDIUM" },
    "PendingDeletion",
  ),
  policyScenario(
    "public-policy",
    "Key policy that allows Decrypt to everyone (Principal AWS: *)",
    "key disabled",
    fixtureOf(keyPolicyViolation, "public-policy"),
    'Principal {"AWS":"*"}',
    {
      rule: keyPolicyViolation.name,
      outcome: "remediated",
      actions: [{ type: "disable-key", status: "succeeded" }],
      severity: "CRITICAL",
    },
    async (world, key) => [await checkKeyState(world.kms, key, "Disabled")],
  ),
  policyScenario(
    "cross-account-policy",
    "Key policy that lets an untrusted account decrypt",
    "key disabled (critical: cryptographic use by an untrusted account), policy left as it is",
    fixtureOf(keyPolicyViolation, "cross-account"),
    "account 444455556666",
    {
      rule: keyPolicyViolation.name,
      outcome: "remediated",
      actions: [{ type: "disable-key", status: "succeeded" }],
      severity: "CRITICAL",
    },
    async (world, key) => [
      await checkKeyState(world.kms, key, "Disabled"),
      // Disabling is the default onCritical: the statement stays for the key's owner to fix.
      await checkPolicyMentions(world.kms, key, "444455556666", true),
    ],
  ),
  {
    id: "rotation-disabled",
    title: "Automatic key rotation switched off",
    promise: "rotation re-enabled",
    async stage(world) {
      const key = await world.createKey("rotation-disabled");
      await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
      await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
      const fixture = fixtureOf(keyRotationDisabled, "disable-rotation");
      return {
        attack: `mallory (IAM user) DisableKeyRotation on ${key.alias}`,
        performed: true,
        fixture,
        event: template(fixture, { keyArn: key.arn }).event,
        expect: {
          rule: keyRotationDisabled.name,
          outcome: "remediated",
          actions: [{ type: "enable-key-rotation", status: "succeeded" }],
          severity: "MEDIUM",
        },
        verify: async () => [await checkRotation(world.kms, key)],
      };
    },
  },
  {
    id: keyMaterialDeleted.name,
    title: "Imported key material deleted",
    promise: "notified: critical, nothing can undo it",
    async stage(world) {
      const key = await world.createKey(keyMaterialDeleted.name, { Origin: "EXTERNAL" });
      let performed = true;
      let note: string | undefined;
      try {
        await world.kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.id }));
      } catch (error) {
        performed = false;
        note = `moto cannot perform DeleteImportedKeyMaterial (${describeError(error)}): the event is emitted only`;
      }
      const fixture = fixtureOf(keyMaterialDeleted, "delete-imported");
      return {
        attack: `alice (IAM user) DeleteImportedKeyMaterial on ${key.alias} (Origin EXTERNAL)`,
        performed,
        ...(note ? { note } : {}),
        fixture,
        event: template(fixture, { keyArn: key.arn }).event,
        expect: { rule: keyMaterialDeleted.name, outcome: "notified", actions: [], severity: "CRITICAL" },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
  {
    id: keyMaterialExpiring.name,
    title: "Key material imported with an expiry date",
    promise: "notified: high, with the date the key stops working",
    async stage(world) {
      const key = await world.createKey(keyMaterialExpiring.name, { Origin: "EXTERNAL" });
      const fixture = fixtureOf(keyMaterialExpiring, "expires-soon");
      const { event, request } = template(fixture, { keyArn: key.arn });
      // A re-import of the key's own material with a new expiry: the expiry alone is this
      // scenario's incident (new material also reaches key-material-imported's rule).
      request.importType = "EXISTING_KEY_MATERIAL";
      return {
        attack: `alice (IAM user) ImportKeyMaterial (EXISTING_KEY_MATERIAL) with ValidTo on ${key.alias} (Origin EXTERNAL)`,
        // moto cannot import key material: the event is emitted only.
        performed: false,
        note: "moto does not implement ImportKeyMaterial: the event is emitted only",
        fixture,
        event,
        expect: { rule: keyMaterialExpiring.name, outcome: "notified", actions: [], severity: "HIGH" },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
  {
    id: aliasChanged.name,
    title: "An alias is pointed at another key",
    promise: "notified: medium, nothing changed (an alias change is often a deployment)",
    async stage(world) {
      const key = await world.createKey(aliasChanged.name);
      const other = await world.createKey(`${aliasChanged.name}-other`);
      await world.kms.send(new UpdateAliasCommand({ AliasName: key.alias, TargetKeyId: other.id }));
      const fixture = fixtureOf(aliasChanged, "update-alias");
      return {
        attack: `the Deployer role UpdateAlias ${key.alias} -> ${other.alias}`,
        performed: true,
        fixture,
        event: template(fixture, {
          keyArn: other.arn,
          request: { aliasName: key.alias, targetKeyId: other.id },
        }).event,
        expect: { rule: aliasChanged.name, outcome: "notified", actions: [], severity: "MEDIUM" },
        verify: async () => [await checkKeyState(world.kms, other, "Enabled")],
      };
    },
  },
  {
    id: pendingDeletionKeyUsed.name,
    title: "An application decrypts with a key that is pending deletion",
    promise: "deletion cancelled, key Enabled",
    async stage(world) {
      const key = await world.createKey(pendingDeletionKeyUsed.name);
      const sealed = await world.kms.send(
        new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from("card-token") }),
      );
      await scheduleDeletion(world.kms, key, 7);
      let performed = false;
      let note: string | undefined;
      try {
        await world.kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
        note =
          "moto decrypts with a key pending deletion (AWS answers KMSInvalidStateException): the failed call's event is emitted as AWS writes it";
      } catch (error) {
        performed = /pending deletion/i.test(describeError(error));
        if (!performed)
          note = `Decrypt failed unexpectedly (${describeError(error)}): the event is emitted as AWS writes it`;
      }
      const fixture = fixtureOf(pendingDeletionKeyUsed, "decrypt-pending-deletion");
      return {
        attack: `orders-service role Decrypt with ${key.alias} after a 7-day deletion was scheduled`,
        performed,
        ...(note ? { note } : {}),
        fixture,
        event: template(fixture, { keyArn: key.arn }).event,
        expect: {
          rule: pendingDeletionKeyUsed.name,
          outcome: "remediated",
          actions: [
            { type: "cancel-key-deletion", status: "succeeded" },
            { type: "enable-key", status: "succeeded" },
          ],
          severity: "HIGH",
        },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
  grantScenario(
    "own-call",
    "The responder's own role creates a grant (loop prevention)",
    "ignored: own call",
    fixtureOf(rogueGrant, "own-call"),
    "the responder's RogueGrant role",
    {
      expect: { rule: null, outcome: "ignored", skipped: "own-call" },
      directHandler: rogueGrant.name,
    },
    false,
  ),
  grantScenario(
    "duplicate-event",
    "The same external-grant event delivered twice (EventBridge delivers at least once)",
    "nothing more changed: ListGrants shows the grant gone (grant-gone), notified for review",
    fixtureOf(rogueGrant, "external-grantee"),
    "mallory (IAM user)",
    {
      deliverTwice: true,
      expect: {
        rule: rogueGrant.name,
        outcome: "notified",
        verdicts: ["grant-gone"],
        actions: [],
        noChange: true,
        severity: "CRITICAL",
      },
    },
    true,
  ),
  {
    id: "member-account-grant",
    title: `Grant to another account, on a key of member account ${DRILL_MEMBER} in ${DRILL_MEMBER_REGION}`,
    promise: "forwarded to the central bus, grant revoked there through the member role",
    async stage(world) {
      const member = await world.kmsIn(DRILL_MEMBER, DRILL_MEMBER_REGION);
      const key = await createDrillKey(member, "member-account-grant");
      const fixture = fixtureOf(rogueGrant, "external-grantee");
      const { request } = template(fixture, { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(member, key, request);
      const { event } = template(fixture, { keyArn: key.arn, grantId });
      return {
        attack: `mallory (IAM user of ${DRILL_MEMBER}) CreateGrant on ${key.alias} in ${DRILL_MEMBER_REGION} to ${str(request.granteePrincipal)} -> grant ${grantId}`,
        performed: true,
        fixture,
        event,
        ...revoked("CRITICAL"),
        verify: async () => [
          ...forwardedFromMember(rogueGrant, event),
          await checkGrant(member, key, grantId, "gone"),
          await checkKeyState(member, key, "Enabled"),
        ],
      };
    },
  },
  {
    id: "member-look-alike-role",
    title: `Grant on a key of member account ${DRILL_MEMBER} by a role named like the member role, in an outside account`,
    promise: "a look-alike of the member role is an ordinary caller: grant revoked",
    async stage(world) {
      const member = await world.kmsIn(DRILL_MEMBER, DRILL_MEMBER_REGION);
      const key = await createDrillKey(member, "member-look-alike-role");
      const fixture = fixtureOf(rogueGrant, "external-grantee");
      const { request } = template(fixture, { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(member, key, request);
      const { event } = template(fixture, { keyArn: key.arn, grantId });
      // The caller: a role of the member role's name in an account outside the organisation, with
      // the responder's SourceIdentity (anyone may set any SourceIdentity on their own sessions).
      const outside = "999988887777";
      const lookAlike = `arn:aws:iam::${outside}:role/${parseConfig({ organization: DRILL_ORGANIZATION }).organization?.memberRoleName ?? ""}`;
      detailOf(event).userIdentity = {
        type: "AssumedRole",
        principalId: "AROAEXAMPLELOOKALIKE1:kmsr-rogue-grant-x",
        arn: `arn:aws:sts::${outside}:assumed-role/kms-responder-member/kmsr-rogue-grant-x`,
        accountId: outside,
        sessionContext: {
          sessionIssuer: { type: "Role", arn: lookAlike, accountId: outside },
          sourceIdentity: "kms-responder",
        },
      };
      return {
        attack: `${lookAlike} (outside the organisation) CreateGrant on ${key.alias} in ${DRILL_MEMBER_REGION} to ${str(request.granteePrincipal)} -> grant ${grantId}`,
        performed: true,
        note: "the grant is created by the emulator's own identity; the event names the look-alike role as CloudTrail would",
        fixture,
        event,
        ...revoked("CRITICAL"),
        verify: async () => [
          ...forwardedFromMember(rogueGrant, event),
          await checkGrant(member, key, grantId, "gone"),
          await checkKeyState(member, key, "Enabled"),
        ],
      };
    },
  },
  {
    id: "member-account-deletion",
    title: `Key deletion scheduled in member account ${DRILL_MEMBER}, ${DRILL_MEMBER_REGION}`,
    promise: "forwarded to the central bus, deletion cancelled there through the member role, key Enabled",
    async stage(world) {
      const member = await world.kmsIn(DRILL_MEMBER, DRILL_MEMBER_REGION);
      const key = await createDrillKey(member, "member-account-deletion");
      const date = await scheduleDeletion(member, key, 7);
      const fixture = fixtureOf(keyDeletionScheduled, "unapproved");
      const { event } = template(fixture, {
        keyArn: key.arn,
        response: { deletionDate: cloudTrailDeletionDate(date) },
      });
      return {
        attack: `mallory (IAM user of ${DRILL_MEMBER}) ScheduleKeyDeletion on ${key.alias} in ${DRILL_MEMBER_REGION}, 7-day window`,
        performed: true,
        note: "moto has no CloudTrail LookupEvents: the key's prior state cannot be read, so it is re-enabled",
        fixture,
        event,
        expect: {
          rule: keyDeletionScheduled.name,
          outcome: "remediated",
          actions: [
            { type: "cancel-key-deletion", status: "succeeded" },
            { type: "enable-key", status: "succeeded" },
          ],
          severity: "CRITICAL",
        },
        verify: async () => [
          ...forwardedFromMember(keyDeletionScheduled, event),
          await checkKeyState(member, key, "Enabled"),
        ],
      };
    },
  },
];

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
