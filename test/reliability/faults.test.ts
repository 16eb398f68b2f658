/**
 * Faults at every step of the responders, injected at the HTTP layer so the SDK's real retry
 * strategy runs (fake-aws.ts says why aws-sdk-client-mock cannot show this). Handlers are the
 * deployed entries (`functions/<name>/index.ts`), found through the registry. Every case ends one
 * of two ways, and the test says which:
 * - retried and remediated: the end state in the fake is right and the notification says so;
 * - reported as failed: a notification with outcome `failed` and the error, and the invocation
 *   rejects with ActionError so Lambda's retries and the on-failure queue take over.
 * Never a silent success, never an action on state that could not be read. Retries after a partial
 * success and duplicate deliveries end in the right state. Math.random is stubbed low so the SDK's
 * backoff waits milliseconds, not seconds.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DETAIL_PARSERS, INCIDENTS, type RegisteredIncident } from "../../functions/registry.js";
import { parsePayload } from "../../functions/runbook/payload.js";
import { runRunbook } from "../../functions/runbook/run.js";
import { parseConfig } from "../../functions/shared/config.js";

/** Every default but the mode: enforce, as a deployment that acts sets it. */
const ENFORCE_CONFIG = parseConfig({ mode: "enforce" });

import { normalise } from "../../functions/shared/event.js";
import { factPermissions } from "../../functions/shared/facts.js";
import { cloudTrailHistory } from "../../functions/shared/history.js";
import type { HandlerResult } from "../../functions/shared/pipeline.js";
import { incidentFor } from "../../functions/shared/route.js";
import { MUTATING_OPERATIONS } from "../helpers/fake-kms.js";
import { loadAllEvents } from "../helpers/fixtures.js";
import { FakeAws, type FaultKind, keyArnOf, type PublishedMessage, type Service } from "./fake-aws.js";
import { coldStart, coldStartRunbook, fixture, seedFromEvent, TOPIC_ARN } from "./responders.js";

// Before the imports above are evaluated: the logger and metrics of the modules this file imports
// directly (runRunbook's) read these once, at import. Cold-started handlers get them from stubLambdaEnv.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
});

/** The grant of events/rogue-grant/external-grantee.json. */
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
/** The key of events/key-deletion-scheduled/unapproved.json (scheduled at 2026-11-28T18:31:12Z). */
const DELETION_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab";

/** Where the cold-started handlers run (AWS_REGION, and the topic's account). */
const RESPONDER = { region: "us-east-1", account: "111122223333" };

/** Faults the SDK retries (transient: throttling, timeouts, 5xx, a proxy's 502 page). */
const RETRYABLE: FaultKind[] = ["throttle", "timeout", "5xx", "bad-gateway"];
/** Faults it does not: the first answer is final. */
const FINAL: FaultKind[] = ["access-denied", "malformed"];
const EVERY_FAULT: FaultKind[] = [...RETRYABLE, ...FINAL];
/** maxAttempts of the module-scope clients (functions/shared/clients/retry.ts). */
const ATTEMPTS = 6;

/** The error text each fault produces in a notification. */
const ERROR_OF: Record<FaultKind, RegExp> = {
  throttle: /ThrottlingException|Throttled/,
  timeout: /TimeoutError/,
  "5xx": /KMSInternalException|InternalServerError|InternalError/,
  "bad-gateway": /UnreadableResponse: HTTP 502,|Unknown/,
  "access-denied": /AccessDeniedException|AuthorizationError|not authorized/,
  malformed: /UnreadableResponse: HTTP 200,|XML parse error/,
};

/** Attempts the SDK makes for a fault that never clears: all of them, or one when it is final. */
function attemptsFor(kind: FaultKind): number {
  return FINAL.includes(kind) ? 1 : ATTEMPTS;
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

function onlyNotification(aws: FakeAws): PublishedMessage {
  const [only, ...more] = aws.published;
  if (!only || more.length) throw new Error(`expected exactly one notification, got ${aws.published.length}`);
  return only;
}

/** Reported as failed: rejected with ActionError, and one notification saying so with the error. */
function expectReportedFailed<R>(settled: Settled<R>, aws: FakeAws, error: RegExp): PublishedMessage {
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
function expectSettled(
  settled: Settled<HandlerResult>,
  aws: FakeAws,
  outcome = "remediated",
): PublishedMessage {
  expect(settled).toMatchObject({ ok: true, value: { outcome } });
  const note = onlyNotification(aws);
  expect(note.attributes.outcome).toBe(outcome);
  return note;
}

/** The mutating KMS calls that reached the fake (answered or not). */
function mutationsSent(aws: FakeAws): string[] {
  return aws.attempts
    .filter((a) => a.service === "kms" && MUTATING_OPERATIONS.has(a.operation))
    .map((a) => a.operation);
}

/** The mutating KMS calls the fake applied. */
function mutationsApplied(aws: FakeAws, operation?: string): string[] {
  return aws.kms.log
    .filter(
      (c) => MUTATING_OPERATIONS.has(c.operation) && !c.error && (!operation || c.operation === operation),
    )
    .map((c) => c.operation);
}

/** The service and operation each declared read calls (from the read's IAM permission). */
function readOperations(incident: RegisteredIncident): Array<{ service: Service; operation: string }> {
  return incident.reads(ENFORCE_CONFIG).flatMap((name) =>
    factPermissions(name).map((permission) => {
      const [prefix = "", operation = ""] = permission.split(":");
      return { service: prefix === "cloudtrail" ? "cloudtrail" : "kms", operation };
    }),
  );
}

/** The KMS operation an executor of the incident changes the key with (its mutating permission). */
function mutatingOperationOf(incident: RegisteredIncident, type: string): string {
  const executor = incident.executors.find((e) => e.type === type);
  const operation = executor?.permissions
    .map((p) => p.replace(/^kms:/, ""))
    .find((op) => MUTATING_OPERATIONS.has(op));
  if (!operation) throw new Error(`${incident.name} has no mutating executor for ${type}`);
  return operation;
}

beforeEach(() => {
  // The SDK's backoff is random x 2^attempt x base (1 s for throttling): keep it in milliseconds.
  vi.spyOn(Math, "random").mockReturnValue(0.001);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

// --- every incident that acts on one of its fixtures, through its deployed entry ---

/**
 * The fixtures on which an incident acts under the default config: routed to it by the registry,
 * and planning at least one action offline. Found from the registry and the fixtures, so a new
 * incident with an acting fixture is covered without a line here.
 */
const ACTING = loadAllEvents().flatMap((f) => {
  const event = normalise(f.event, DETAIL_PARSERS);
  const incident = event && incidentFor(INCIDENTS, event);
  if (!event || !incident || f.incident !== incident.name) return [];
  // Judged where the handlers run (us-east-1, 111122223333): a replica elsewhere is not ours to act on.
  const decision = incident.decide(event, ENFORCE_CONFIG, { responder: RESPONDER });
  const acts = decision.kind === "finding" && decision.actions.some((a) => !a.hold);
  return acts ? [{ name: `${f.incident}/${f.variant}`, incident, raw: f.event }] : [];
});

describe("every acting incident under faults, through functions/<name>/index.ts", () => {
  it("covers an acting fixture of every incident that can act under the default config", () => {
    const covered = new Set(ACTING.map((a) => a.incident.name));
    const canAct = INCIDENTS.filter((i) => i.plans(ENFORCE_CONFIG).length > 0).map((i) => i.name);
    expect([...covered].sort()).toEqual([...canAct].sort());
  });

  describe.each(ACTING.map((a) => [a.name, a] as const))("%s", (_name, { incident, raw }) => {
    async function start() {
      const started = await coldStart(incident);
      const key = seedFromEvent(started.aws.kms, raw);
      return { ...started, key };
    }

    it("healthy: remediated and notified once (the baseline the faults below break)", async () => {
      // Prepare
      const { handler, aws } = await start();

      // Act
      const settled = await settle(handler(structuredClone(raw)));

      // Assess
      const note = expectSettled(settled, aws);
      expect(note.doc.actions.every((a) => a.status === "succeeded")).toBe(true);
      expect(mutationsApplied(aws)).toHaveLength(note.doc.actions.length);
    });

    it("every read it declares failing for good (5xx): nothing changed, actions held failed/unverified, notified failed, rejects", async () => {
      // Prepare
      const { handler, aws } = await start();
      for (const { service, operation } of readOperations(incident)) aws.fail(service, operation, "5xx");

      // Act
      const settled = await settle(handler(structuredClone(raw)));

      // Assess: not one mutating call left the function; the failure is loud.
      expect(mutationsSent(aws)).toEqual([]);
      const note = expectReportedFailed(settled, aws, /could not be read|InternalError|KMSInternalException/);
      expect(note.doc.actions.length).toBeGreaterThan(0);
      for (const action of note.doc.actions) {
        expect(action.status).toBe("failed");
        expect(action.detail).toMatch(/not acting blind|could not be/);
      }
    });

    it("its first action failing (access denied): later actions skipped, notified failed, rejects", async () => {
      // Prepare: find the plan on a healthy run, then deny the first action's call.
      const healthy = await start();
      const plan = await healthy.handler(structuredClone(raw));
      const [first, ...later] = plan.actions ?? [];
      if (!first) throw new Error("the healthy run planned nothing");
      const { handler, aws } = await start();
      const operation = mutatingOperationOf(incident, first.type);
      aws.fail("kms", operation, "access-denied");

      // Act
      const settled = await settle(handler(structuredClone(raw)));

      // Assess
      const note = expectReportedFailed(settled, aws, ERROR_OF["access-denied"]);
      expect(note.doc.actions.map((a) => [a.type, a.status])).toEqual([
        [first.type, "failed"],
        ...later.map((a) => [a.type, "skipped"]),
      ]);
      expect(mutationsSent(aws)).toEqual([operation]);
      expect(mutationsApplied(aws)).toEqual([]);
    });

    it("publish failing for good (5xx): the actions stand, rejects; the retry answers already-done or a verdict", async () => {
      // Prepare
      const { handler, aws } = await start();
      aws.fail("sns", "Publish", "5xx");

      // Act
      const first = await settle(handler(structuredClone(raw)));

      // Assess: not undone, not silent.
      expect(first).toMatchObject({
        ok: false,
        error: { name: "ActionError", message: expect.stringContaining("notification failed") },
      });
      expect(aws.published).toHaveLength(0);
      const applied = mutationsApplied(aws);
      expect(applied.length).toBeGreaterThan(0);

      // Act: SNS is back; Lambda retries.
      aws.clearFaults();
      const retried = await settle(handler(structuredClone(raw)));

      // Assess: nothing changed twice; the notification says why nothing was needed.
      expect(mutationsApplied(aws)).toEqual(applied);
      expect(retried.ok).toBe(true);
      if (!retried.ok) return;
      const note = onlyNotification(aws);
      expect(["already-remediated", "notified"]).toContain(retried.value.outcome);
      expect(note.attributes.outcome).toBe(retried.value.outcome);
      const alreadyDone =
        note.doc.actions.length > 0 && note.doc.actions.every((a) => a.status === "already-done");
      expect(alreadyDone || (note.doc.verdicts ?? []).length > 0).toBe(true);
    });
  });
});

// --- rogue-grant ---

describe("rogue-grant (events/rogue-grant/external-grantee.json) under faults", () => {
  const { event, incident } = fixture("rogue-grant/external-grantee");
  async function start() {
    const started = await coldStart(incident);
    const key = seedFromEvent(started.aws.kms, event());
    if (!key) throw new Error("the fixture names no key");
    key.grants.push({
      GrantId: "other-grant",
      GranteePrincipal: "arn:aws:iam::111122223333:role/app",
      Operations: ["Decrypt"],
    });
    return { ...started, key };
  }
  const grantIds = (key: { grants: Array<{ GrantId: string }> }) => key.grants.map((g) => g.GrantId);

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
      expectSettled(settled, aws);
      expect(grantIds(key)).toEqual(["other-grant"]);
    },
  );

  it.each(RETRYABLE.concat("access-denied"))(
    "RevokeGrant %s that never clears: notified as failed with the error, rejects; Lambda's retry then revokes",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "RevokeGrant", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess: every attempt spent (one for access denied), the grant still there, and loud.
      expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(attemptsFor(kind));
      expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(grantIds(key)).toContain(GRANT_ID);

      // Act: the fault clears and Lambda delivers the event again.
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      expectSettled(retried, aws);
      expect(grantIds(key)).toEqual(["other-grant"]);
    },
  );

  it("RevokeGrant applied but its answer cut off (malformed): reported failed, rejects; the retry finds the grant gone", async () => {
    // Prepare: KMS revoked the grant; the answer never arrived whole, so the SDK cannot say so.
    const { handler, aws, key } = await start();
    aws.fail("kms", "RevokeGrant", "malformed", 1);

    // Act
    const first = await settle(handler(event()));

    // Assess: no success is claimed that was not seen.
    expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(1);
    expectReportedFailed(first, aws, ERROR_OF.malformed);
    expect(grantIds(key)).toEqual(["other-grant"]);

    // Act
    aws.published.length = 0;
    const retried = await settle(handler(event()));

    // Assess
    const note = expectSettled(retried, aws, "notified");
    expect(note.doc.verdicts).toEqual(["grant-gone"]);
    expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(1);
  });

  it.each(EVERY_FAULT)(
    "ListGrants (the grant as it is now) %s that never clears: no RevokeGrant, held failed/unverified, rejects; the retry revokes",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "ListGrants", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess: never revoke blind.
      expect(aws.attemptsOf("kms", "ListGrants")).toHaveLength(attemptsFor(kind));
      expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(0);
      const note = expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(note.doc.actions).toEqual([
        expect.objectContaining({
          type: "revoke-grant",
          status: "failed",
          detail: expect.stringMatching(/not acting blind/),
        }),
      ]);
      expect(grantIds(key)).toContain(GRANT_ID);

      // Act
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      expectSettled(retried, aws);
      expect(grantIds(key)).toEqual(["other-grant"]);
    },
  );

  it.each(EVERY_FAULT)(
    "ListGrants read-back %s after the revoke: the revoke stands, succeeded and unverified",
    async (kind) => {
      // Prepare: the first ListGrants (the grant as it is now) answers; the read-back does not.
      const { handler, aws, key } = await start();
      aws.fail("kms", "ListGrants", kind, Number.POSITIVE_INFINITY, 1);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      const note = expectSettled(settled, aws);
      expect(note.doc.actions).toEqual([expect.objectContaining({ status: "succeeded" })]);
      expect(note.doc.actions[0]?.verified).toBeUndefined();
      expect(grantIds(key)).toEqual(["other-grant"]);
    },
  );

  // KNOWN BUG (reported): rogue-grant's decide holds its revoke only on a failed `grant` read, so a
  // key tagged exempt whose tags cannot be read loses its grant. The product promises exempt keys
  // no automatic action, and the pipeline's policy is never to act blind. `fails` keeps the wanted
  // behaviour pinned: when the fix lands these start passing and vitest says to drop `.fails`.
  it.each(EVERY_FAULT)(
    "ListResourceTags %s that never clears: the exemption cannot be checked, so no RevokeGrant; held failed/unverified, rejects",
    async (kind) => {
      // Prepare: the key is in fact tagged exempt; the responder cannot see it.
      const { handler, aws, key } = await start();
      key.tags["kms-responder:exempt"] = "true";
      aws.fail("kms", "ListResourceTags", kind);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("kms", "ListResourceTags")).toHaveLength(attemptsFor(kind));
      expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(0);
      expectReportedFailed(settled, aws, ERROR_OF[kind]);
      expect(grantIds(key)).toContain(GRANT_ID);
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
    expectSettled(settled, aws);
  });

  it.each(EVERY_FAULT)(
    "SNS outage (%s): the revoke stands, the invocation rejects; the retry finds the grant gone and notifies",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("sns", "Publish", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess: not undone, not silent. A cut-off answer means SNS may have published it already:
      // the retry publishes again (at least once, never never).
      expect(first).toMatchObject({
        ok: false,
        error: { name: "ActionError", message: expect.stringContaining("notification failed") },
      });
      expect(aws.attemptsOf("sns", "Publish")).toHaveLength(attemptsFor(kind));
      expect(grantIds(key)).toEqual(["other-grant"]);

      // Act: SNS is back; Lambda retries.
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess: the grant as it is now is gone; nothing is revoked twice.
      const note = expectSettled(retried, aws, "notified");
      expect(note.doc.verdicts).toEqual(["grant-gone"]);
      expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(1);
    },
  );

  it("duplicate deliveries one after the other: one revoke, the later ones find the grant gone", async () => {
    // Prepare
    const { handler, aws, key } = await start();

    // Act
    const results = [await handler(event()), await handler(event())];

    // Assess
    expect(results.map((r) => [r.outcome, r.verdicts])).toEqual([
      ["remediated", undefined],
      ["notified", ["grant-gone"]],
    ]);
    expect(aws.attemptsOf("kms", "RevokeGrant")).toHaveLength(1);
    expect(grantIds(key)).toEqual(["other-grant"]);
  });

  it("duplicate deliveries at the same time: the grant is revoked once, the others answer already-done or grant-gone", async () => {
    // Prepare
    const { handler, aws, key } = await start();

    // Act
    const results = await Promise.all([handler(event()), handler(event()), handler(event())]);

    // Assess
    expect(mutationsApplied(aws, "RevokeGrant")).toHaveLength(1);
    expect(aws.attemptsOf("kms", "RevokeGrant").every((a) => a.input.GrantId === GRANT_ID)).toBe(true);
    expect(results.filter((r) => r.outcome === "remediated")).toHaveLength(1);
    for (const r of results.filter((r) => r.outcome !== "remediated")) {
      expect(
        r.outcome === "already-remediated" ||
          (r.outcome === "notified" && r.verdicts?.includes("grant-gone")),
      ).toBe(true);
    }
    expect(grantIds(key)).toEqual(["other-grant"]);
    expect(aws.published).toHaveLength(3);
  });
});

// --- key-deletion-scheduled ---

describe("key-deletion-scheduled (events/key-deletion-scheduled/unapproved.json) under faults", () => {
  const { event, incident } = fixture("key-deletion-scheduled/unapproved");
  async function start(history: Array<{ name: "DisableKey" | "EnableKey"; time: Date }> = []) {
    const started = await coldStart(incident);
    const key = started.aws.addKey(DELETION_KEY, {
      state: "PendingDeletion",
      history: history.length ? history : [{ name: "EnableKey", time: new Date("2026-11-10T10:00:00Z") }],
    });
    return { ...started, key };
  }
  const steps = (note: PublishedMessage) => note.doc.actions.map((a) => [a.type, a.status]);

  it.each(RETRYABLE)("CancelKeyDeletion %s burst of 3: retried, cancelled and re-enabled", async (kind) => {
    // Prepare
    const { handler, aws, key } = await start();
    aws.fail("kms", "CancelKeyDeletion", kind, 3);

    // Act
    const settled = await settle(handler(event()));

    // Assess
    expect(aws.attemptsOf("kms", "CancelKeyDeletion")).toHaveLength(4);
    expectSettled(settled, aws);
    expect(key.state).toBe("Enabled");
  });

  it.each(RETRYABLE.concat("access-denied"))(
    "CancelKeyDeletion %s that never clears: EnableKey not attempted, notified as failed, rejects; the retry restores the key",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "CancelKeyDeletion", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess
      expect(aws.attemptsOf("kms", "CancelKeyDeletion")).toHaveLength(attemptsFor(kind));
      const note = expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(steps(note)).toEqual([
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
      expectSettled(retried, aws);
      expect(key.state).toBe("Enabled");
    },
  );

  it("CancelKeyDeletion applied but its answer cut off (malformed): reported failed, key Disabled; the retry sees it not pending and enables", async () => {
    // Prepare
    const { handler, aws, key } = await start();
    aws.fail("kms", "CancelKeyDeletion", "malformed", 1);

    // Act
    const first = await settle(handler(event()));

    // Assess: the SDK could not read the answer, so the responder cannot claim success.
    const note = expectReportedFailed(first, aws, ERROR_OF.malformed);
    expect(steps(note)).toEqual([
      ["cancel-key-deletion", "failed"],
      ["enable-key", "skipped"],
    ]);
    expect(key.state).toBe("Disabled");

    // Act
    aws.published.length = 0;
    const retried = await settle(handler(event()));

    // Assess
    const again = expectSettled(retried, aws);
    expect(steps(again)).toEqual([["enable-key", "succeeded"]]);
    expect(again.doc.verdicts).toEqual(["not-pending-deletion"]);
    expect(key.state).toBe("Enabled");
  });

  it.each(EVERY_FAULT.filter((k) => k !== "malformed"))(
    "partial success: cancelled, then EnableKey %s; reported failed with the key Disabled; the retry finds nothing to cancel and enables",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "EnableKey", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess
      const note = expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(steps(note)).toEqual([
        ["cancel-key-deletion", "succeeded"],
        ["enable-key", "failed"],
      ]);
      expect(key.state).toBe("Disabled");

      // Act
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      const again = expectSettled(retried, aws);
      expect(steps(again)).toEqual([["enable-key", "succeeded"]]);
      expect(again.doc.verdicts).toEqual(["not-pending-deletion"]);
      expect(mutationsApplied(aws, "CancelKeyDeletion")).toHaveLength(1);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(EVERY_FAULT)(
    "DescribeKey (the key state now) %s that never clears: no CancelKeyDeletion, held failed/unverified, rejects; the retry restores",
    async (kind) => {
      // Prepare
      const { handler, aws, key } = await start();
      aws.fail("kms", "DescribeKey", kind);

      // Act
      const first = await settle(handler(event()));

      // Assess
      expect(mutationsSent(aws)).toEqual([]);
      const note = expectReportedFailed(first, aws, ERROR_OF[kind]);
      expect(steps(note)).toEqual([
        ["cancel-key-deletion", "failed"],
        ["enable-key", "failed"],
      ]);
      expect(key.state).toBe("PendingDeletion");

      // Act
      aws.clearFaults();
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      expectSettled(retried, aws);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(EVERY_FAULT)(
    "DescribeKey read-back %s after the state was read: the actions run; remediated and unverified",
    async (kind) => {
      // Prepare: the first DescribeKey (the key state now) answers; every read-back does not.
      const { handler, aws, key } = await start();
      aws.fail("kms", "DescribeKey", kind, Number.POSITIVE_INFINITY, 1);

      // Act
      const settled = await settle(handler(event()));

      // Assess
      const note = expectSettled(settled, aws);
      expect(note.doc.actions.map((a) => [a.type, a.status, a.verified])).toEqual([
        ["cancel-key-deletion", "succeeded", undefined],
        ["enable-key", "succeeded", undefined],
      ]);
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(RETRYABLE)(
    "CloudTrail LookupEvents %s burst of 2: retried; the history decides (disabled before: left Disabled)",
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
      const note = expectSettled(settled, aws);
      expect(steps(note)).toEqual([["cancel-key-deletion", "succeeded"]]);
      expect(note.doc.details.join("\n")).toMatch(/Left Disabled: the key was disabled before the event/);
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
      expect(aws.attemptsOf("cloudtrail", "LookupEvents")).toHaveLength(attemptsFor(kind));
      const note = expectSettled(settled, aws);
      expect(steps(note)).toEqual([
        ["cancel-key-deletion", "succeeded"],
        ["enable-key", "succeeded"],
      ]);
      expect(note.doc.details.join("\n")).toMatch(
        /CloudTrail history could not be read .*re-enabled by default/,
      );
      expect(key.state).toBe("Enabled");
    },
  );

  it.each(EVERY_FAULT)(
    "SNS outage (%s) after a full restore: rejects; the retry changes nothing and says the key is not pending deletion",
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
      aws.published.length = 0;
      const retried = await settle(handler(event()));

      // Assess
      const note = expectSettled(retried, aws, "notified");
      expect(note.doc.actions).toEqual([]);
      expect(note.doc.verdicts).toEqual(["not-pending-deletion"]);
      expect(mutationsApplied(aws)).toEqual(["CancelKeyDeletion", "EnableKey"]);
      expect(key.state).toBe("Enabled");
    },
  );

  it("duplicate deliveries, one after the other and at the same time: cancelled once, enabled once, same end state", async () => {
    // Prepare
    const { handler, aws, key } = await start();

    // Act
    const first = await handler(event());
    const later = await Promise.all([handler(event()), handler(event())]);

    // Assess
    expect(first.outcome).toBe("remediated");
    for (const r of later) expect(["notified", "already-remediated"]).toContain(r.outcome);
    expect(mutationsApplied(aws)).toEqual(["CancelKeyDeletion", "EnableKey"]);
    expect(key.state).toBe("Enabled");
  });
});

// --- the runbook ---

describe("runbook cancel-key-deletion under faults", () => {
  // The runbook's failure policy (functions/runbook/run.ts, index.ts): a failed read or action is
  // a `failed` action in the result and in the notification; runRunbook returns it as `failure`,
  // and the Lambda entry throws it after notifying, so the SSM execution shows the failure.
  const payload = {
    action: "cancel-key-deletion",
    keyId: keyArnOf(DELETION_KEY),
    reason: "deletion scheduled by mistake",
    statedBy: "alice",
    ticket: "INC-4711",
  };

  /** runRunbook with its own clients on the fake (as `kms-responder run --direct` calls it). */
  function direct(aws: FakeAws) {
    const common = {
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      maxAttempts: ATTEMPTS,
    };
    const clients = {
      kms: new KMSClient(common),
      sns: new SNSClient(common),
      cloudTrail: new CloudTrailClient(common),
    };
    aws.install(clients);
    return runRunbook(parsePayload(payload), {
      kms: clients.kms,
      sns: clients.sns,
      config: ENFORCE_CONFIG,
      topicArn: TOPIC_ARN,
      history: cloudTrailHistory(clients.cloudTrail),
      responder: RESPONDER,
    });
  }

  function pendingKey(aws: FakeAws) {
    return aws.addKey(DELETION_KEY, { state: "PendingDeletion" });
  }

  it.each(RETRYABLE)(
    "runRunbook: CancelKeyDeletion %s burst of 3: retried, cancelled and re-enabled",
    async (kind) => {
      // Prepare
      const aws = new FakeAws();
      const key = pendingKey(aws);
      aws.fail("kms", "CancelKeyDeletion", kind, 3);

      // Act
      const { result, failure } = await direct(aws);

      // Assess
      expect(failure).toBeUndefined();
      expect(result.outcome).toBe("remediated");
      expect(result.actions.map((a) => [a.type, a.status])).toEqual([
        ["cancel-key-deletion", "succeeded"],
        ["enable-key", "succeeded"],
      ]);
      expect(onlyNotification(aws).attributes.outcome).toBe("remediated");
      expect(key.state).toBe("Enabled");
    },
  );

  it.each([
    ["DescribeKey", [["cancel-key-deletion", "failed"]]],
    [
      "CancelKeyDeletion",
      [
        ["cancel-key-deletion", "failed"],
        ["enable-key", "skipped"],
      ],
    ],
    [
      "EnableKey",
      [
        ["cancel-key-deletion", "succeeded"],
        ["enable-key", "failed"],
      ],
    ],
  ] as const)(
    "runRunbook: %s failing for good: the failure returned, the result and the notification say failed with the error",
    async (operation, expected) => {
      // Prepare
      const aws = new FakeAws();
      pendingKey(aws);
      aws.fail("kms", operation, "5xx");

      // Act
      const { result, failure } = await direct(aws);

      // Assess
      expect(failure).toMatchObject({
        name: "ActionError",
        message: expect.stringMatching(/KMSInternalException/),
      });
      expect(result.outcome).toBe("failed");
      expect(result.error).toMatch(/KMSInternalException/);
      expect(result.actions.map((a) => [a.type, a.status])).toEqual(expected);
      const note = onlyNotification(aws);
      expect(note.attributes.outcome).toBe("failed");
      expect(note.text).toContain("KMSInternalException");
    },
  );

  it("runRunbook: SNS outage: the actions stand, the failure and the result carry the notification error", async () => {
    // Prepare
    const aws = new FakeAws();
    const key = pendingKey(aws);
    aws.fail("sns", "Publish", "5xx");

    // Act
    const { result, failure } = await direct(aws);

    // Assess
    expect(failure).toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("notification failed"),
    });
    expect(result.error).toMatch(/notification failed: .*InternalError/);
    expect(result.actions.map((a) => a.status)).toEqual(["succeeded", "succeeded"]);
    expect(key.state).toBe("Enabled");
  });

  it.each(["CancelKeyDeletion", "EnableKey"])(
    "functions/runbook/index.ts: %s failing for good throws ActionError after notifying failed",
    async (operation) => {
      // Prepare
      const { handler, aws } = await coldStartRunbook();
      pendingKey(aws);
      aws.fail("kms", operation, "access-denied");

      // Act
      const settled = await settle(handler(payload));

      // Assess
      expectReportedFailed(settled, aws, ERROR_OF["access-denied"]);
    },
  );

  it("functions/runbook/index.ts: SNS outage throws after the actions; the retry finds nothing to cancel and notifies", async () => {
    // Prepare
    const { handler, aws } = await coldStartRunbook();
    const key = pendingKey(aws);
    aws.fail("sns", "Publish", "throttle");

    // Act
    const first = await settle(handler(payload));

    // Assess
    expect(first).toMatchObject({
      ok: false,
      error: { name: "ActionError", message: expect.stringContaining("notification failed") },
    });
    expect(aws.attemptsOf("sns", "Publish")).toHaveLength(ATTEMPTS);
    expect(key.state).toBe("Enabled");

    // Act
    aws.clearFaults();
    const retried = await handler(payload);

    // Assess
    expect(retried).toMatchObject({ outcome: "notified", actions: [] });
    expect(retried.details.join("\n")).toMatch(/Nothing to do: the key is Enabled, not pending deletion/);
    expect(mutationsApplied(aws)).toEqual(["CancelKeyDeletion", "EnableKey"]);
    expect(onlyNotification(aws).attributes.outcome).toBe("notified");
  });

  it("functions/runbook/index.ts: CancelKeyDeletion throttled in a burst of 3: retried, the key restored, no throw", async () => {
    // Prepare
    const { handler, aws } = await coldStartRunbook();
    const key = pendingKey(aws);
    aws.fail("kms", "CancelKeyDeletion", "throttle", 3);

    // Act
    const result = await handler(payload);

    // Assess
    expect(result).toMatchObject({
      outcome: "remediated",
      key: { stateBefore: "PendingDeletion", stateAfter: "Enabled" },
    });
    expect(key.state).toBe("Enabled");
  });
});
