/**
 * Every command an incident's handler sends is allowed by the role the stack derives for it
 * (`rolePermissions(incident, config)`, functions/shared/permissions.ts), under the same config.
 * Each registered incident's Lambda entry point runs over every fixture of its folder under
 * `events/` against the shared fake KMS (and CloudTrail), set up so the actions have something to
 * do: the key named by the event exists in the state the event leaves it in, with the event's grant
 * and policy. The commands the mocks receive are the ones the deployed function would send.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { DescribeOrganizationCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DETAIL_PARSERS, INCIDENTS, type RegisteredIncident } from "../../functions/registry.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { type KmsEvent, normalise } from "../../functions/shared/event.js";
import { rolePermissions } from "../../functions/shared/permissions.js";
import { type FakeGrant, FakeKms, type KeyState } from "../helpers/fake-kms.js";
import { type FixtureEntry, loadAllEvents } from "../helpers/fixtures.js";

const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:t";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);
// The key-policy responder learns its own organisation once per cold start.
const organizations = mockClient(OrganizationsClient);

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  organizations.reset();
  organizations.on(DescribeOrganizationCommand).resolves({ Organization: { Id: "o-a1b2c3d4e5" } });
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});
afterEach(() => vi.unstubAllEnvs());
afterAll(() => {
  kms.restore();
  sns.restore();
  cloudTrail.restore();
});

/** The state an event leaves its key in, so the remediation has something to undo. */
function stateAfter(event: KmsEvent): KeyState {
  if (event.eventName === "ScheduleKeyDeletion" || event.errorCode !== undefined) return "PendingDeletion";
  if (event.eventName === "DisableKey") return "Disabled";
  return "Enabled";
}

/** The grant the event created, as ListGrants would list it. */
function grantOf(event: KmsEvent): FakeGrant[] {
  const detail = event.detail;
  if (detail.kind !== "grant" || !detail.grantId) return [];
  return [
    {
      GrantId: detail.grantId,
      GranteePrincipal: detail.grantee ?? "arn:aws:iam::444455556666:role/Intruder",
      ...(detail.retiringPrincipal && { RetiringPrincipal: detail.retiringPrincipal }),
      // The fixture's operations are KMS's own names.
      Operations: (detail.operations.length
        ? [...detail.operations]
        : ["Decrypt"]) as FakeGrant["Operations"],
      ...(detail.name && { Name: detail.name }),
    },
  ];
}

/** A fake KMS holding the keys an event names (the replica of a ReplicateKey too), Enabled customer keys. */
function fakeFor(event: KmsEvent): FakeKms {
  const fake = new FakeKms(event.region ?? "us-east-1").wire(kms, cloudTrail);
  const set = event.detail.kind === "policy" ? event.detail.policy : undefined;
  // The policy the event set is the key's policy now (CloudTrail logs it as text or as an object).
  const policy = typeof set === "string" ? set : set !== undefined ? JSON.stringify(set) : undefined;
  const alias = event.keyHint?.startsWith("alias/") ? [event.keyHint] : [];
  const keyArn =
    event.key?.arn ??
    `arn:aws:kms:${event.region ?? "us-east-1"}:${event.accountId ?? "111122223333"}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  fake.addKey({
    arn: keyArn,
    state: stateAfter(event),
    aliases: [...(event.key?.alias ? [event.key.alias] : []), ...alias],
    grants: grantOf(event),
    ...(policy !== undefined && { policy }),
    rotation: event.eventName !== "DisableKeyRotation",
    // An EnableKeyRotation set the period the event says, over the default the key had before.
    ...(event.detail.kind === "rotation" && {
      rotationPeriodInDays: event.detail.rotationPeriodInDays ?? 365,
      history: [{ name: "EnableKeyRotation", time: new Date("2026-01-01T00:00:00Z"), request: {} }],
    }),
    // The tags a TagResource set are on the key now.
    ...(event.detail.kind === "tagging" && { tags: { ...event.detail.set } }),
  });
  const target = event.detail.kind === "policy" ? event.detail.target : undefined;
  if (target && target.arn !== keyArn)
    fake.addKey({ arn: target.arn, ...(policy !== undefined && { policy }) });
  return fake;
}

/** The names of the commands a mock received (`DescribeKeyCommand`, ...). */
function commandNames(stub: { calls(): ReadonlyArray<{ args: readonly unknown[] }> }): string[] {
  return stub
    .calls()
    .map(({ args: [command] }) =>
      typeof command === "object" && command !== null ? command.constructor.name : String(command),
    );
}

/** Runs an incident's handler (a cold start under `config`) over one fixture; returns the IAM actions it called. */
async function callsOf(
  incident: RegisteredIncident,
  config: ConfigInput,
  fixture: FixtureEntry,
): Promise<string[]> {
  const event = normalise(fixture.event, DETAIL_PARSERS);
  if (!event) throw new Error(`${fixture.path} does not normalise`);
  fakeFor(event);
  vi.resetModules();
  // The fixtures were recorded days ago: no age limit here (test/handlers/delivery.test.ts pins it).
  vi.stubEnv(
    "KMS_RESPONDER_CONFIG",
    JSON.stringify({ maxEventAgeMinutes: 0, confirmAfterSeconds: 0, ...config }),
  );
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  const { handler } = (await import(`../../functions/${incident.name}/index.ts`)) as {
    handler: (event: unknown) => Promise<unknown>;
  };
  await handler(fixture.event);
  return [
    ...commandNames(kms).map((c) => `kms:${c.replace(/Command$/, "")}`),
    ...commandNames(cloudTrail).map((c) => `cloudtrail:${c.replace(/Command$/, "")}`),
    ...commandNames(organizations).map((c) => `organizations:${c.replace(/Command$/, "")}`),
  ];
}

/** The calls a role does not allow. */
function notAllowed(calls: readonly string[], allowed: { kms: string[]; other: string[] }): string[] {
  const all = new Set([...allowed.kms, ...allowed.other]);
  return [...new Set(calls.filter((c) => !all.has(c)))].sort();
}

const CONFIGS: Array<[string, ConfigInput]> = [
  ["default config (notify)", {}],
  ["enforce", { mode: "enforce" }],
  [
    "enforce, remove-statements, re-enable disabled keys, restore after cancel",
    { mode: "enforce", onCritical: "remove-statements", reenableDisabledKeys: true, afterCancel: "restore" },
  ],
];

const fixtures = loadAllEvents();
const cases = CONFIGS.flatMap(([label, config]) =>
  INCIDENTS.flatMap((incident) =>
    fixtures
      .filter((f) => f.incident === incident.name)
      .map((f) => [`${label}: ${f.path}`, incident, config, f] as const),
  ),
);

describe("every command a handler sends is allowed by its derived role", () => {
  it("every registered incident has fixtures to run", () => {
    for (const incident of INCIDENTS) {
      expect(
        fixtures.some((f) => f.incident === incident.name),
        incident.name,
      ).toBe(true);
    }
  });

  it.each(cases)("%s", async (_label, incident, config, fixture) => {
    const calls = await callsOf(incident, config, fixture);
    expect(notAllowed(calls, rolePermissions(incident, parseConfig(config)))).toEqual([]);
  });
});

/** Incidents judged only when configured: their fixtures run under the config that turns them on. */
const TURNED_ON: Partial<Record<string, ConfigInput>> = {
  "key-region-changed": { incidents: { "key-region-changed": { allowedRegions: ["us-east-1"] } } },
};

describe("no permission is granted in vain (enforce)", () => {
  it.each(INCIDENTS.map((i) => [i.name, i] as const))(
    "%s: its fixtures use every action its role grants",
    async (_name, incident) => {
      const used = new Set<string>();
      for (const fixture of fixtures.filter((f) => f.incident === incident.name)) {
        kms.reset();
        cloudTrail.reset();
        organizations.resetHistory();
        for (const call of await callsOf(incident, { mode: "enforce", ...TURNED_ON[incident.name] }, fixture))
          used.add(call);
      }
      const role = rolePermissions(incident, parseConfig({ mode: "enforce" }));
      expect([...used].sort()).toEqual([...role.kms, ...role.other].sort());
    },
  );
});

describe("the check can fail", () => {
  it("a role without the action the handler calls is reported", async () => {
    const rogue = INCIDENTS.find((i) => i.executors.some((e) => e.type === "revoke-grant"));
    const fixture = fixtures.find((f) => f.incident === rogue?.name && f.variant === "external-grantee");
    if (!rogue || !fixture)
      throw new Error("no incident revokes grants, or its external-grantee fixture is gone");
    const calls = await callsOf(rogue, { mode: "enforce" }, fixture);
    const role = rolePermissions(rogue, parseConfig({ mode: "enforce" }));
    expect(calls).toContain("kms:RevokeGrant");
    expect(notAllowed(calls, { ...role, kms: role.kms.filter((a) => a !== "kms:RevokeGrant") })).toEqual([
      "kms:RevokeGrant",
    ]);
  });

  it("a role derived under another config than the one deployed is reported", async () => {
    // Derived for afterCancel keep-disabled (no EnableKey, no CloudTrail) but run under restore.
    const deletion = INCIDENTS.find((i) =>
      (i.eventNames as readonly string[]).includes("ScheduleKeyDeletion"),
    );
    const fixture = fixtures.find((f) => f.incident === deletion?.name && f.variant === "unapproved");
    if (!deletion || !fixture)
      throw new Error("no ScheduleKeyDeletion incident, or its unapproved fixture is gone");
    const calls = await callsOf(deletion, { mode: "enforce", afterCancel: "restore" }, fixture);
    expect(
      notAllowed(
        calls,
        rolePermissions(deletion, parseConfig({ mode: "enforce", afterCancel: "keep-disabled" })),
      ),
    ).toEqual(["cloudtrail:LookupEvents", "kms:EnableKey"]);
  });
});
