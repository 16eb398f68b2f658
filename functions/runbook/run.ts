/**
 * Runbook requests: read what the request is about (in parallel where reads are independent),
 * plan (pure, `plan.ts`), then the shared pipeline acts, notifies and reports: one outcome model
 * and one failure policy with the automatic responders. Used by the runbook Lambda and by
 * `kms-responder run --direct` (with the caller's own credentials).
 */
import type { GrantListEntry, KeyMetadata, KMSClient } from "@aws-sdk/client-kms";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  type ActionModule,
  type ActionResult,
  type Executor,
  isExecuting,
} from "../shared/actions/action.js";
import { ACTIONS } from "../shared/actions/index.js";
import { parseKeyArn } from "../shared/arn.js";
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListGrantsCommand,
} from "../shared/clients/kms-sdk.js";
import type { Config } from "../shared/config.js";
import type { Finding } from "../shared/decision.js";
import type { ActionError } from "../shared/errors.js";
import { describeError } from "../shared/errors.js";
import { grantById } from "../shared/facts.js";
import type { HistoryReader } from "../shared/history-reader.js";
import type { ManualRequest, Outcome } from "../shared/notify.js";
import { accessFor, act, type PipelineDeps } from "../shared/pipeline.js";
import type { PolicyFinding } from "../shared/policy/analyse.js";
import type { Severity } from "../shared/types.js";
import { RUNBOOK_ACTIONS, type RunbookAction, type RunbookPayload } from "./payload.js";
import { isGranteeOf, MUTATING, planRunbook, type RunbookFacts, refusal } from "./plan.js";
import { runbookScope } from "./scope.js";

/** The runbook's executor table: the modules of its action types that run something. */
export const RUNBOOK_EXECUTORS: readonly Executor[] = RUNBOOK_ACTIONS.flatMap((a) => {
  const m: ActionModule = ACTIONS[a];
  return isExecuting(m) ? [m] : [];
});

export interface RunbookDeps {
  kms: KMSClient;
  sns: SNSClient;
  config: Config;
  /** Where to notify; undefined only for `--direct` runs without a topic (then nothing is published). */
  topicArn: string | undefined;
  /** The chat topic (config `chat`); undefined: no chat message. */
  chatTopicArn?: string | undefined;
  /** Key history for the restore after a cancelled deletion (omitted: the key is re-enabled per afterCancel). */
  history?: HistoryReader;
  /** Where the function runs: a key in another account is reached through the member role. */
  responder?: { region: string | undefined; account: string | undefined };
}

export interface RunbookResult {
  action: RunbookAction;
  dryRun: boolean;
  key: { ref: string; arn?: string; stateBefore?: string; stateAfter?: string };
  /** Who ran it, as SSM recorded it; undefined outside SSM Automation. */
  executedBy?: string;
  statedBy?: string;
  reason: string;
  ticket?: string;
  severity: Severity;
  outcome: Outcome;
  actions: Array<Omit<ActionResult, "keyRef">>;
  details: string[];
  findings?: PolicyFinding[];
  notificationId?: string;
  /** Set when the request failed: an action failed (or was refused), or the notification failed. */
  error?: string;
}

async function listGrants(
  kms: KMSClient,
  keyArn: string,
  filter: { grantId?: string; grantee?: string },
): Promise<GrantListEntry[]> {
  if (filter.grantId) {
    const grant = await grantById(kms, keyArn, filter.grantId);
    return grant ? [grant] : [];
  }
  const grants: GrantListEntry[] = [];
  let marker: string | undefined;
  do {
    const out = await kms.send(new ListGrantsCommand({ KeyId: keyArn, Marker: marker }));
    for (const g of out.Grants ?? []) if (filter.grantee && isGranteeOf(g, filter.grantee)) grants.push(g);
    marker = out.Truncated ? out.NextMarker : undefined;
  } while (marker);
  return grants;
}

/** The reads a request needs, in parallel once the key is known. Throws what KMS throws. */
async function readFor(
  payload: RunbookPayload,
  meta: KeyMetadata,
  deps: RunbookDeps,
  access: ReturnType<typeof accessFor>,
): Promise<RunbookFacts> {
  const arn = meta.Arn ?? payload.keyId;
  const kms = await access.kmsFor(arn);
  const facts: RunbookFacts = {
    meta,
    ...(meta.KeyState && { keyState: meta.KeyState }),
    ...(meta.KeyManager && { keyManager: meta.KeyManager }),
  };
  const reads: Array<Promise<void>> = [];
  const read = (run: () => Promise<void>) => reads.push(run());
  const grantId = payload.grantId;
  if (payload.action === "revoke-grant" && grantId) {
    read(async () => {
      facts.grants = await listGrants(kms, arn, { grantId });
    });
  }
  const grantee = payload.granteePrincipal;
  if (payload.action === "revoke-grantee-grants" && grantee) {
    read(async () => {
      facts.grants = await listGrants(kms, arn, { grantee });
    });
  }
  if (payload.action === "analyze-key-policy") {
    read(async () => {
      facts.policy =
        (await kms.send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: "default" }))).Policy ?? "";
    });
  }
  if (payload.action === "enable-key-rotation") {
    read(async () => {
      facts.rotationEnabled =
        (await kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }))).KeyRotationEnabled === true;
    });
  }
  const history = deps.history;
  if (
    payload.action === "cancel-key-deletion" &&
    deps.config.afterCancel === "restore" &&
    history &&
    meta.Arn
  ) {
    const keyArn = meta.Arn;
    read(async () => {
      const credentials = await access.credentialsFor(keyArn);
      facts.prior = (await history.read(keyArn, new Date().toISOString(), credentials)).prior;
    });
  }
  await Promise.all(reads);
  return facts;
}

/** A request that could not be planned (DescribeKey or a read failed): reported as a failed action. */
function unplanned(payload: RunbookPayload, meta: KeyMetadata | undefined, detail: string): Finding {
  const key = parseKeyArn(meta?.Arn);
  const keyRef = key?.arn ?? payload.keyId;
  return {
    kind: "finding",
    incident: "runbook",
    severity: "high",
    reasons: [`manual-${payload.action}`],
    title: `Runbook ${payload.action}${payload.dryRun ? " (dry run)" : ""}`,
    summary: `${payload.action} on the key could not be planned: ${payload.reason}`,
    details: [detail],
    actions: [{ type: payload.action, keyRef, hold: { status: "failed", code: "unverified", why: detail } }],
    event: undefined,
    key,
  };
}

/**
 * The key's state after the actions: as the last action saw it, else read again when a mutating
 * action succeeded. Informational: undefined when it cannot be read.
 */
async function stateAfterRun(
  payload: RunbookPayload,
  meta: KeyMetadata | undefined,
  actions: readonly ActionResult[],
  access: ReturnType<typeof accessFor>,
): Promise<string | undefined> {
  const seen = [...actions].reverse().find((r) => r.keyStateAfter)?.keyStateAfter;
  if (
    !meta?.Arn ||
    seen ||
    !MUTATING.has(payload.action) ||
    payload.dryRun ||
    !actions.some((a) => a.status === "succeeded")
  ) {
    return seen;
  }
  try {
    const client = await access.kmsFor(meta.Arn);
    return (await client.send(new DescribeKeyCommand({ KeyId: meta.Arn }))).KeyMetadata?.KeyState;
  } catch {
    // The state after is informational; its absence is visible in the result.
    return undefined;
  }
}

/** Who asked for the request, when and why, as the notification tells it. */
function manualRequest(payload: RunbookPayload, who: { executedBy?: string; at?: Date }): ManualRequest {
  return {
    at: (who.at ?? new Date()).toISOString(),
    reason: payload.reason,
    ...(who.executedBy && { executedBy: who.executedBy }),
    ...(payload.statedBy && { statedBy: payload.statedBy }),
    ...(payload.ticket && { ticket: payload.ticket }),
  };
}

/**
 * Runs one validated runbook payload: read, plan, act, notify. Returns the result with `error`
 * set when the request failed; the Lambda handler then fails the invocation (after notifying).
 */
export async function runRunbook(
  payload: RunbookPayload,
  deps: RunbookDeps,
  who: { executedBy?: string; at?: Date } = {},
): Promise<{ result: RunbookResult; failure: ActionError | undefined }> {
  let meta: KeyMetadata | undefined;
  let finding: Finding;
  let findings: PolicyFinding[] | undefined;
  const pipeline: PipelineDeps = {
    kms: deps.kms,
    sns: deps.sns,
    config: deps.config,
    topicArn: deps.topicArn,
    chatTopicArn: deps.chatTopicArn,
    ...(deps.responder && { responder: deps.responder }),
  };
  // A member account's key is reached in a session that may do this request's action on this key
  // only (the role itself holds every runbook action on every key of the account).
  const target = parseKeyArn(payload.keyId);
  if (target) pipeline.memberScope = runbookScope(payload.action, target.arn, deps.config);
  const access = accessFor(pipeline, "runbook", undefined);
  try {
    // A key ARN of a member account is described through the member role (central responder).
    const client = parseKeyArn(payload.keyId) ? await access.kmsFor(payload.keyId) : deps.kms;
    meta = (await client.send(new DescribeKeyCommand({ KeyId: payload.keyId }))).KeyMetadata;
    if (!meta) throw new Error("DescribeKey returned no key metadata");
    // A refused request (AWS managed key, ignored key) reads nothing more: it will not act.
    const facts = refusal(payload, meta, deps.config) ? { meta } : await readFor(payload, meta, deps, access);
    ({ finding, findings } = planRunbook(payload, facts, deps.config));
  } catch (error) {
    finding = unplanned(
      payload,
      meta,
      `${meta ? `${payload.action} reads failed` : "DescribeKey failed"}: ${describeError(error)}`,
    );
  }
  const { result: handled, failure } = await act(
    finding,
    RUNBOOK_EXECUTORS,
    pipeline,
    manualRequest(payload, who),
  );
  const actions = handled.actions ?? [];
  const stateAfter = await stateAfterRun(payload, meta, actions, access);
  const result: RunbookResult = {
    action: payload.action,
    dryRun: payload.dryRun,
    key: {
      ref: payload.keyId,
      ...(meta?.Arn && { arn: meta.Arn }),
      ...(meta?.KeyState && { stateBefore: meta.KeyState }),
      ...(stateAfter && { stateAfter }),
    },
    ...(who.executedBy && { executedBy: who.executedBy }),
    ...(payload.statedBy && { statedBy: payload.statedBy }),
    reason: payload.reason,
    ...(payload.ticket && { ticket: payload.ticket }),
    severity: finding.severity,
    outcome: handled.outcome === "ignored" ? "notified" : handled.outcome,
    actions: actions.map(({ keyRef: _k, ...rest }) => rest),
    details: finding.details,
    ...(findings && { findings }),
    ...(handled.notificationId && { notificationId: handled.notificationId }),
    ...(failure && { error: failure.message }),
  };
  return { result, failure };
}
