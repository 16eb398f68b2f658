/**
 * Security Hub against the emulator: the built rogue-grant bundle with `securityHub: true` turns a
 * rogue grant into exactly one finding naming the key, in the responder's account's default
 * product; a duplicate delivery updates that finding (same id) instead of adding one; with
 * `securityHub` off nothing reaches Security Hub.
 */
import { CreateGrantCommand } from "@aws-sdk/client-kms";
import { type AwsSecurityFinding, GetFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { beforeEach, describe, expect, it } from "vitest";
import type { DrillKey } from "../../cli/drill/scenarios.js";
import {
  coldStart,
  createKey,
  ENDPOINT,
  eventFor,
  freshWorld,
  invoke,
  onlyNotification,
  REGION,
  SKIP,
  type World,
} from "./harness.js";

const EXFIL = "arn:aws:iam::444455556666:role/exfil";
/** The event id the tests deliver with (eventForKey would draw a random one). */
const EVENT_ID = "7404c6cc-a32e-4c17-bddb-150a93c40481";

const securityHub = new SecurityHubClient({
  endpoint: ENDPOINT || "http://127.0.0.1:1",
  region: REGION,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  maxAttempts: 1,
});

async function findings(): Promise<AwsSecurityFinding[]> {
  return (await securityHub.send(new GetFindingsCommand({}))).Findings ?? [];
}

async function rogueGrant(world: World, key: DrillKey): Promise<string> {
  const out = await world.kms.send(
    new CreateGrantCommand({
      KeyId: key.arn,
      GranteePrincipal: EXFIL,
      Operations: ["Decrypt", "GenerateDataKey"],
    }),
  );
  if (!out.GrantId) throw new Error("no grant id");
  return out.GrantId;
}

describe.skipIf(SKIP)("Security Hub findings from the rogue-grant bundle, against moto", () => {
  let world: World;
  let key: DrillKey;
  beforeEach(async () => {
    world = await freshWorld();
    key = await createKey(world, "payments");
  });

  it("imports a revoked rogue grant as exactly one finding naming the key", async () => {
    // Prepare
    const grantId = await rogueGrant(world, key);
    const handler = await coldStart("rogue-grant", world, { securityHub: true });

    // Act
    const result = await invoke(
      handler,
      eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId, eventId: EVENT_ID }),
    );

    // Assess
    expect(result.outcome).toBe("remediated");
    expect((await onlyNotification(world)).attributes.outcome).toBe("remediated");
    const all = await findings();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      SchemaVersion: "2018-10-08",
      Id: expect.stringMatching(new RegExp(`^kms-responder/rogue-grant/${EVENT_ID}/[0-9a-f]{16}$`)),
      ProductArn: `arn:aws:securityhub:${REGION}:${world.account}:product/${world.account}/default`,
      GeneratorId: "kms-responder/rogue-grant",
      AwsAccountId: world.account,
      Severity: { Label: "CRITICAL", Original: "critical" },
      Resources: [{ Type: "AwsKmsKey", Id: key.arn, Partition: "aws", Region: REGION }],
      Workflow: { Status: "RESOLVED" },
      ProductFields: expect.objectContaining({
        "kms-responder/reasons": expect.stringContaining("external-grantee"),
        "kms-responder/actions": "revoke-grant:succeeded",
      }),
    });
    expect(all[0]?.Remediation?.Recommendation?.Text).toContain(
      `aws kms create-grant --key-id ${key.arn} --grantee-principal ${EXFIL}`,
    );
  });

  it("a copy of the event after the grant was revoked leaves the finding as it was (its own unconfirmed id)", async () => {
    // Prepare: the first delivery revoked the grant and imported the finding.
    const grantId = await rogueGrant(world, key);
    const event = eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId, eventId: EVENT_ID });
    const handler = await coldStart("rogue-grant", world, { securityHub: true });
    await invoke(handler, event);
    const [first] = await findings();

    // Act: the same record again (a duplicate delivery, or anyone invoking the function with it).
    const again = await invoke(handler, structuredClone(event));

    // Assess: the first finding is untouched; what the copy found (grant gone) is its own finding.
    expect(again.outcome).toBe("notified");
    const all = await findings();
    expect(all.map((f) => f.Id).sort()).toEqual([first?.Id, `${first?.Id}/unconfirmed`]);
    const kept = all.find((f) => f.Id === first?.Id);
    expect(kept?.ProductFields?.["kms-responder/verdicts"]).toBeUndefined();
    expect(kept?.ProductFields?.["kms-responder/actions"]).toBe("revoke-grant:succeeded");
    expect(kept?.Compliance?.Status).toBe("FAILED");
    expect(kept?.UpdatedAt).toBe(first?.UpdatedAt);
  });

  it("sends nothing to Security Hub when securityHub is off", async () => {
    const grantId = await rogueGrant(world, key);
    const handler = await coldStart("rogue-grant", world, { securityHub: false });

    const result = await invoke(
      handler,
      eventFor("rogue-grant/external-grantee", { keyArn: key.arn, grantId, eventId: EVENT_ID }),
    );

    expect(result.outcome).toBe("remediated");
    expect(await findings()).toEqual([]);
  });
});
