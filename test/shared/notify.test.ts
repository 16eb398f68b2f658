import { describe, expect, it } from "vitest";
import { decide as decideDeletion } from "../../functions/key-deletion-scheduled/decide.js";
import { decide as decideGrant } from "../../functions/rogue-grant/decide.js";
import type { ActionResult } from "../../functions/shared/actions/action.js";
import { parseKeyArn } from "../../functions/shared/arn.js";
import { parseConfig } from "../../functions/shared/config.js";

/** Every default but the mode: enforce, as a deployment that acts sets it. */
const ENFORCE_CONFIG = parseConfig({ mode: "enforce" });

import type { Finding } from "../../functions/shared/decision.js";
import { type KmsEvent, normalise } from "../../functions/shared/event.js";
import {
  formatNotification,
  MAX_MESSAGE_BYTES,
  MAX_SUBJECT,
  type ManualRequest,
  NOTIFICATION_SCHEMA,
  type NotificationDocument,
  outcomeOf,
} from "../../functions/shared/notify.js";
import type { ActionStatus } from "../../functions/shared/types.js";
import { GRANT_KEY_ARN, GRANT_KEY_ID, loadEvent } from "../helpers/fixtures.js";

const GRANT_KEY = GRANT_KEY_ARN;
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const DELETION_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function eventOf(fixture: string): KmsEvent {
  const event = normalise(loadEvent(fixture));
  if (!event) throw new Error(`${fixture} does not normalise`);
  return event;
}

function findingOf(decision: ReturnType<typeof decideGrant>): Finding {
  if (decision.kind !== "finding") throw new Error(`expected a finding, got ${decision.skipped}`);
  return decision;
}

/** The critical rogue-grant finding of events/rogue-grant/external-grantee.json. */
function grantFinding(): Finding {
  return findingOf(decideGrant(eventOf("rogue-grant/external-grantee"), ENFORCE_CONFIG));
}

function revoked(status: ActionStatus = "succeeded"): ActionResult {
  return {
    type: "revoke-grant",
    target: `${GRANT_KEY} grant ${GRANT_ID}`,
    keyRef: GRANT_KEY,
    grantId: GRANT_ID,
    status,
    detail: "revoked",
    verified: true,
  };
}

function result(type: ActionResult["type"], status: ActionStatus): ActionResult {
  return { type, target: DELETION_KEY, keyRef: DELETION_KEY, status, detail: `${type} ${status}` };
}

function parts(message: string): { keys: string[]; text: string; doc: NotificationDocument } {
  const outer = JSON.parse(message) as Record<string, string>;
  return {
    keys: Object.keys(outer),
    text: outer.default ?? "",
    doc: JSON.parse(outer.sqs ?? "{}") as NotificationDocument,
  };
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const NASTY = `Clé 🔑 de paiement\nnouvelle ligne\tà 😀 ${"é😀\u0301\r\n".repeat(60)}`.slice(0, 250);

describe("formatNotification: subject", () => {
  it("starts with the severity, is printable ASCII and at most 99 characters for a normal finding", () => {
    // Act
    const { subject } = formatNotification({ finding: grantFinding(), results: [revoked()] });

    // Assess
    expect(subject).toBe("[CRITICAL] Rogue KMS grant, grant revoked: key 7f3c9a12 in 111122223333/us-east-1");
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT);
  });

  it("keeps the account and Region: the title is cut first, between words; severity, outcome and key stay", () => {
    // Prepare
    const base = grantFinding();
    const long: Finding = {
      ...base,
      title: "Rogue KMS grant to an untrusted external principal",
    };
    const longer: Finding = {
      ...base,
      title: "KMS key pending deletion still in use by a very busy service",
    };

    // Act
    const cut = formatNotification({ finding: long, results: [revoked()] }).subject;
    const cutMore = formatNotification({ finding: longer, results: [revoked()] }).subject;

    // Assess
    expect(cut).toBe(
      "[CRITICAL] Rogue KMS grant to an..., grant revoked: key 7f3c9a12 in 111122223333/us-east-1",
    );
    expect(cutMore).toBe(
      // 99 characters: "still" fits exactly and stays.
      "[CRITICAL] KMS key pending deletion still..., grant revoked: key 7f3c9a12 in 111122223333/us-east-1",
    );
    expect(cutMore.length).toBeLessThanOrEqual(MAX_SUBJECT);
  });

  it("names the account from accountNames, and gives up the name before the title gets too short", () => {
    // Prepare
    const base = grantFinding();
    const names = { "111122223333": "payments-prod" };
    const long: Finding = { ...base, title: "KMS key pending deletion still in use by a very busy service" };

    // Act
    const named = formatNotification({ finding: base, results: [revoked()], accountNames: names });
    const crowded = formatNotification({
      finding: long,
      results: [revoked()],
      accountNames: { "111122223333": "the-payments-production-account-eu" },
    }).subject;

    // Assess
    expect(named.subject).toBe(
      "[CRITICAL] Rogue KMS grant, grant revoked: key 7f3c9a12 in 111122223333 (payments-prod)/us-east-1",
    );
    expect(named.text).toContain("Account/Region: 111122223333 (payments-prod) / us-east-1");
    expect(named.document.key.accountName).toBe("payments-prod");
    expect(crowded).toMatch(/, grant revoked: key 7f3c9a12 in 111122223333\/us-east-1$/);
    expect(crowded.length).toBeLessThanOrEqual(MAX_SUBJECT);
  });

  it.each(["critical", "high", "medium", "low"] as const)(
    "stays printable ASCII, <= 99 chars and starts with [%s] given a 250-char unicode title, alias and event name",
    (severity) => {
      // Prepare
      const base = grantFinding();
      const finding: Finding = {
        ...base,
        severity,
        title: NASTY,
        key: undefined,
        event: base.event && { ...base.event, key: undefined, keyHint: `alias/${NASTY}`, eventName: NASTY },
      };

      // Act
      const { subject } = formatNotification({ finding, results: [] });

      // Assess
      expect(NASTY).toHaveLength(250);
      expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT);
      expect(subject).toMatch(PRINTABLE_ASCII);
      expect(subject.startsWith(`[${severity.toUpperCase()}] `)).toBe(true);
    },
  );
});

describe("formatNotification: message structure", () => {
  it("is JSON with default/email (text) and sqs/lambda/https (the versioned document)", () => {
    // Act
    const n = formatNotification({ finding: grantFinding(), results: [revoked()] });

    // Assess
    const outer = JSON.parse(n.message) as Record<string, string>;
    expect(Object.keys(outer).sort()).toEqual(["default", "email", "https", "lambda", "sqs"]);
    expect(outer.email).toBe(outer.default);
    expect(outer.lambda).toBe(outer.sqs);
    expect(outer.https).toBe(outer.sqs);
    expect(outer.default).toBe(n.text);
    expect(JSON.parse(outer.sqs ?? "")).toEqual(n.document);
  });

  it("the document carries schema, incident, severity, reasons, key, actor, event, actions with status, undo", () => {
    // Act
    const { doc } = parts(formatNotification({ finding: grantFinding(), results: [revoked()] }).message);

    // Assess
    expect(doc).toMatchObject({
      schema: NOTIFICATION_SCHEMA,
      incident: "rogue-grant",
      severity: "critical",
      reasons: expect.arrayContaining(["external-grantee"]),
      outcome: "remediated",
      key: {
        arn: GRANT_KEY,
        id: GRANT_KEY_ID,
        account: "111122223333",
        region: "us-east-1",
      },
      actor: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/mallory" },
      event: { name: "CreateGrant", time: "2026-11-28T18:22:41Z", sourceIp: "203.0.113.45" },
      actions: [{ type: "revoke-grant", status: "succeeded", verified: true, grantId: GRANT_ID }],
      undo: [expect.stringContaining("aws kms create-grant")],
      truncated: false,
    });
    expect(doc.schema).toBe("kms-responder/notification/v1");
    expect(doc.actions[0]).not.toHaveProperty("keyRef");
  });

  it("sets the message attributes severity, incident and outcome", () => {
    // Act
    const n = formatNotification({ finding: grantFinding(), results: [revoked("failed")] });

    // Assess
    expect(n.attributes).toEqual({
      severity: { DataType: "String", StringValue: "critical" },
      incident: { DataType: "String", StringValue: "rogue-grant" },
      outcome: { DataType: "String", StringValue: "failed" },
    });
  });
});

describe("formatNotification: readable text", () => {
  it("says who, from where and when, with console and CloudTrail links", () => {
    // Act
    const { text } = formatNotification({ finding: grantFinding(), results: [revoked()] });

    // Assess
    expect(text).toContain("Who: arn:aws:iam::111122223333:user/mallory (IAMUser)");
    expect(text).toContain("From: 203.0.113.45");
    expect(text).toContain("When: 2026-11-28T18:22:41Z");
    expect(text).toContain(
      `https://us-east-1.console.aws.amazon.com/kms/home?region=us-east-1#/kms/keys/${GRANT_KEY_ID}`,
    );
    expect(text).toMatch(
      /https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudtrailv2\/.*#\/events\/[0-9a-f-]+/,
    );
  });

  it("after a revoke, gives the create-grant command that puts the grant back", () => {
    // Act
    const { text } = formatNotification({ finding: grantFinding(), results: [revoked()] });

    // Assess
    expect(text).toContain(
      `aws kms create-grant --key-id ${GRANT_KEY} --grantee-principal arn:aws:iam::444455556666:role/exfil --operations Decrypt GenerateDataKey`,
    );
  });

  it("the undo of a revoke keeps the grant's retiring principal, constraints and name (no wider grant)", () => {
    // Prepare: delegation.json's grant is limited to an encryption context.
    const finding = findingOf(decideGrant(eventOf("rogue-grant/delegation"), ENFORCE_CONFIG));
    const key = "arn:aws:kms:us-east-1:111122223333:key/2b6e4f90-1c3d-4a5b-8e7f-9a0b1c2d3e4f";
    const revokedDelegation: ActionResult = { ...revoked(), target: key, keyRef: key };

    // Act
    const { document } = formatNotification({ finding, results: [revokedDelegation] });

    // Assess
    expect(document.undo).toEqual([
      `aws kms create-grant --key-id ${key} --grantee-principal arn:aws:iam::111122223333:role/batch-worker` +
        " --operations Decrypt GenerateDataKey CreateGrant RetireGrant" +
        ` --constraints '{"EncryptionContextSubset":{"app":"nightly-batch","env":"prod"}}'` +
        " --name batch-worker-delegation --region us-east-1",
    ]);
  });

  it("quotes record values that are not plain words, so the undo stays one harmless shell command", () => {
    // Prepare
    const base = grantFinding();
    const event = base.event;
    if (event?.detail.kind !== "grant") throw new Error("expected the CreateGrant event");
    const finding: Finding = {
      ...base,
      event: { ...event, detail: { ...event.detail, grantee: "x; rm -rf ~ 'y'" } },
    };

    // Act
    const [undo] = formatNotification({ finding, results: [revoked()] }).document.undo;

    // Assess
    expect(undo).toContain(String.raw`--grantee-principal 'x; rm -rf ~ '\''y'\''' --operations`);
  });

  it("after a cancelled deletion, gives the schedule-key-deletion command; nothing to undo for already-done", () => {
    // Prepare
    const finding = findingOf(decideDeletion(eventOf("key-deletion-scheduled/unapproved"), ENFORCE_CONFIG));

    // Act
    const n = formatNotification({
      finding,
      results: [result("cancel-key-deletion", "succeeded"), result("enable-key", "already-done")],
    });

    // Assess
    expect(n.document.undo).toEqual([
      `aws kms schedule-key-deletion --key-id ${DELETION_KEY} --pending-window-in-days 30 --region us-east-1`,
    ]);
    expect(n.document.undoSteps).toEqual([
      {
        action: "cancel-key-deletion",
        when: expect.stringContaining("only if the deletion was intended"),
        command: `aws kms schedule-key-deletion --key-id ${DELETION_KEY} --pending-window-in-days 30 --region us-east-1`,
      },
    ]);
    expect(n.text).toContain("How to undo (in this order, each only when its condition holds):");
    expect(n.text).toContain("aws kms schedule-key-deletion");
  });

  it("a failed action is reported with its error and outcome failed", () => {
    // Prepare
    const failure: ActionResult = {
      ...revoked("failed"),
      detail: "RevokeGrant failed: AccessDeniedException: not authorized",
      error: "AccessDeniedException: not authorized",
    };

    // Act
    const n = formatNotification({ finding: grantFinding(), results: [failure] });

    // Assess
    expect(n.subject).toContain("ACTION FAILED");
    expect(n.text).toContain("AccessDeniedException: not authorized");
    expect(n.text).toContain("Outcome: failed");
    expect(n.document.undo).toEqual([]);
  });
});

describe("formatNotification: size", () => {
  it("cuts a 300 KB extra field and 5,000 detail lines to fit 250,000 bytes, keeping incident, key and outcome", () => {
    // Prepare
    const base = grantFinding();
    const finding: Finding = {
      ...base,
      details: Array.from({ length: 5_000 }, (_, i) => `detail line ${i}: ${"é".repeat(40)}`),
    };
    const extra = { previousPolicy: "😀".repeat(75_000), note: "x".repeat(1_000) };

    // Act
    const n = formatNotification({ finding, results: [revoked()], extra });

    // Assess
    expect(Buffer.byteLength(n.message, "utf8")).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const { doc, text } = parts(n.message);
    expect(doc).toMatchObject({
      schema: NOTIFICATION_SCHEMA,
      truncated: true,
      incident: "rogue-grant",
      severity: "critical",
      outcome: "remediated",
      key: { arn: GRANT_KEY },
      actor: { arn: "arn:aws:iam::111122223333:user/mallory" },
    });
    expect(n.attributes.outcome.StringValue).toBe("remediated");
    expect(text).toContain(GRANT_KEY);
    expect(text).toContain("shortened to fit");
  });

  it("also fits when the extra field is a wide object (50,000 keys) rather than a long string", () => {
    // Prepare
    const extra = {
      encryptionContext: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, `v${i}`])),
    };

    // Act
    const n = formatNotification({ finding: grantFinding(), results: [revoked()], extra });

    // Assess
    expect(Buffer.byteLength(n.message, "utf8")).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(n.document).toMatchObject({ truncated: true, incident: "rogue-grant", outcome: "remediated" });
  });

  it("leaves a normal message untouched (truncated false)", () => {
    // Act
    const n = formatNotification({ finding: grantFinding(), results: [revoked()], extra: { small: "x" } });

    // Assess
    expect(n.document.truncated).toBe(false);
    expect(n.document.extra).toEqual({ small: "x" });
  });
});

describe("outcomeOf", () => {
  it.each<[ActionStatus[], string]>([
    [[], "notified"],
    [["succeeded"], "remediated"],
    [["succeeded", "skipped"], "remediated"],
    [["succeeded", "already-done"], "remediated"],
    [["already-done"], "already-remediated"],
    [["already-done", "already-done"], "already-remediated"],
    [["dry-run"], "dry-run"],
    [["dry-run", "dry-run"], "dry-run"],
    [["skipped"], "skipped"],
    [["skipped", "dry-run"], "dry-run"],
    [["succeeded", "failed"], "failed"],
    [["failed", "skipped"], "failed"],
    [["already-done", "failed"], "failed"],
  ])("%j -> %s", (statuses, outcome) => {
    expect(outcomeOf(statuses.map((s) => result("enable-key", s)))).toBe(outcome);
  });
});

describe("formatNotification: the key the finding is about", () => {
  const REPLICA = "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";

  /** A finding about another key than the event's (ReplicateKey: the new replica). */
  function replicaFinding(): Finding {
    return { ...grantFinding(), key: parseKeyArn(REPLICA) };
  }

  it("names the finding's key in the subject, the document and the console link, not the event's", () => {
    // Act
    const n = formatNotification({ finding: replicaFinding(), results: [] });

    // Assess
    expect(n.subject.endsWith(": key mrk-6c7d in 111122223333/us-west-2")).toBe(true);
    expect(n.document.key).toEqual({
      arn: REPLICA,
      id: "mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
      account: "111122223333",
      region: "us-west-2",
    });
    expect(n.document.links.key).toBe(
      "https://us-west-2.console.aws.amazon.com/kms/home?region=us-west-2#/kms/keys/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0",
    );
    // The CloudTrail event was logged where the call was made.
    expect(n.document.links.cloudTrail).toContain(
      "region=us-east-1#/events/7404c6cc-a32e-4c17-bddb-150a93c40481",
    );
  });

  it("the undo runs in the key's Region", () => {
    // Prepare
    const result: ActionResult = { ...revoked(), keyRef: REPLICA, target: `${REPLICA} grant ${GRANT_ID}` };

    // Act
    const [undo] = formatNotification({ finding: replicaFinding(), results: [result] }).document.undo;

    // Assess
    expect(undo).toMatch(new RegExp(`^aws kms create-grant --key-id ${REPLICA} .* --region us-west-2$`));
  });

  it("a finding whose key is unknown names the alias the record used, and keeps the event's account/Region", () => {
    // Prepare
    const base = grantFinding();
    const finding: Finding = {
      ...base,
      key: undefined,
      event: base.event && { ...base.event, key: undefined, keyHint: "alias/payments" },
    };

    // Act
    const n = formatNotification({ finding, results: [] });

    // Assess
    expect(n.subject.endsWith(": key alias/payments in 111122223333/us-east-1")).toBe(true);
    expect(n.document.key).toEqual({ alias: "alias/payments", account: "111122223333", region: "us-east-1" });
    expect(n.document.links).not.toHaveProperty("key");
    expect(n.text).toContain("Key: alias/payments (alias/payments)");
  });
});

describe("formatNotification: verdicts", () => {
  it("puts the finding's verdicts in the JSON document", () => {
    // Prepare
    const finding: Finding = { ...grantFinding(), actions: [], verdicts: ["grant-gone"] };

    // Act
    const n = formatNotification({ finding, results: [] });

    // Assess
    expect(n.document.verdicts).toEqual(["grant-gone"]);
    expect(parts(n.message).doc.verdicts).toEqual(["grant-gone"]);
  });

  it("leaves verdicts out when there are none", () => {
    // Act
    const n = formatNotification({ finding: { ...grantFinding(), verdicts: [] }, results: [] });

    // Assess
    expect(n.document).not.toHaveProperty("verdicts");
  });
});

describe("formatNotification: runbook findings (a person asked, no event)", () => {
  const KEY = parseKeyArn(DELETION_KEY);

  function runbookFinding(): Finding {
    return {
      kind: "finding",
      incident: "runbook",
      severity: "medium",
      reasons: ["manual-disable-key"],
      title: "Runbook disable-key",
      summary: "disable-key on the key: suspected leak",
      details: [],
      actions: [{ type: "disable-key", keyRef: DELETION_KEY }],
      event: undefined,
      key: KEY,
    };
  }

  const request: ManualRequest = {
    at: "2026-11-28T19:00:00.000Z",
    executedBy: "arn:aws:sts::111122223333:assumed-role/Oncall/ana",
    statedBy: "ana@example.com",
    reason: "suspected leak",
    ticket: "INC-4711",
  };

  it("says who ran it (SSM's ExecutedBy), who they said they are, why, and the ticket", () => {
    // Act
    const n = formatNotification({
      finding: runbookFinding(),
      results: [result("disable-key", "succeeded")],
      request,
    });

    // Assess
    expect(n.text).toContain("Run by: arn:aws:sts::111122223333:assumed-role/Oncall/ana");
    expect(n.text).toContain("Stated by: ana@example.com (as typed by the caller, not verified)");
    expect(n.text).toContain("Reason: suspected leak   Ticket: INC-4711");
    expect(n.text).toContain("When: 2026-11-28T19:00:00.000Z");
    expect(n.document.request).toEqual(request);
  });

  it("the JSON document's actor is the runbook run by the SSM identity, and its event is the request", () => {
    // Act
    const { document } = formatNotification({
      finding: runbookFinding(),
      results: [result("disable-key", "succeeded")],
      request,
    });

    // Assess
    expect(document.actor).toEqual({
      type: "Runbook",
      arn: "arn:aws:sts::111122223333:assumed-role/Oncall/ana",
      principal: "arn:aws:sts::111122223333:assumed-role/Oncall/ana",
    });
    expect(document.event).toEqual({ name: "Runbook disable-key", time: "2026-11-28T19:00:00.000Z" });
    expect(document.key).toMatchObject({ arn: DELETION_KEY, region: "us-east-1" });
    expect(document.links).not.toHaveProperty("cloudTrail");
    expect(document.undo).toEqual([`aws kms enable-key --key-id ${DELETION_KEY} --region us-east-1`]);
  });

  it("run outside SSM Automation: 'Run by' says unknown, no Stated by line without a stated name, no ticket", () => {
    // Act
    const n = formatNotification({
      finding: runbookFinding(),
      results: [result("disable-key", "succeeded")],
      request: { reason: "drill" },
    });

    // Assess
    expect(n.text).toContain("Run by: unknown (not run through SSM Automation)");
    expect(n.text).not.toContain("Stated by:");
    expect(n.text).toContain("Reason: drill");
    expect(n.text).not.toContain("Ticket:");
    expect(n.document.actor).toEqual({ type: "Runbook" });
  });

  it("the subject names the key and its location, severity first", () => {
    // Act
    const { subject } = formatNotification({
      finding: runbookFinding(),
      results: [result("disable-key", "succeeded")],
      request,
    });

    // Assess
    expect(subject).toBe(
      "[MEDIUM] Runbook disable-key, key disabled: key 1234abcd in 111122223333/us-east-1",
    );
  });

  it("the undo of a runbook revoke re-creates the grant as it was listed (result.grant), limits included", () => {
    // Prepare: no event, so the grant can only come from the result
    const revokedListed: ActionResult = {
      ...revoked(),
      keyRef: DELETION_KEY,
      target: `${DELETION_KEY} grant ${GRANT_ID}`,
      grant: {
        granteePrincipal: "arn:aws:iam::444455556666:role/exfil",
        operations: ["Decrypt", "Encrypt"],
        retiringPrincipal: "arn:aws:iam::111122223333:role/ops",
        constraints: { encryptionContextEquals: { tenant: "acme" } },
        name: "partner access",
      },
    };

    // Act
    const { document } = formatNotification({ finding: runbookFinding(), results: [revokedListed], request });

    // Assess
    expect(document.undo).toEqual([
      `aws kms create-grant --key-id ${DELETION_KEY} --grantee-principal arn:aws:iam::444455556666:role/exfil` +
        " --operations Decrypt Encrypt --retiring-principal arn:aws:iam::111122223333:role/ops" +
        ` --constraints '{"EncryptionContextEquals":{"tenant":"acme"}}' --name 'partner access' --region us-east-1`,
    ]);
  });

  it("result.grant wins over the event's requested grant (the listed grant is what was revoked)", () => {
    // Prepare
    const listed: ActionResult = {
      ...revoked(),
      grant: { granteePrincipal: "arn:aws:iam::444455556666:role/other", operations: ["Sign"] },
    };

    // Act
    const [undo] = formatNotification({ finding: grantFinding(), results: [listed] }).document.undo;

    // Assess
    expect(undo).toBe(
      `aws kms create-grant --key-id ${GRANT_KEY} --grantee-principal arn:aws:iam::444455556666:role/other --operations Sign --region us-east-1`,
    );
  });
});
