/**
 * A central responder on moto with two accounts and two Regions (moto's
 * credentials from sts:AssumeRole on `arn:aws:iam::<account>:role/<any>` act inside `<account>`,
 * and clients in different Regions see different keys). The central account is moto's default
 * (the topic's account); the member account is 222233334444, its keys in eu-west-1.
 *
 * Each attack is delivered the way the organisation delivers it: the event must pass the member
 * template's forwarding pattern and the central bus rule's pattern (the matcher on the very
 * patterns the templates deploy); then the built bundle acts, and the end state is read back in
 * the member account's Region.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateGrantCommand,
  DescribeKeyCommand,
  KMSClient,
  ListGrantsCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CallRecorder, recordCalls } from "../../cli/drill/calls.js";
import { cloudTrailDeletionDate } from "../../cli/drill/events.js";
import { createDrillKey, kmsInAccount } from "../../cli/drill/scenarios.js";
import { matchesPattern } from "../../emulator/event-pattern.js";
import { keyDeletionScheduled } from "../../functions/key-deletion-scheduled/incident.js";
import { INCIDENTS } from "../../functions/registry.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import { type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { forwardingRules } from "../../functions/shared/forwarding-rules.js";
import type { Incident } from "../../functions/shared/incident.js";
import type { JsonObject } from "../../functions/shared/json.js";
import { notByResponder } from "../../functions/shared/rule.js";
import {
  coldStart,
  ENDPOINT,
  eventFor,
  freshWorld,
  invoke,
  onlyNotification,
  REGION,
  SKIP,
  type World,
} from "./harness.js";

const MEMBER = "222233334444";
const MEMBER_REGION = "eu-west-1";
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/kms-responder-member`;
/** A member account whose member role refuses the central roles (see startStsProxy). */
const UNREACHABLE = "333344445555";
const ORGANIZATION = {
  id: "o-a1b2c3d4e5",
  regions: [REGION, MEMBER_REGION],
  organizationalUnitIds: ["ou-ab12-cdefgh34"],
};
const CONFIG: ConfigInput = { organization: ORGANIZATION };
/** A central function role, as the central stack's rules leave it out. */
const CENTRAL_ROLE = "arn:aws:iam::123456789012:role/kms-responder-roguegrantRole-EXAMPLE";

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

/** A KMS client acting in `account` (through an assumed role, as moto models it) and `region`. */
const kmsIn = (account: string, region: string): Promise<KMSClient> =>
  kmsInAccount({ endpoint: ENDPOINT, region: REGION, credentials }, account, region);

/** Whether the organisation delivers the event to `incident`'s function: forwarded, then matched centrally. */
function delivered(incident: Incident, event: JsonObject, forwarded: boolean): boolean {
  const central = incident.pattern(notByResponder([CENTRAL_ROLE]));
  if (!forwarded) return matchesPattern(central, event);
  const forward = forwardingRules(parseConfig(CONFIG), MEMBER_ROLE, INCIDENTS).find(
    (r) => r.incident === incident.name,
  );
  if (!forward) throw new Error(`${incident.name} is not forwarded`);
  return matchesPattern(forward.pattern, event) && matchesPattern(central, event);
}

/** The AWS services and operations a handler called (`sts`, `RevokeGrant`, ...), from the HTTP layer. */
function operations(recorder: CallRecorder): string[] {
  return recorder.calls.map((c) => c.operation);
}

/**
 * moto grants every AssumeRole, so the bundles reach STS through this small proxy: it refuses
 * AssumeRole on UNREACHABLE's roles the way STS does (HTTP 403, AccessDenied) and passes every
 * other request to moto. (A bundle's STS client is made when its on-demand member module first
 * loads, from the environment of that moment, so the endpoint is set once, before the first cold
 * start.)
 */
async function startStsProxy(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const role = new URLSearchParams(body).get("RoleArn") ?? "";
      if (role.startsWith(`arn:aws:iam::${UNREACHABLE}:`)) {
        res.writeHead(403, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/kms-responder-roguegrantRole/x is not authorized to perform: sts:AssumeRole on resource: ${role}</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`,
        );
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).flatMap(([k, v]) =>
          typeof v === "string" && !["host", "content-length", "connection"].includes(k) ? [[k, v]] : [],
        ),
      );
      fetch(`${ENDPOINT}${req.url ?? "/"}`, { method: req.method ?? "POST", headers, body })
        .then(async (answer) => {
          res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/xml" });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch((e: unknown) => {
          res.writeHead(502);
          res.end(String(e));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

async function grantTo(kms: KMSClient, keyArn: string, grantee: string): Promise<string> {
  const out = await kms.send(
    new CreateGrantCommand({ KeyId: keyArn, GranteePrincipal: grantee, Operations: ["Decrypt"] }),
  );
  if (!out.GrantId) throw new Error("CreateGrant returned no grant id");
  return out.GrantId;
}

describe.skipIf(SKIP)("central responder on moto: two accounts, two Regions", () => {
  let world: World;
  let member: KMSClient;
  let proxy: Server | undefined;
  beforeAll(async () => {
    proxy = await startStsProxy();
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_STS;
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  });
  beforeEach(async () => {
    world = await freshWorld();
    member = await kmsIn(MEMBER, MEMBER_REGION);
  });

  it("revokes a rogue grant in the member account's other Region through the member role", async () => {
    // Prepare: the attacker creates a grant in the member account, eu-west-1.
    const key = await createDrillKey(member, "member-grant");
    expect(key.arn).toContain(`:kms:${MEMBER_REGION}:${MEMBER}:key/`);
    const grantId = await grantTo(member, key.arn, "arn:aws:iam::444455556666:role/exfil");
    const attack = eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId });
    expect(delivered(rogueGrant, attack, true)).toBe(true);
    const handler = await coldStart("rogue-grant", world, CONFIG);

    // Act
    const recorder = recordCalls();
    const result = await invoke(handler, attack);
    recorder.stop();

    // Assess: gone there, and the central account's own client never touched it.
    expect(result.outcome).toBe("remediated");
    expect(result.actions?.map((a) => `${a.type}:${a.status}`)).toEqual(["revoke-grant:succeeded"]);
    const left = await member.send(new ListGrantsCommand({ KeyId: key.arn }));
    expect((left.Grants ?? []).map((g) => g.GrantId)).not.toContain(grantId);
    expect(operations(recorder)).toContain("sts");
    expect(operations(recorder)).toContain("RevokeGrant");
    const note = await onlyNotification(world);
    expect(note.subject).toMatch(/^\[CRITICAL\] /);
    expect(JSON.stringify(note.document)).toContain(MEMBER);
    expect(JSON.stringify(note.document)).toContain(MEMBER_REGION);
  });

  it("cancels an unapproved key deletion there and leaves the key Enabled", async () => {
    // Prepare
    const key = await createDrillKey(member, "member-deletion");
    const out = await member.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 }));
    const attack = eventFor("key-deletion-scheduled/unapproved", {
      keyArn: key.arn,
      response: { deletionDate: cloudTrailDeletionDate(out.DeletionDate ?? new Date()) },
    });
    expect(delivered(keyDeletionScheduled, attack, true)).toBe(true);
    const handler = await coldStart("key-deletion-scheduled", world, CONFIG);

    // Act
    const result = await invoke(handler, attack);

    // Assess: moto has no LookupEvents, so the prior state is unknown and the key is re-enabled.
    expect(result.outcome).toBe("remediated");
    expect(result.actions?.map((a) => `${a.type}:${a.status}`)).toEqual([
      "cancel-key-deletion:succeeded",
      "enable-key:succeeded",
    ]);
    const state = await member.send(new DescribeKeyCommand({ KeyId: key.arn }));
    expect(state.KeyMetadata?.KeyState).toBe("Enabled");
    expect((await onlyNotification(world)).subject).toMatch(/^\[CRITICAL\] /);
  });

  it("drops the member role's own calls in the forwarding rule (loop prevention)", async () => {
    const key = await createDrillKey(member, "member-own-call");
    const own = eventFor("rogue-grant/external-grantee", { keyArn: key.arn });
    const identity = (own.detail as JsonObject).userIdentity as JsonObject;
    identity.type = "AssumedRole";
    identity.sessionContext = { sessionIssuer: { type: "Role", arn: MEMBER_ROLE } };
    expect(delivered(rogueGrant, own, true)).toBe(false);
  });

  it("handles the central account's own key in another Region with its own credentials, no member role", async () => {
    // Prepare: a key of the central account in eu-west-1 (the plain test credentials).
    const central = new KMSClient({ endpoint: ENDPOINT, region: MEMBER_REGION, credentials, maxAttempts: 1 });
    const key = await createDrillKey(central, "central-other-region");
    expect(key.arn).toContain(`:kms:${MEMBER_REGION}:${world.account}:key/`);
    const grantId = await grantTo(central, key.arn, "arn:aws:iam::444455556666:role/exfil");
    const attack = eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId });
    // The central account's other Regions forward like a member's (member template there).
    expect(delivered(rogueGrant, attack, true)).toBe(true);
    const handler = await coldStart("rogue-grant", world, CONFIG);

    // Act
    const recorder = recordCalls();
    const result = await invoke(handler, attack);
    recorder.stop();

    // Assess
    expect(result.outcome).toBe("remediated");
    const left = await central.send(new ListGrantsCommand({ KeyId: key.arn }));
    expect((left.Grants ?? []).map((g) => g.GrantId)).not.toContain(grantId);
    expect(operations(recorder)).not.toContain("sts");
    await onlyNotification(world);
  });

  it("gives a failed notification naming the role when it cannot be assumed, and changes nothing", async () => {
    // Prepare: a grant in an account whose member role refuses the central roles.
    const unreachable = await kmsIn(UNREACHABLE, MEMBER_REGION);
    const key = await createDrillKey(unreachable, "member-unreachable");
    const grantId = await grantTo(unreachable, key.arn, "arn:aws:iam::444455556666:role/exfil");
    const attack = eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId });
    expect(delivered(rogueGrant, attack, true)).toBe(true);
    const handler = await coldStart("rogue-grant", world, CONFIG);

    // Act
    let error: unknown;
    try {
      await invoke(handler, attack);
    } catch (e) {
      error = e;
    }

    // Assess: the invocation fails (Lambda retries, then the failure queue) after notifying.
    const role = `arn:aws:iam::${UNREACHABLE}:role/kms-responder-member`;
    expect(String(error)).toContain(role);
    const note = await onlyNotification(world);
    expect(note.attributes.outcome).toBe("failed");
    expect(JSON.stringify(note.document)).toContain(role);
    const left = await unreachable.send(new ListGrantsCommand({ KeyId: key.arn }));
    expect((left.Grants ?? []).map((g) => g.GrantId)).toContain(grantId);
  });
});
