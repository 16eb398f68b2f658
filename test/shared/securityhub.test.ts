/**
 * Security Hub: the ASFF mapping (pure, pinned for a revoked rogue grant), where findings go (the
 * responder's account, also for a member account's key), and the failure policy: an import that
 * fails never undoes an action and fails the invocation after the notification went out; with
 * `securityHub` off nothing is sent to Security Hub at all.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { CreateGrantCommand, KMSClient, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { BatchImportFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import { rogueGrant } from "../../functions/rogue-grant/incident.js";
import type { ActionResult } from "../../functions/shared/actions/action.js";
import { parseConfig } from "../../functions/shared/config.js";

/** Every default but the mode: enforce, as a deployment that acts sets it. */
const ENFORCE_CONFIG = parseConfig({ mode: "enforce" });

import type { Finding, PlannedAction } from "../../functions/shared/decision.js";
import { normalise } from "../../functions/shared/event.js";
import { logger } from "../../functions/shared/logger.js";
import {
  findingId,
  importTarget,
  importToSecurityHub,
  LIMITS,
  SEVERITY_LABEL,
  toAsff,
  unbacked,
} from "../../functions/shared/securityhub.js";
import { coldStart, fakeKey, grantClaimedBy, onlyNotification } from "../handlers/harness.js";
import { GRANT_KEY_ARN, GRANT_KEY_ID, loadEvent } from "../helpers/fixtures.js";

const securityHub = mockClient(SecurityHubClient);
const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

const ACCOUNT = "111122223333";
const HERE = { region: "us-east-1", account: ACCOUNT } as const;
const TARGET = { partition: "aws", region: "us-east-1", account: ACCOUNT } as const;
/** The key and grant of events/rogue-grant/external-grantee.json. */
const KEY_ARN = GRANT_KEY_ARN;
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const NOW = new Date("2026-11-28T18:22:44.120Z");
/** The finding id of external-grantee.json: its event id and the digest of the record. */
const REAL_ID = "kms-responder/rogue-grant/7404c6cc-a32e-4c17-bddb-150a93c40481/d4192d282e080232";
const PLANNED_REVOKE: PlannedAction = { type: "revoke-grant", keyRef: KEY_ARN, grantId: GRANT_ID };

/** The finding the rogue-grant decider makes of external-grantee.json. */
function rogueGrantFinding(fixture = "rogue-grant/external-grantee"): Finding {
  const event = normalise(loadEvent(fixture));
  if (!event) throw new Error("fixture does not normalise");
  const decision = rogueGrant.decide(event, ENFORCE_CONFIG, { responder: HERE });
  if (decision.kind !== "finding") throw new Error("expected a finding");
  // The pipeline types a finding from its incident's declaration.
  return { ...decision, findingType: rogueGrant.securityHubType };
}

const REVOKED: ActionResult = {
  type: "revoke-grant",
  target: `${KEY_ARN} grant ${GRANT_ID}`,
  keyRef: KEY_ARN,
  grantId: GRANT_ID,
  status: "succeeded",
  detail: "Grant revoked; ListGrants no longer lists it.",
  verified: true,
};

beforeEach(() => {
  // The handlers below load fresh modules (their own logger and metrics) and read these then.
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
  logger.setLogLevel("SILENT");
  securityHub.reset();
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  securityHub
    .on(BatchImportFindingsCommand)
    .resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("toAsff", () => {
  it("maps a revoked rogue grant to exactly this ASFF document", () => {
    // Act
    const document = toAsff({ finding: rogueGrantFinding(), results: [REVOKED], target: TARGET, now: NOW });

    // Assess
    expect(document).toEqual({
      SchemaVersion: "2018-10-08",
      Id: REAL_ID,
      ProductArn: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default",
      ProductName: "kms-responder",
      GeneratorId: "kms-responder/rogue-grant",
      AwsAccountId: "111122223333",
      Types: ["TTPs/Persistence/KMS Grant To Untrusted Principal"],
      CreatedAt: "2026-11-28T18:22:41.000Z",
      FirstObservedAt: "2026-11-28T18:22:41.000Z",
      LastObservedAt: "2026-11-28T18:22:41.000Z",
      UpdatedAt: "2026-11-28T18:22:44.120Z",
      Severity: { Label: "CRITICAL", Original: "critical" },
      FindingProviderFields: {
        Severity: { Label: "CRITICAL", Original: "critical" },
        Types: ["TTPs/Persistence/KMS Grant To Untrusted Principal"],
      },
      Title: `Rogue KMS grant: key ${GRANT_KEY_ID} in 111122223333/us-east-1`,
      Description:
        "arn:aws:iam::444455556666:role/exfil was granted Decrypt, GenerateDataKey on the key. Outcome: remediated. " +
        `revoke-grant on ${KEY_ARN} grant ${GRANT_ID}: succeeded. Grant revoked; ListGrants no longer lists it. ` +
        "Grantee: arn:aws:iam::444455556666:role/exfil Operations: Decrypt, GenerateDataKey Constraints: none " +
        `Grant ID: ${GRANT_ID}`,
      Remediation: {
        Recommendation: {
          Text:
            "Done: revoke-grant succeeded. To undo: aws kms create-grant " +
            `--key-id ${KEY_ARN} --grantee-principal arn:aws:iam::444455556666:role/exfil ` +
            "--operations Decrypt GenerateDataKey --region us-east-1",
        },
      },
      ProductFields: {
        "kms-responder/incident": "rogue-grant",
        "kms-responder/severity": "critical",
        "kms-responder/reasons": "external-grantee,unconstrained-grant",
        "kms-responder/outcome": "remediated",
        "kms-responder/actions": "revoke-grant:succeeded",
        "kms-responder/keyArn": KEY_ARN,
        "kms-responder/keyAccount": "111122223333",
        "kms-responder/keyRegion": "us-east-1",
        "kms-responder/actor": "arn:aws:iam::111122223333:user/mallory",
        "kms-responder/actorType": "IAMUser",
        "kms-responder/sourceIp": "203.0.113.45",
        "kms-responder/userAgent":
          "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#kms.create-grant",
        "kms-responder/eventName": "CreateGrant",
        "kms-responder/eventId": "7404c6cc-a32e-4c17-bddb-150a93c40481",
        "kms-responder/eventTime": "2026-11-28T18:22:41Z",
      },
      Resources: [{ Type: "AwsKmsKey", Id: KEY_ARN, Partition: "aws", Region: "us-east-1" }],
      Compliance: { Status: "FAILED" },
      Workflow: { Status: "RESOLVED" },
      RecordState: "ACTIVE",
    });
  });

  it("maps each of our severities to its ASFF label", () => {
    expect(SEVERITY_LABEL).toEqual({
      critical: "CRITICAL",
      high: "HIGH",
      medium: "MEDIUM",
      low: "LOW",
      info: "INFORMATIONAL",
    });
    const low = toAsff({
      finding: { ...rogueGrantFinding(), severity: "info" },
      results: [],
      target: TARGET,
      now: NOW,
    });
    expect(low.Severity).toEqual({ Label: "INFORMATIONAL", Original: "info" });
    expect(low.FindingProviderFields?.Severity).toEqual({ Label: "INFORMATIONAL", Original: "info" });
  });

  it("types every registered incident (its declaration's securityHubType) under an ASFF namespace/category/classifier", () => {
    const namespaces =
      /^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)\/[^/]+\/[^/]+$/;
    for (const incident of INCIDENTS) expect(incident.securityHubType, incident.name).toMatch(namespaces);
  });

  it("imports the finding's type, and a default type for a finding without one", () => {
    const typed = toAsff({
      finding: { ...rogueGrantFinding(), findingType: "TTPs/Persistence/X" },
      results: [],
      target: TARGET,
      now: NOW,
    });
    expect(typed.Types).toEqual(["TTPs/Persistence/X"]);
    const untyped = toAsff({
      finding: { ...rogueGrantFinding(), findingType: undefined },
      results: [],
      target: TARGET,
      now: NOW,
    });
    expect(untyped.Types).toEqual(["Software and Configuration Checks/AWS Security Best Practices/KMS"]);
  });

  it("leaves the workflow NEW when nothing was changed, and says what to do instead of an undo", () => {
    const held: ActionResult = {
      ...REVOKED,
      status: "dry-run",
      detail: "notify mode: decided but not changed",
    };
    const document = toAsff({ finding: rogueGrantFinding(), results: [held], target: TARGET, now: NOW });
    expect(document.Workflow).toEqual({ Status: "NEW" });
    expect(document.Compliance).toEqual({ Status: "FAILED" });
    expect(document.Remediation?.Recommendation?.Text).toBe(
      "Dry run or notify mode: nothing was changed. Run the action with the runbook to apply it.",
    );
    expect(document.ProductFields?.["kms-responder/outcome"]).toBe("dry-run");
  });

  it("reports PASSED compliance when the current state shows nothing wrong (grant gone, nothing planned)", () => {
    const gone: Finding = { ...rogueGrantFinding(), actions: [], verdicts: ["grant-gone"] };
    const document = toAsff({ finding: gone, results: [], target: TARGET, now: NOW });
    expect(document.Compliance).toEqual({ Status: "PASSED" });
    expect(document.Workflow).toEqual({ Status: "NEW" });
    expect(document.ProductFields?.["kms-responder/verdicts"]).toBe("grant-gone");
    expect(document.ProductFields?.["kms-responder/actions"]).toBeUndefined();
  });

  it("cuts every text field to ASFF's limits", () => {
    // Prepare: a huge summary and details, a long grantee (the undo repeats it), a long user agent.
    const base = rogueGrantFinding();
    const grantee = `arn:aws:iam::444455556666:role/${"p/".repeat(200)}exfil`;
    const event = base.event;
    if (event?.detail.kind !== "grant") throw new Error("expected a grant event");
    const finding: Finding = {
      ...base,
      title: "T".repeat(400),
      summary: "S".repeat(3000),
      details: ["D".repeat(3000)],
      event: { ...event, userAgent: "U".repeat(5000), detail: { ...event.detail, grantee } },
    };

    // Act
    const document = toAsff({ finding, results: [REVOKED], target: TARGET, now: NOW });

    // Assess
    expect(document.Title).toHaveLength(LIMITS.title);
    expect(document.Description).toHaveLength(LIMITS.description);
    const text = document.Remediation?.Recommendation?.Text ?? "";
    expect(text).toHaveLength(LIMITS.recommendation);
    expect(text.endsWith("... (the full command is in the SNS notification)")).toBe(true);
    expect(document.ProductFields?.["kms-responder/userAgent"]).toHaveLength(LIMITS.productFieldValue);
    for (const key of Object.keys(document.ProductFields ?? {})) {
      expect(key.length).toBeLessThanOrEqual(LIMITS.productFieldKey);
    }
  });

  it("identifies a runbook request by action, key and time, with who ran it and why", () => {
    // Prepare: what planRunbook makes of a revoke-grant request (no event).
    const finding: Finding = {
      kind: "finding",
      incident: "runbook",
      severity: "high",
      reasons: ["manual-revoke-grant"],
      title: "Runbook revoke-grant",
      summary: "revoke-grant on the key: INC-42 exfiltration",
      details: [],
      actions: [{ type: "revoke-grant", keyRef: KEY_ARN, grantId: GRANT_ID }],
      event: undefined,
      key: {
        arn: KEY_ARN,
        id: GRANT_KEY_ID,
        region: "us-east-1",
        account: ACCOUNT,
        partition: "aws",
      },
      // What the runbook's planner sets (functions/runbook/plan.ts).
      findingType: "Software and Configuration Checks/AWS Security Best Practices/KMS Manual Response",
    };
    const request = {
      at: "2026-11-28T19:00:00.000Z",
      executedBy: "arn:aws:sts::111122223333:assumed-role/OnCall/alice",
      statedBy: "alice",
      reason: "INC-42 exfiltration",
      ticket: "INC-42",
    };

    // Act
    const document = toAsff({ finding, results: [REVOKED], target: TARGET, request, now: NOW });

    // Assess
    expect(document.Id).toBe(`kms-responder/runbook/manual-revoke-grant/${KEY_ARN}/2026-11-28T19:00:00.000Z`);
    expect(findingId(finding, request)).toBe(document.Id);
    expect(document.GeneratorId).toBe("kms-responder/runbook");
    expect(document.CreatedAt).toBe("2026-11-28T19:00:00.000Z");
    expect(document.Types).toEqual([
      "Software and Configuration Checks/AWS Security Best Practices/KMS Manual Response",
    ]);
    expect(document.ProductFields).toMatchObject({
      "kms-responder/actor": "arn:aws:sts::111122223333:assumed-role/OnCall/alice",
      "kms-responder/actorType": "Runbook",
      "kms-responder/executedBy": "arn:aws:sts::111122223333:assumed-role/OnCall/alice",
      "kms-responder/statedBy": "alice",
      "kms-responder/requestReason": "INC-42 exfiltration",
      "kms-responder/ticket": "INC-42",
    });
    expect(document.ProductFields?.["kms-responder/eventId"]).toBeUndefined();
  });
});

describe("importTarget: where a finding goes", () => {
  it("imports a member account's key finding into the central responder's account, naming the key", () => {
    // Prepare: the central responder in 999988887777 acted on a key of member 111122223333.
    const central = { region: "eu-west-1", account: "999988887777" };
    const finding = rogueGrantFinding();
    const target = importTarget({ config: { securityHub: true }, responder: central }, finding);

    // Act
    const document = toAsff({ finding, results: [REVOKED], target: target ?? TARGET, now: NOW });

    // Assess
    expect(target).toEqual({ partition: "aws", region: "eu-west-1", account: "999988887777" });
    expect(document.ProductArn).toBe(
      "arn:aws:securityhub:eu-west-1:999988887777:product/999988887777/default",
    );
    expect(document.AwsAccountId).toBe("999988887777");
    expect(document.Resources).toEqual([
      { Type: "AwsKmsKey", Id: KEY_ARN, Partition: "aws", Region: "us-east-1" },
    ]);
    expect(document.ProductFields).toMatchObject({
      "kms-responder/keyAccount": "111122223333",
      "kms-responder/keyRegion": "us-east-1",
    });
  });

  it("falls back to the key's account and Region without a deployed responder (run --direct)", () => {
    expect(importTarget({ config: { securityHub: true } }, rogueGrantFinding())).toEqual(TARGET);
  });

  it("uses the partition of the responder's Region", () => {
    const china = { region: "cn-north-1", account: "999988887777" };
    expect(importTarget({ config: { securityHub: true }, responder: china }, rogueGrantFinding())).toEqual({
      partition: "aws-cn",
      region: "cn-north-1",
      account: "999988887777",
    });
  });
});

describe("importToSecurityHub", () => {
  const deps = { config: { securityHub: true }, responder: HERE };

  it("sends nothing when securityHub is off", async () => {
    const report = await importToSecurityHub(rogueGrantFinding(), [REVOKED], {
      ...deps,
      config: { securityHub: false },
    });
    expect(report).toEqual({});
    expect(securityHub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 0);
  });

  it("imports the one ASFF document of the finding, and reports its id", async () => {
    const report = await importToSecurityHub(rogueGrantFinding(), [REVOKED], deps, undefined, NOW);
    expect(report).toEqual({ imported: findingId(rogueGrantFinding()) });
    expect(securityHub).toHaveReceivedCommandExactlyOnceWith(BatchImportFindingsCommand, {
      Findings: [toAsff({ finding: rogueGrantFinding(), results: [REVOKED], target: TARGET, now: NOW })],
    });
  });

  it("returns the error that fails the invocation when Security Hub refuses the finding in a 200 answer", async () => {
    securityHub.on(BatchImportFindingsCommand).resolves({
      FailedCount: 1,
      SuccessCount: 0,
      FailedFindings: [
        { Id: "kms-responder/rogue-grant/x", ErrorCode: "InvalidInput", ErrorMessage: "bad Types" },
      ],
    });
    const { failed, imported } = await importToSecurityHub(rogueGrantFinding(), [REVOKED], deps);
    expect(imported).toBeUndefined();
    expect(failed?.message).toBe(
      "Error: Security Hub refused 1 finding: kms-responder/rogue-grant/x: InvalidInput bad Types",
    );
  });

  it("returns the error when the call itself fails (no Security Hub in the Region, no permission)", async () => {
    const denied = Object.assign(new Error("not authorized to perform securityhub:BatchImportFindings"), {
      name: "AccessDeniedException",
    });
    securityHub.on(BatchImportFindingsCommand).rejects(denied);
    const { failed } = await importToSecurityHub(rogueGrantFinding(), [REVOKED], deps);
    expect(failed?.message).toBe(
      "AccessDeniedException: not authorized to perform securityhub:BatchImportFindings",
    );
    expect(failed?.cause).toBe(denied);
  });

  it("reports where it cannot import: no account or Region known, nothing sent", async () => {
    const placeless: Finding = { ...rogueGrantFinding(), key: undefined, event: undefined };
    const { failed } = await importToSecurityHub(placeless, [REVOKED], { config: { securityHub: true } });
    expect(failed?.message).toBe("Error: the account and Region to import into are unknown");
    expect(securityHub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 0);
  });
});

describe("the rogue-grant handler with Security Hub", () => {
  const event = () => loadEvent("rogue-grant/external-grantee");

  it("with securityHub off, makes no Security Hub call at all", async () => {
    fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(event())] });
    const handler = await coldStart("rogue-grant", { securityHub: false });

    const result = await handler(event());

    expect(result.outcome).toBe("remediated");
    expect(securityHub.calls()).toHaveLength(0);
  });

  it("imports one finding after revoking and notifying, and logs its id", async () => {
    fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(event())] });
    const handler = await coldStart("rogue-grant", { securityHub: true });
    // The handler's own logger (coldStart loads fresh modules): the import logs through it.
    const info = vi.spyOn((await import("../../functions/shared/logger.js")).logger, "info");

    const result = await handler(event());

    expect(info).toHaveBeenCalledWith("imported into security hub", { findingId: REAL_ID });

    expect(result.outcome).toBe("remediated");
    expect(onlyNotification(sns).doc.outcome).toBe("remediated");
    expect(securityHub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 1);
    const [call] = securityHub.commandCalls(BatchImportFindingsCommand);
    expect(call?.args[0].input.Findings).toEqual([
      expect.objectContaining({
        Id: REAL_ID,
        ProductArn: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default",
        Resources: [{ Type: "AwsKmsKey", Id: KEY_ARN, Partition: "aws", Region: "us-east-1" }],
        Workflow: { Status: "RESOLVED" },
      }),
    ]);
  });

  it("fails the invocation when the import fails, after notifying, and leaves the grant revoked", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(event())] });
    securityHub.on(BatchImportFindingsCommand).rejects(new Error("Security Hub is not enabled"));
    const handler = await coldStart("rogue-grant", { securityHub: true });
    const error = vi.spyOn((await import("../../functions/shared/logger.js")).logger, "error");

    // Act
    const invocation = handler(event());

    // Assess: the invocation fails, but the revoke stands and the notification went out first.
    await expect(invocation).rejects.toThrow(
      "security hub import failed: Error: Security Hub is not enabled",
    );
    expect(kms).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(kms).toHaveReceivedCommandTimes(CreateGrantCommand, 0);
    expect(key.fake.operations()).not.toContain("CreateGrant");
    expect(onlyNotification(sns).doc.outcome).toBe("remediated");
    expect(securityHub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 1);
    expect(error).toHaveBeenCalledWith("security hub import failed; actions stand", {
      error: "Error: Security Hub is not enabled",
    });
  });

  it("on the retry the grant is already gone: the retry's unbacked finding goes to the unconfirmed id", async () => {
    // Prepare: the first attempt revoked the grant and then failed to import.
    const key = fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(event())] });
    securityHub
      .on(BatchImportFindingsCommand)
      .rejectsOnce(new Error("throttled"))
      .resolves({ FailedCount: 0 });
    const handler = await coldStart("rogue-grant", { securityHub: true });
    await expect(handler(event())).rejects.toThrow("security hub import failed");

    // Act: Lambda's retry.
    const retry = await handler(event());

    // Assess
    expect(retry.verdicts).toEqual(["grant-gone"]);
    expect(key.fake.operations().filter((o) => o === "RevokeGrant")).toHaveLength(1);
    const ids = securityHub
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => c.args[0].input.Findings?.[0]?.Id);
    expect(ids).toEqual([REAL_ID, `${REAL_ID}/unconfirmed`]);
  });

  it("a forged event reusing the real event's id (another grantee, grant not listed) never imports the real finding's id", async () => {
    // Prepare: the real event made its finding; then someone with lambda:InvokeFunction sends a
    // copy naming the same event id and grant id but a harmless grantee (to lower the severity).
    fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(event())] });
    const handler = await coldStart("rogue-grant", { securityHub: true });
    await handler(event());
    const forged = event();
    forged.detail.requestParameters = {
      ...forged.detail.requestParameters,
      granteePrincipal: "arn:aws:iam::111122223333:role/app-server",
      operations: ["Decrypt"],
    };
    const forgedSameGrant = event();

    // Act: the forged variant, and a byte-identical copy after the grant was revoked.
    await handler(forged);
    await handler(forgedSameGrant);

    // Assess
    const ids = securityHub
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => c.args[0].input.Findings?.[0]?.Id);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(REAL_ID);
    expect(ids.slice(1)).not.toContain(REAL_ID);
    expect(ids[2]).toBe(`${REAL_ID}/unconfirmed`);
  });
});

describe("findingId: only a backed decision about the very same record reaches a finding's id", () => {
  it("is the event id and a digest of the record; a different record with the same event id gets another id", () => {
    const real = rogueGrantFinding();
    const event = real.event;
    if (!event) throw new Error("expected an event");
    const forged: Finding = { ...real, event: { ...event, sourceIp: "198.51.100.7" } };
    expect(findingId(real)).toBe(REAL_ID);
    expect(findingId(forged)).toMatch(
      /^kms-responder\/rogue-grant\/7404c6cc-a32e-4c17-bddb-150a93c40481\/[0-9a-f]{16}$/,
    );
    expect(findingId(forged)).not.toBe(REAL_ID);
  });

  it.each<[string, Partial<Finding>]>([
    ["a negative verdict", { verdicts: ["grant-gone"], actions: [] }],
    ["grant-differs", { verdicts: ["grant-differs"], actions: [] }],
    [
      "a stale event",
      { actions: [{ ...PLANNED_REVOKE, hold: { status: "skipped", code: "stale-event", why: "old" } }] },
    ],
    [
      "a replay",
      { actions: [{ ...PLANNED_REVOKE, hold: { status: "skipped", code: "replayed", why: "replay" } }] },
    ],
    [
      "a failed read",
      { actions: [{ ...PLANNED_REVOKE, hold: { status: "failed", code: "unverified", why: "read" } }] },
    ],
  ])("%s: the unconfirmed id, never the backed finding's", (_label, change) => {
    const finding: Finding = { ...rogueGrantFinding(), ...change };
    expect(unbacked(finding)).toBe(true);
    expect(findingId(finding)).toBe(`${REAL_ID}/unconfirmed`);
  });

  it("a decision backed by the current state (or held only by mode) keeps the finding's id", () => {
    const notify: Finding = {
      ...rogueGrantFinding(),
      actions: [{ ...PLANNED_REVOKE, hold: { status: "dry-run", code: "notify-mode", why: "notify" } }],
    };
    const takeover: Finding = { ...rogueGrantFinding(), verdicts: ["takeover"] };
    expect(findingId(rogueGrantFinding())).toBe(REAL_ID);
    expect(findingId(notify)).toBe(REAL_ID);
    expect(findingId(takeover)).toBe(REAL_ID);
  });
});
