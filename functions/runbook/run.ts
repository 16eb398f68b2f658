/**
 * Runbook actions: what on-call engineers run by hand, with the same executors, idempotency and
 * notifications as the automatic responders. Used by the runbook Lambda and by
 * `kms-responder run --direct` (with the caller's own credentials).
 *
 * Failure policy: a failed action is reported in the result (status `failed`) and in the
 * notification; it does not throw, so the caller always gets the structured result. A failed
 * notification is reported in `notificationError` and never undoes an action.
 */
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type GrantListEntry,
  type KeyMetadata,
  type KMSClient,
  ListGrantsCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import type { SNSClient } from "@aws-sdk/client-sns";
import { cancelActions } from "../key-deletion-scheduled/decide.js";
import { type ActionContext, type ActionResult, runActions } from "../shared/actions.js";
import type { Config } from "../shared/config.js";
import type { Finding, PlannedAction } from "../shared/decision.js";
import { awsErrorName, describeError } from "../shared/errors.js";
import type { JsonObject, KmsApiCall } from "../shared/model.js";
import { parseKeyArn } from "../shared/model.js";
import { formatNotification, publish } from "../shared/notify.js";
import { analysePolicy, type PolicyFinding } from "../shared/policy/analyse.js";
import { roleArnOfSession } from "../shared/principals.js";
import { type ActionStatus, type Severity, worstSeverity } from "../shared/types.js";
import type { RunbookAction, RunbookPayload } from "./payload.js";

export interface RunbookDeps {
  kms: KMSClient;
  sns: SNSClient;
  cloudTrail: CloudTrailClient;
  config: Config;
  /** Where to notify; undefined only for `--direct` runs without a topic (then nothing is published). */
  topicArn: string | undefined;
}

export type RunbookResultAction = Omit<ActionResult, "keyRef">;

export interface RunbookResult {
  action: RunbookAction;
  dryRun: boolean;
  key: { ref: string; arn?: string; stateBefore?: string; stateAfter?: string };
  requestedBy: string;
  reason: string;
  ticket?: string;
  /** Overall: `failed` if any action failed, else the most telling of the actions' statuses. */
  status: ActionStatus;
  actions: RunbookResultAction[];
  findings?: PolicyFinding[];
  notificationId?: string;
  notificationError?: string;
}

const MUTATING: ReadonlySet<RunbookAction> = new Set([
  "revoke-grant",
  "revoke-grantee-grants",
  "disable-key",
  "enable-key",
  "cancel-key-deletion",
  "enable-key-rotation",
]);

function overall(results: readonly ActionResult[]): ActionStatus {
  for (const s of ["failed", "succeeded", "dry-run", "already-done", "skipped"] as const) {
    if (results.some((r) => r.status === s)) return s;
  }
  return "succeeded";
}

/** Every grant on the key whose grantee is the principal (or, for a role, its sessions), all pages. */
async function granteeGrants(kms: KMSClient, keyArn: string, grantee: string): Promise<GrantListEntry[]> {
  const grants: GrantListEntry[] = [];
  let marker: string | undefined;
  do {
    const out = await kms.send(new ListGrantsCommand({ KeyId: keyArn, Marker: marker }));
    for (const g of out.Grants ?? []) {
      const p = g.GranteePrincipal;
      // Exact match only (never a pattern: a `*` would sweep up the grants AWS services depend on).
      if (g.GrantId && p && (p === grantee || roleArnOfSession(p) === grantee)) grants.push(g);
    }
    marker = out.Truncated ? out.NextMarker : undefined;
  } while (marker);
  return grants;
}

/** A listed grant in the shape of CloudTrail's CreateGrant request, for the undo command. */
function grantSpec(g: GrantListEntry): JsonObject {
  const spec: JsonObject = { granteePrincipal: g.GranteePrincipal, operations: g.Operations ?? [] };
  if (g.RetiringPrincipal) spec.retiringPrincipal = g.RetiringPrincipal;
  if (g.Name) spec.name = g.Name;
  const c = g.Constraints;
  if (c?.EncryptionContextSubset || c?.EncryptionContextEquals) {
    spec.constraints = c.EncryptionContextSubset
      ? { encryptionContextSubset: c.EncryptionContextSubset }
      : { encryptionContextEquals: c.EncryptionContextEquals };
  }
  return spec;
}

/** Reads one grant before it is revoked, so the notification can say how to re-create it. */
async function describeGrant(
  kms: KMSClient,
  keyArn: string,
  grantId: string,
): Promise<GrantListEntry | undefined> {
  try {
    const out = await kms.send(new ListGrantsCommand({ KeyId: keyArn, GrantId: grantId }));
    return out.Grants?.find((g) => g.GrantId === grantId);
  } catch {
    // Best effort: without it the undo command has placeholders, the revoke still happens.
    return undefined;
  }
}

/** Revokes one grant and remembers what it was. */
async function revokeListed(
  grant: GrantListEntry | undefined,
  grantId: string,
  keyArn: string,
  ctx: ActionContext,
) {
  const results = await runActions([{ type: "revoke-grant", keyRef: keyArn, grantId }], ctx);
  return grant ? results.map((r) => ({ ...r, grant: grantSpec(grant) })) : results;
}

/** KMS DryRun on RevokeGrant: DryRunOperationException means it would succeed (kms-facts.md). */
async function dryRunRevoke(kms: KMSClient, keyArn: string, grantId: string): Promise<ActionResult> {
  const base = {
    type: "revoke-grant" as const,
    target: `${keyArn} grant ${grantId}`,
    keyRef: keyArn,
    grantId,
  };
  try {
    await kms.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: grantId, DryRun: true }));
    return { ...base, status: "dry-run", detail: "would revoke the grant" };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === "DryRunOperationException")
      return { ...base, status: "dry-run", detail: "would revoke the grant (KMS DryRun: would succeed)" };
    if (name === "NotFoundException")
      return { ...base, status: "dry-run", detail: "nothing to do: the grant does not exist" };
    return {
      ...base,
      status: "failed",
      detail: `would fail: ${describeError(error)}`,
      error: describeError(error),
    };
  }
}

/** The plan for a key-state action, from DescribeKey (these calls have no KMS DryRun). */
async function dryRunPlan(
  kms: KMSClient,
  action: RunbookAction,
  meta: KeyMetadata,
  config: Config,
): Promise<ActionResult> {
  const keyArn = meta.Arn ?? "";
  const state = meta.KeyState ?? "unknown";
  const base = {
    type: action as ActionResult["type"],
    target: keyArn,
    keyRef: keyArn,
    keyStateBefore: state,
  };
  const plan = (detail: string): ActionResult => ({ ...base, status: "dry-run", detail });
  const pending = state === "PendingDeletion" || state === "PendingReplicaDeletion";
  switch (action) {
    case "disable-key":
      return plan(
        state === "Enabled" ? "would disable the key (now Enabled)" : `nothing to do: the key is ${state}`,
      );
    case "enable-key":
      if (pending) return plan(`would fail: the key is ${state}; cancel the deletion first`);
      return plan(
        state === "Enabled"
          ? "nothing to do: the key is already Enabled"
          : `would enable the key (now ${state})`,
      );
    case "cancel-key-deletion": {
      if (!pending) return plan(`nothing to do: the key is ${state}, not pending deletion`);
      const then = {
        restore: "re-enable it if it was enabled before",
        enable: "enable it",
        "keep-disabled": "leave it Disabled",
      };
      return plan(
        `would cancel the deletion, then ${then[config.afterCancel]} (afterCancel: ${config.afterCancel})`,
      );
    }
    case "enable-key-rotation": {
      const out = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
      return plan(
        out.KeyRotationEnabled ? "nothing to do: rotation is already on" : "would enable automatic rotation",
      );
    }
    default:
      return plan(`would run ${action}`);
  }
}

function syntheticCall(payload: RunbookPayload, meta: KeyMetadata | undefined, now: Date): KmsApiCall {
  const parsed = parseKeyArn(meta?.Arn);
  return {
    eventId: undefined,
    eventName: `runbook ${payload.action}`,
    eventSource: "kms-responder",
    eventTime: now.toISOString(),
    eventType: "Runbook",
    accountId: parsed?.accountId ?? meta?.AWSAccountId,
    region: parsed?.region,
    keyArn: meta?.Arn,
    keyId: meta?.KeyId,
    keyAlias: payload.keyId.includes("alias/")
      ? payload.keyId.replace(/^arn:[^:]+:kms:[^:]+:\d{12}:/, "")
      : undefined,
    actor: {
      type: "Runbook",
      arn: payload.requestedBy,
      roleArn: undefined,
      accountId: undefined,
      principalId: undefined,
      mfaAuthenticated: undefined,
      invokedBy: undefined,
    },
    sourceIp: undefined,
    userAgent: "kms-responder runbook",
    request: { ...payload },
    response: {},
    additionalData: {},
    errorCode: undefined,
    errorMessage: undefined,
  };
}

async function perform(
  payload: RunbookPayload,
  meta: KeyMetadata,
  call: KmsApiCall,
  deps: RunbookDeps,
): Promise<{ results: ActionResult[]; findings?: PolicyFinding[] }> {
  const { kms, config } = deps;
  const keyArn = meta.Arn ?? payload.keyId;
  const ctx = { kms, cloudTrail: deps.cloudTrail, call };
  const single = (type: PlannedAction["type"], extra: Partial<PlannedAction> = {}) =>
    runActions([{ type, keyRef: keyArn, ...extra }], ctx);

  switch (payload.action) {
    case "analyze-key-policy": {
      const out = await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: "default" }));
      const analysis = analysePolicy(out.Policy ?? "", {
        keyAccount: parseKeyArn(keyArn)?.accountId ?? meta.AWSAccountId ?? "",
        trustedAccounts: config.trustedAccounts,
        trustedOrganizationIds: config.trustedOrganizationIds,
      });
      const detail =
        analysis.error ??
        `${analysis.findings.length} finding(s)${analysis.findings.length ? `: ${[...new Set(analysis.findings.map((f) => f.reason))].join(", ")}` : ""}`;
      const status: ActionStatus = analysis.error ? "failed" : "succeeded";
      return {
        results: [{ type: "analyze-key-policy", target: keyArn, keyRef: keyArn, status, detail }],
        findings: analysis.findings,
      };
    }
    case "revoke-grant": {
      const grantId = payload.grantId ?? "";
      if (payload.dryRun) return { results: [await dryRunRevoke(kms, keyArn, grantId)] };
      return { results: await revokeListed(await describeGrant(kms, keyArn, grantId), grantId, keyArn, ctx) };
    }
    case "revoke-grantee-grants": {
      const grants = await granteeGrants(kms, keyArn, payload.granteePrincipal ?? "");
      if (grants.length === 0) {
        return {
          results: [
            {
              type: "revoke-grantee-grants",
              target: keyArn,
              keyRef: keyArn,
              status: payload.dryRun ? "dry-run" : "already-done",
              detail: `no grant on the key for ${payload.granteePrincipal}`,
            },
          ],
        };
      }
      if (payload.dryRun) {
        // One by one like the real run: RevokeGrant's quota (30/s) applies to DryRun calls too.
        const planned: ActionResult[] = [];
        for (const g of grants) planned.push(await dryRunRevoke(kms, keyArn, g.GrantId ?? ""));
        return { results: planned };
      }
      // One by one, not in parallel: RevokeGrant's quota is 30/s and the SDK retries throttling.
      const results: ActionResult[] = [];
      for (const g of grants) results.push(...(await revokeListed(g, g.GrantId ?? "", keyArn, ctx)));
      return { results };
    }
    case "cancel-key-deletion": {
      if (payload.dryRun) return { results: [await dryRunPlan(kms, payload.action, meta, config)] };
      const state = meta.KeyState ?? "unknown";
      if (state !== "PendingDeletion" && state !== "PendingReplicaDeletion") {
        // Nothing to cancel, as the dry run says. Running the restore step anyway would enable a
        // key that someone disabled on purpose whenever its history does not show the DisableKey.
        const detail = `nothing to do: the key is ${state}, not pending deletion`;
        return {
          results: [
            { type: "cancel-key-deletion", target: keyArn, keyRef: keyArn, status: "already-done", detail },
          ],
        };
      }
      return { results: await runActions(cancelActions({ ...call, keyArn }, config), ctx) };
    }
    default:
      if (payload.dryRun) return { results: [await dryRunPlan(kms, payload.action, meta, config)] };
      return { results: await single(payload.action) };
  }
}

function refusal(payload: RunbookPayload, meta: KeyMetadata | undefined, config: Config): string | undefined {
  if (!meta) return undefined;
  if (!MUTATING.has(payload.action)) return undefined;
  if (meta.KeyManager === "AWS") return "the key is an AWS managed key: nobody can change it";
  const ignored = config.ignoredKeys.some((k) => k === meta.Arn || k === meta.KeyId);
  if (ignored) return "the key is listed in ignoredKeys (for example the responder's own notification key)";
  return undefined;
}

function severityOf(
  payload: RunbookPayload,
  results: readonly ActionResult[],
  findings?: readonly PolicyFinding[],
): Severity {
  if (results.some((r) => r.status === "failed")) return "high";
  if (findings?.length) return worstSeverity(findings.map((f) => f.severity));
  if (payload.dryRun || !MUTATING.has(payload.action)) return "info";
  return "medium";
}

/** Runs one validated runbook payload. Never throws for AWS failures: they are in the result. */
export async function runRunbook(
  payload: RunbookPayload,
  deps: RunbookDeps,
  now = new Date(),
): Promise<RunbookResult> {
  const failure = (target: string, detail: string, error?: unknown): ActionResult[] => [
    error === undefined
      ? { type: payload.action, target, keyRef: target, status: "failed", detail }
      : {
          type: payload.action,
          target,
          keyRef: target,
          status: "failed",
          detail: `${detail}: ${describeError(error)}`,
          error: describeError(error),
        },
  ];
  let meta: KeyMetadata | undefined;
  let done: ActionResult[] = [];
  let findings: PolicyFinding[] | undefined;
  try {
    meta = (await deps.kms.send(new DescribeKeyCommand({ KeyId: payload.keyId }))).KeyMetadata;
    // Without metadata nothing can run: a failure, not an empty (and so "succeeded") result.
    if (!meta) done = failure(payload.keyId, "DescribeKey returned no key metadata");
  } catch (error) {
    done = failure(payload.keyId, "DescribeKey failed", error);
  }
  const call = syntheticCall(payload, meta, now);
  const refused = refusal(payload, meta, deps.config);
  if (meta && refused) {
    done = failure(meta.Arn ?? payload.keyId, `refused: ${refused}`);
  } else if (meta) {
    try {
      ({ results: done, findings } = await perform(payload, meta, call, deps));
    } catch (error) {
      // Reads inside perform (ListGrants, GetKeyPolicy) that fail: reported, never thrown.
      done = failure(meta.Arn ?? payload.keyId, `${payload.action} failed`, error);
    }
  }

  const status = overall(done);
  let stateAfter: string | undefined = [...done].reverse().find((r) => r.keyStateAfter)?.keyStateAfter;
  if (meta?.Arn && !stateAfter && MUTATING.has(payload.action) && !payload.dryRun) {
    try {
      stateAfter = (await deps.kms.send(new DescribeKeyCommand({ KeyId: meta.Arn }))).KeyMetadata?.KeyState;
    } catch {
      // The state after is informational; its absence is visible in the result.
      stateAfter = undefined;
    }
  }
  const result: RunbookResult = {
    action: payload.action,
    dryRun: payload.dryRun,
    key: { ref: payload.keyId },
    requestedBy: payload.requestedBy,
    reason: payload.reason,
    status,
    actions: done.map(({ keyRef: _keyRef, ...rest }) => rest),
  };
  if (meta?.Arn) result.key.arn = meta.Arn;
  if (meta?.KeyState) result.key.stateBefore = meta.KeyState;
  if (stateAfter) result.key.stateAfter = stateAfter;
  if (payload.ticket) result.ticket = payload.ticket;
  if (findings) result.findings = findings;

  if (deps.topicArn) {
    const finding: Finding = {
      kind: "finding",
      incident: "runbook",
      severity: severityOf(payload, done, findings),
      reasons: [`manual-${payload.action}`],
      title: `Runbook ${payload.action}${payload.dryRun ? " (dry run)" : ""}`,
      summary: `${payload.requestedBy} ran ${payload.action}${payload.dryRun ? " as a dry run" : ""} on the key: ${payload.reason}`,
      details: (findings ?? []).map((f) => `[${f.severity}] ${f.reason}: ${f.explanation}`),
      actions: [],
      call,
    };
    const request = payload.ticket
      ? { requestedBy: payload.requestedBy, reason: payload.reason, ticket: payload.ticket }
      : { requestedBy: payload.requestedBy, reason: payload.reason };
    const notification = formatNotification(
      findings
        ? { finding, results: done, request, extra: { findings } }
        : { finding, results: done, request },
    );
    try {
      const id = await publish(deps.sns, deps.topicArn, notification);
      if (id) result.notificationId = id;
    } catch (error) {
      result.notificationError = describeError(error);
    }
  }
  return result;
}
