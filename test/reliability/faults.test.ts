/**
 * Faults at every step of rogue-grant, key-deletion-scheduled and one runbook action, injected at
 * the HTTP layer so the SDK's real retry strategy runs (fake-aws.ts says why aws-sdk-client-mock
 * cannot show this). Every case ends one of two ways, and the test says which:
 * - retried and remediated: the end state in the fake is right and the notification says so;
 * - reported as failed: a notification with outcome `failed` and the error, and the invocation
 *   rejects with ActionError so Lambda's retries and the on-failure queue take over.
 * Never a silent success. Retries after a partial success and duplicate deliveries end in the
 * right state. Math.random is stubbed low so the SDK's backoff waits milliseconds, not seconds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RunbookResult } from "../../functions/runbook/run.js";
import type { HandlerResult } from "../../functions/shared/respond.js";
import { loadEvent } from "../helpers/fixtures.js";
import { FakeAws, type FakeAws as FakeAwsType, type FaultKind, type PublishedMessage } from "./fake-aws.js";

const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

/** The key and grant of events/rogue-grant/external-grantee.json. */
const GRANT_KEY = "7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34";
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
/** The key of events/key-deletion-scheduled/unapproved.json (scheduled at 2026-11-28T18:31:12Z). */
const DELETION_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab";

const RETRYABLE: FaultKind[] = ["throttle", "timeout", "5xx"];
const EVERY_FAULT: FaultKind[] = [...RETRYABLE, "access-denied"];
/** maxAttempts of the module-scope clients (functions/shared/clients.ts). */
const KMS_ATTEMPTS = 6;
const SNS_ATTEMPTS = 6;
const CLOUDTRAIL_ATTEMPTS = 6;

const ENTRY_POINTS = {
  "rogue-grant": () => import("../../functions/rogue-grant/index.js"),
  "key-deletion-scheduled": () => import("../../functions/key-deletion-scheduled/index.js"),
} as const;

interface Started<R> {
  handler: (event: unknown) => Promise<R>;
  aws: FakeAwsType;
}

function stubLambdaEnv(config: object): void {
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "example-secret");
  vi.stubEnv("AWS_SESSION_TOKEN", undefined);
  vi.stubEnv("AWS_ENDPOINT_URL", undefined);
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("KMS_RESPONDER_CONFIG", JSON.stringify(config));
  vi.stubEnv("NOTIFICATION_TOPIC_ARN", TOPIC_ARN);
}

/** A cold start of an incident handler whose module-scope SDK clients talk to a fresh fake AWS. */
async function coldStart(
  name: keyof typeof ENTRY_POINTS,
  config: object = {},
): Promise<Started<HandlerResult>> {
  vi.resetModules();
  stubLambdaEnv(config);
  const { handler } = await ENTRY_POINTS[name]();
  const { clients } = await import("../../functions/shared/clients.js");
  const aws = new FakeAws();
  aws.install(clients);
  return { handler, aws };
}

/** How an invocation ended: resolved with a result, or rejected with an error. */
type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

async function settle<R>(promise: Promise<R>): Promise<Settled<R>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function onlyNotification(aws: FakeAwsType): PublishedMessage {
  const [only, ...more] = aws.published;
  if (!only || more.length) throw new Error(`expected exactly one notification, got ${aws.published.length}`);
  return only;
}

/** Reported as failed: rejected with ActionError, and (SNS working) one notification saying so with the error. */
function expectReportedFailed<R>(settled: Settled<R>, aws: FakeAwsType, error: RegExp): PublishedMessage {
  expect(settled.ok).toBe(false);
  if (settled.ok) throw new Error("unreachable");
  expect(settled.error).toMatchObject({ name: "ActionError", message: expect.stringMatching(error) });
  const note = onlyNotification(aws);
  expect(note.attributes.outcome).toBe("failed");
  expect(note.subject).toContain("ACTION FAILED");
  expect(note.doc.actions.some((a) => a.status === "failed" && error.test(a.error ?? ""))).toBe(true);
  return note;
}

/** Retried and remediated: resolved with `outcome`, and one notification with the same outcome. */
function expectRemediated(
  settled: Settled<HandlerResult>,
  aws: FakeAwsType,
  outcome = "remediated",
): PublishedMessage {
  expect(settled).toMatchObject({ ok: true, value: { outcome } });
  const note = onlyNotification(aws);
  expect(note.attributes.outcome).toBe(outcome);
  return note;
}

/** The error text each fault produces in a notification. */
const ERROR_OF: Record<FaultKind, RegExp> = {
  throttle: /ThrottlingException|ThrottledException/,
  timeout: /TimeoutError/,
  "5xx": /KMSInternalException|InternalServerError|InternalErrorException|InternalError/,
  "access-denied": /AccessDeniedException|AuthorizationErrorException|not authorized/,
};

/** Attempts the SDK makes for a fault that never clears: all of them, or one when it is not retryable. */
function attemptsFor(kind: FaultKind, maxAttempts: number): number {
  return kind === "access-denied" ? 1 : maxAttempts;
}

beforeEach(() => {
  // The SDK's backoff is random x 2^attempt x base (1 s for throttling): keep it in milliseconds.
  vi.spyOn(Math, "random").mockReturnValue(0.001);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("rogue-grant under faults", () => {
  const event = () => loadEvent("rogue-grant/external-grantee");
  async function start() {
    const started = await coldStart("rogue-grant");
    const key = started.aws.addKey(GRANT_KEY, { grants: new Set([GRANT_ID, "other-grant"]) });
    return { ...started, key };
  }

  it.each(RETRYABLE)(
    "RevokeGrant %s burst of 3: the SDK retries (4 attempts) and the grant is revoked",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "RevokeGrant", kind, 3);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("kms", "RevokeGrant").map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
      expectRemediated(settled, aws);
      expect([...key.grants]).toEqual(["other-grant"]);
    },
  );

  it.each(EVERY_FAULT)(
    "RevokeGrant %s that never clears: notified as failed with the error, rejects; Lambda's retry then revokes",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "RevokeGrant", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess: every attempt spent (one for access denied), the grant still there, and loud.
      expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(attemptsFor(kind, KMS_ATTEMPTS));
      expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(key.grants.has(GRANT_ID)).toBe(true);

      // Act: the fault clears and Lambda delivers the event again.
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      expectRemediated(retried, aws);
      expect([...key.grants]).toEqual(["other-grant"]);
    },
  );

  it.each(EVERY_FAULT)(
    "ListResourceTags %s that never clears: the key is treated as not exempt, revoked, and the notification says the tags were unreadable",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "ListResourceTags", kind);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("kms", "ListResourceTags")).toHaveLength(attemptsFor(kind, KMS_ATTEMPTS));
      const note = expectRemediated(settled, aws);
      expect(note.doc.details.join("\n")).toMatch(/key tags could not be read/);
      expect(key.grants.has(GRANT_ID)).toBe(false);
    },
  );

  it.each(EVERY_FAULT)(
    "ListGrants (verification) %s that never clears: the revoke stands and is reported as succeeded, not verified",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "ListGrants", kind);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      const note = expectRemediated(settled, aws);
      expect(note.doc.actions).toEqual([expect.objectContaining({ status: "succeeded" })]);
      expect(note.doc.actions[0]?.verified).toBeUndefined();
      expect(key.grants.has(GRANT_ID)).toBe(false);
    },
  );

  it.each(RETRYABLE)("SNS Publish %s burst of 3: retried and published once", async (kind) => {
    // Prepare
    const { handler, aws } = await start();
    aws.fail("sns", "Publish", kind, 3);

    // Act
    const settled = await settle(handler(event()));

    // Assess
    expect(aws.attemptsOf("sns", "Publish")).toHaveLength(4);
    expectRemediated(settled, aws);
  });

  it.each(EVERY_FAULT)(
    "SNS outage (%s): the revoke stands, the invocation rejects; the retry finds it done and notifies",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("sns", "Publish", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess: not undone, not silent.
      expect(first.ok).toBe(false);
      expect(first).toMatchObject({
        error: { name: "ActionError", message: expect.stringContaining("notification failed") },
      });
      expect(aws.attemptsOf("sns", "Publish")).toHaveLength(attemptsFor(kind, SNS_ATTEMPTS));
      expect(aws.published).toHaveLength(0);
      expect(key.grants.has(GRANT_ID)).toBe(false);

      // Act: SNS is back; Lambda retries.
      aws.clearFaults();
      const retried = await settle(handler(event()));

      // Assess
      expectRemediated(retried, aws, "already-remediated");
      expect([...key.grants]).toEqual(["other-grant"]);
    },
  );

  it("duplicate deliveries, one after the other and at the same time: one revoke, the same end state", async () => {
    // Prepare
    const { handler, aws, key } = await start();

    // Act
    const results = [await handler(event()), ...(await Promise.all([handler(event()), handler(event())]))];

    // Assess
    expect(results.map((r) => r.outcome)).toEqual(["remediated", "already-remediated", "already-remediated"]);
    expect(aws.attemptsOf("kms", "RevokeGrant").filter((a) => a.answer === "ok")).toHaveLength(1);
    expect(aws.attemptsOf("kms", "RevokeGrant").every((a) => a.input.GrantId === GRANT_ID)).toBe(true);
    expect([...key.grants]).toEqual(["other-grant"]);
    expect(aws.published.map((p) => p.attributes.outcome)).toEqual([
      "remediated",
      "already-remediated",
      "already-remediated",
    ]);
  });
});

describe("key-deletion-scheduled under faults", () => {
  const event = () => loadEvent("key-deletion-scheduled/unapproved");
  async function start(history: Array<{ name: "DisableKey" | "EnableKey"; time: Date }> = []) {
    const started = await coldStart("key-deletion-scheduled");
    const key = started.aws.addKey(DELETION_KEY, {
      state: "PendingDeletion",
      history: history.length ? history : [{ name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") }],
    });
    return { ...started, key };
  }

  it.each(RETRYABLE)("CancelKeyDeletion %s burst of 3: retried, cancelled and re-enabled", async (kind) => {
    // Prepare
    const { handler, aws, key } = await start();
    aws.fail("kms", "CancelKeyDeletion", kind, 3);

    // Act
    const settled = await settle(handler(event()));

    // Assess
    expect(aws.attemptsOf("kms", "CancelKeyDeletion")).toHaveLength(4);
    expectRemediated(settled, aws);
    expect(key.state).toBe("Enabled");
  });

  it.each(EVERY_FAULT)(
    "CancelKeyDeletion %s that never clears: EnableKey not attempted, notified as failed, rejects; the retry restores the key",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "CancelKeyDeletion", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("kms", "CancelKeyDeletion")).toHaveLength(attemptsFor(kind, KMS_ATTEMPTS));
      const note = expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(note.doc.actions.map((a) => [a.type, a.status])).toEqual([
        ["cancel-key-deletion", "failed"],
        ["enable-key", "skipped"],
      ]);
      expect(aws.attemptsOf("kms", "EnableKey")).toHaveLength(0);
      expect(key.state).toBe("PendingDeletion");

      // Act
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      expectRemediated(retried, aws);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(EVERY_FAULT)(
    "partial success: cancelled, then EnableKey %s; reported failed with the key Disabled; the retry finds the cancel done and enables",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "EnableKey", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess
      const note = expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(note.doc.actions.map((a) => [a.type, a.status])).toEqual([
        ["cancel-key-deletion", "succeeded"],
        ["enable-key", "failed"],
      ]);
      expect(key.state).toBe("Disabled");

      // Act
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      const again = expectRemediated(retried, aws);
      expect(again.doc.actions.map((a) => [a.type, a.status])).toEqual([
        ["cancel-key-deletion", "already-done"],
        ["enable-key", "succeeded"],
      ]);
      expect(aws.attemptsOf("kms", "CancelKeyDeletion").filter((a) => a.answer === "ok")).toHaveLength(1);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(EVERY_FAULT)(
    "DescribeKey %s that never clears: the actions still run; the outcome is remediated and unverified",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "DescribeKey", kind);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      const note = expectRemediated(settled, aws);
      expect(note.doc.actions.map((a) => [a.type, a.status, a.verified])).toEqual([
        ["cancel-key-deletion", "succeeded", undefined],
        ["enable-key", "succeeded", undefined],
      ]);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(RETRYABLE)(
    "CloudTrail LookupEvents %s burst of 2: retried within its 3 attempts; the history decides",
    async (kind) => {
      // Prepare: the key was disabled before the deletion was scheduled, so it stays Disabled.
      const { handler, aws, key } = await start([
        { name: "DisableKey", time: new Date("2026-11-20T10:00:00Z") },
      ]);
      aws.fail("cloudtrail", "LookupEvents", kind, 2);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("cloudtrail", "LookupEvents")).toHaveLength(3);
      const note = expectRemediated(settled, aws);
      expect(note.doc.actions.map((a) => [a.type, a.status])).toEqual([
        ["cancel-key-deletion", "succeeded"],
        ["enable-key", "skipped"],
      ]);
      expect(key.state).toBe("Disabled");
    },
  );

  it.each(EVERY_FAULT)(
    "CloudTrail history unreadable (%s): the key is re-enabled by default and the notification says why",
    async (kind) => {
      // Prepare: history says Disabled, but it cannot be read.
      const { handler, aws, key } = await start([
        { name: "DisableKey", time: new Date("2026-11-20T10:00:00Z") },
      ]);
      aws.fail("cloudtrail", "LookupEvents", kind);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("cloudtrail", "LookupEvents")).toHaveLength(
        attemptsFor(kind, CLOUDTRAIL_ATTEMPTS),
      );
      const note = expectRemediated(settled, aws);
      const enable = note.doc.actions.find((a) => a.type === "enable-key");
      expect(enable).toMatchObject({ status: "succeeded" });
      expect(enable?.detail).toMatch(/CloudTrail history could not be read .*re-enabled by default/);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(EVERY_FAULT)(
    "SNS outage (%s) after a full restore: rejects; the retry changes nothing and notifies already-remediated",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("sns", "Publish", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess
      expect(first).toMatchObject({ ok: false, error: { name: "ActionError" } });
      expect(key.state).toBe("Enabled");

      // Act
      aws.clearFaults();
      const retried = await settle(handler(event()));

      // Assess
      expectRemediated(retried, aws, "already-remediated");
      expect(aws.attemptsOf("kms", "EnableKey").filter((a) => a.answer === "ok")).toHaveLength(1);
      expect(key.state).toBe("Enabled");
    },
  );

  it("duplicate deliveries, one after the other and at the same time: cancelled once, enabled, same end state", async () => {
    // Prepare
    const { handler, aws, key } = await start();

    // Act
    const results = [await handler(event()), ...(await Promise.all([handler(event()), handler(event())]))];

    // Assess
    expect(results.map((r) => r.outcome)).toEqual(["remediated", "already-remediated", "already-remediated"]);
    expect(aws.attemptsOf("kms", "CancelKeyDeletion").filter((a) => a.answer === "ok")).toHaveLength(1);
    expect(aws.attemptsOf("kms", "EnableKey").filter((a) => a.answer === "ok")).toHaveLength(1);
    expect(key.state).toBe("Enabled");
  });
});

describe("runbook cancel-key-deletion under faults", () => {
  // The runbook's failure policy (functions/runbook/run.ts): a failed action is in the result
  // (status failed) and in the notification; it does not throw, so the caller (CLI, SSM) always
  // gets the structured result. A failed notification is reported in `notificationError`.
  const payload = {
    action: "cancel-key-deletion",
    keyId: `arn:aws:kms:us-east-1:111122223333:key/${DELETION_KEY}`,
    reason: "deletion scheduled by mistake",
    requestedBy: "arn:aws:sts::111122223333:assumed-role/OnCall/alice",
    ticket: "INC-4711",
  };
  async function start(): Promise<Started<RunbookResult> & { key: ReturnType<FakeAwsType["addKey"]> }> {
    vi.resetModules();
    stubLambdaEnv({});
    const { handler } = await import("../../functions/runbook/index.js");
    const { clients } = await import("../../functions/shared/clients.js");
    const aws = new FakeAws();
    aws.install(clients);
    const key = aws.addKey(DELETION_KEY, { state: "PendingDeletion" });
    return { handler, aws, key };
  }

  it.each(RETRYABLE)("CancelKeyDeletion %s burst of 3: retried, cancelled and re-enabled", async (kind) => {
    // Prepare
    const { handler, aws, key } = await start();
    aws.fail("kms", "CancelKeyDeletion", kind, 3);

    // Act
    const result = await handler(payload);

    // Assess
    expect(result.status).toBe("succeeded");
    expect(onlyNotification(aws).attributes.outcome).toBe("remediated");
    expect(key.state).toBe("Enabled");
  });

  it.each([
    ["DescribeKey", "kms"],
    ["CancelKeyDeletion", "kms"],
    ["EnableKey", "kms"],
  ] as const)(
    "%s failing for good: status failed in the result and a failed notification with the error",
    async (operation, service) => {
      // Prepare
      const { handler, aws } = await start();
      aws.fail(service, operation, "5xx");

      // Act
      const result = await handler(payload);

      // Assess
      expect(result.status).toBe("failed");
      expect(
        result.actions.some((a) => a.status === "failed" && /KMSInternalException/.test(a.error ?? "")),
      ).toBe(true);
      const note = onlyNotification(aws);
      expect(note.attributes.outcome).toBe("failed");
      expect(note.text).toContain("KMSInternalException");
    },
  );

  it("SNS outage: the action stands and the result carries the notification error", async () => {
    // Prepare
    const { handler, aws, key } = await start();
    aws.fail("sns", "Publish", "5xx");

    // Act
    const result = await handler(payload);

    // Assess
    expect(result.status).toBe("succeeded");
    expect(result.notificationError).toMatch(/InternalError/);
    expect(key.state).toBe("Enabled");
  });
});
