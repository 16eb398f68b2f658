/**
 * `kms-responder scan` against moto, run as a user runs it (the real bin, AWS_ENDPOINT_URL): two
 * accounts (the caller's, and a member reached with sts:AssumeRole, which moto grants) and two
 * Regions, a few hundred clean keys, and one seeded problem of each kind the emulator can hold.
 * The scan prints exactly one finding per seeded problem (incident, severity, key) and none for
 * the clean keys. moto has no ImportKeyMaterial, so expiring imported material is covered by the
 * unit tests (test/scan/state.test.ts) only.
 */
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  type KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from "@aws-sdk/client-kms";
import { beforeAll, describe, expect, it } from "vitest";
import { kmsInAccount } from "../../cli/drill/scenarios.js";
import type { ScanRow } from "../../cli/scan.js";
import { resetMoto } from "../../emulator/moto.js";
import { spawn } from "../cli/spawn.js";
import { ENDPOINT, SKIP } from "./harness.js";

const OWN = "123456789012";
const MEMBER = "222233334444";
const OUTSIDER = "999988887777";
const REGIONS = ["us-east-1", "eu-west-1"] as const;
/** Clean keys per account and Region: 4 x 60 = 240, plus the seeded ones. */
const CLEAN_PER_PLACE = 60;
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

const ENV = {
  AWS_ENDPOINT_URL: ENDPOINT,
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_SESSION_TOKEN: "",
  AWS_REGION: "us-east-1",
  AWS_PROFILE: "",
  AWS_EC2_METADATA_DISABLED: "true",
};

const root = (account: string) => ({
  Sid: "root",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${account}:root` },
  Action: "kms:*",
  Resource: "*",
});
const policyWith = (account: string, extra: object) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [root(account), extra] });
const PUBLIC = { Sid: "open", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" };
const CROSS = {
  Sid: "partner",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${OUTSIDER}:root` },
  Action: ["kms:Decrypt"],
  Resource: "*",
};

const kmsIn = (account: string, region: string): Promise<KMSClient> =>
  kmsInAccount({ endpoint: ENDPOINT, region: "us-east-1", credentials }, account, region);

/** A key with rotation on (a clean key), returning its ARN and id. */
async function cleanKey(kms: KMSClient): Promise<{ arn: string; id: string }> {
  const meta = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
  if (!meta?.Arn || !meta.KeyId) throw new Error("CreateKey returned no key");
  await kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId }));
  return { arn: meta.Arn, id: meta.KeyId };
}

interface Seeded {
  incident: string;
  severity: string;
  key: string;
  account: string;
  region: string;
  hold?: string;
}

async function seed(): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const places = REGIONS.flatMap((region) => [OWN, MEMBER].map((account) => ({ account, region })));
  const clients = new Map<string, KMSClient>();
  for (const p of places) {
    const kms = await kmsIn(p.account, p.region);
    clients.set(`${p.account}/${p.region}`, kms);
    const clean = await Promise.all(Array.from({ length: CLEAN_PER_PLACE }, () => cleanKey(kms)));
    // Clean grants too: to a role of the key's own account, constrained.
    const [first] = clean;
    if (first) {
      await kms.send(
        new CreateGrantCommand({
          KeyId: first.id,
          GranteePrincipal: `arn:aws:iam::${p.account}:role/app`,
          Operations: ["Decrypt"],
          Constraints: { EncryptionContextSubset: { app: "billing" } },
        }),
      );
    }
  }
  const at = (account: string, region: string) => {
    const kms = clients.get(`${account}/${region}`);
    if (!kms) throw new Error(`no client for ${account} ${region}`);
    return kms;
  };
  const add = async (
    account: string,
    region: string,
    incident: string,
    severity: string,
    problem: (kms: KMSClient, key: { arn: string; id: string }) => Promise<unknown>,
    hold?: string,
  ) => {
    const kms = at(account, region);
    const key = await cleanKey(kms);
    await problem(kms, key);
    seeded.push({ incident, severity, key: key.arn, account, region, ...(hold && { hold }) });
  };
  await add(OWN, "us-east-1", "rogue-grant", "critical", (kms, key) =>
    kms.send(
      new CreateGrantCommand({
        KeyId: key.id,
        GranteePrincipal: `arn:aws:iam::${OUTSIDER}:role/contractor`,
        Operations: ["Decrypt"],
        Constraints: { EncryptionContextSubset: { app: "billing" } },
      }),
    ),
  );
  await add(OWN, "eu-west-1", "key-policy-violation", "critical", (kms, key) =>
    kms.send(
      new PutKeyPolicyCommand({ KeyId: key.id, PolicyName: "default", Policy: policyWith(OWN, PUBLIC) }),
    ),
  );
  await add(MEMBER, "us-east-1", "key-policy-violation", "critical", (kms, key) =>
    kms.send(
      new PutKeyPolicyCommand({ KeyId: key.id, PolicyName: "default", Policy: policyWith(MEMBER, CROSS) }),
    ),
  );
  await add(MEMBER, "eu-west-1", "key-rotation-disabled", "medium", (kms, key) =>
    kms.send(new DisableKeyRotationCommand({ KeyId: key.id })),
  );
  await add(OWN, "us-east-1", "key-deletion-scheduled", "critical", (kms, key) =>
    kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 })),
  );
  await add(
    MEMBER,
    "us-east-1",
    "key-policy-violation",
    "critical",
    async (kms, key) => {
      await kms.send(
        new TagResourceCommand({ KeyId: key.id, Tags: [{ TagKey: "kms-responder:exempt", TagValue: "" }] }),
      );
      await kms.send(
        new PutKeyPolicyCommand({ KeyId: key.id, PolicyName: "default", Policy: policyWith(MEMBER, PUBLIC) }),
      );
    },
    "exempt-key",
  );
  return seeded;
}

describe.skipIf(SKIP)("scan against moto: two accounts, two Regions", () => {
  let seeded: Seeded[] = [];

  beforeAll(async () => {
    await resetMoto(ENDPOINT);
    seeded = await seed();
  }, 120_000);

  it("finds exactly the seeded problems, one finding each, nothing for the clean keys", async () => {
    const run = await spawn(
      [
        "scan",
        "--regions",
        REGIONS.join(","),
        "--accounts",
        `${OWN},${MEMBER}`,
        "--role-name",
        "auditor",
        "--json",
      ],
      ENV,
    );
    expect(run.stderr).toMatch(/scan: 2\d\d customer managed keys in 4 account-Region pairs: 6 findings/);
    expect(run.code).toBe(0);
    const rows = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ScanRow);
    const found = rows.map((r) => ({
      incident: r.incident,
      severity: r.severity,
      key: r.key,
      account: r.account,
      region: r.region,
      ...(r.actions.some((a) => a.hold === "exempt-key") && { hold: "exempt-key" }),
    }));
    const order = (a: { key: string | null }, b: { key: string | null }) =>
      (a.key ?? "").localeCompare(b.key ?? "");
    expect([...found].sort(order)).toEqual([...seeded].sort(order));
    // The reasons are the incidents' own codes.
    const reasonsOf = (incident: string, account: string) =>
      rows.filter((r) => r.incident === incident && r.account === account).flatMap((r) => r.reasons);
    expect(reasonsOf("rogue-grant", OWN)).toEqual(["external-grantee"]);
    expect(reasonsOf("key-policy-violation", OWN)).toEqual(["public-principal"]);
    expect(reasonsOf("key-policy-violation", MEMBER).sort()).toEqual([
      "external-account",
      "public-principal",
    ]);
    expect(reasonsOf("key-deletion-scheduled", OWN)).toEqual(["unapproved-deletion"]);
  }, 120_000);

  it("the command of the README: the caller's account in two Regions, --json, and --fail-on", async () => {
    const run = await spawn(
      ["scan", "--regions", "us-east-1,eu-west-1", "--json", "--fail-on", "critical"],
      ENV,
    );
    expect(run.code).toBe(1);
    const rows = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ScanRow);
    const own = seeded.filter((s) => s.account === OWN);
    expect(rows.map((r) => [r.incident, r.severity, r.key]).sort()).toEqual(
      own.map((s) => [s.incident, s.severity, s.key]).sort(),
    );
  }, 120_000);

  it("without credentials: exit 2, saying so, nothing on stdout", async () => {
    const run = await spawn(["scan", "--regions", "us-east-1", "--json"], {
      ...ENV,
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^kms-responder scan: no AWS credentials found/m);
  });
});
