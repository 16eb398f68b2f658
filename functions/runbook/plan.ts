/**
 * The runbook's planner: a person's request plus what was read about the key becomes a finding,
 * the same data an automatic responder's `decide` returns, run by the same pipeline. Pure.
 */
import type { GrantListEntry, KeyMetadata } from "@aws-sdk/client-kms";
import { restorePlan } from "../key-deletion-scheduled/restore.js";
import { ACTIONS } from "../shared/actions/index.js";
import { type KeyRef, parseKeyArn, roleArnOfSession } from "../shared/arn.js";
import type { Config } from "../shared/config.js";
import { type Finding, isPendingDeletion, type KeyFacts, type PlannedAction } from "../shared/decision.js";
import { analysePolicy, type PolicyFinding } from "../shared/policy/analyse.js";
import { type Severity, worstSeverity } from "../shared/types.js";
import { RUNBOOK_ACTIONS, type RunbookAction, type RunbookPayload } from "./payload.js";

/** The runbook actions that change something (their modules say so). */
export const MUTATING: ReadonlySet<RunbookAction> = new Set(
  RUNBOOK_ACTIONS.filter((a) => ACTIONS[a].runbook.mutating),
);

/** What the runbook read before planning. */
export interface RunbookFacts extends KeyFacts {
  meta: KeyMetadata;
  /** revoke-grant: the grant by id (null: not on the key); revoke-grantee-grants: the grantee's grants. */
  grants?: GrantListEntry[];
}

export interface RunbookPlan {
  finding: Finding;
  findings?: PolicyFinding[];
}

/** A listed grant in the shape of CloudTrail's CreateGrant request, for the undo command. */
export function grantSpec(g: GrantListEntry): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    granteePrincipal: g.GranteePrincipal,
    operations: g.Operations ?? [],
  };
  if (g.RetiringPrincipal) spec.retiringPrincipal = g.RetiringPrincipal;
  if (g.Name) spec.name = g.Name;
  const c = g.Constraints;
  if (c?.EncryptionContextSubset) spec.constraints = { encryptionContextSubset: c.EncryptionContextSubset };
  else if (c?.EncryptionContextEquals)
    spec.constraints = { encryptionContextEquals: c.EncryptionContextEquals };
  return spec;
}

/** Whether a listed grant's grantee is the principal (or, for a role, one of its sessions): exact only. */
export function isGranteeOf(g: GrantListEntry, grantee: string): boolean {
  const p = g.GranteePrincipal;
  return Boolean(g.GrantId && p && (p === grantee || roleArnOfSession(p) === grantee));
}

/** Why a mutating request is refused outright, or undefined. */
export function refusal(payload: RunbookPayload, meta: KeyMetadata, config: Config): string | undefined {
  if (!MUTATING.has(payload.action)) return undefined;
  if (meta.KeyManager === "AWS") return "the key is an AWS managed key: nobody can change it";
  if (config.ignoredKeys.some((k) => k === meta.Arn || k === meta.KeyId)) {
    return "the key is listed in ignoredKeys (for example the responder's own notification key)";
  }
  return undefined;
}

/** What a dry run says each action would do, from the state read (no KMS DryRun: nothing is sent). */
function wouldDo(action: PlannedAction, state: string, config: Config): string {
  return ACTIONS[action.type].wouldDo?.(state, config) ?? `would run ${action.type}`;
}

/** What one runbook action's planner reads. */
interface PlanInput {
  payload: RunbookPayload;
  facts: RunbookFacts;
  config: Config;
  key: KeyRef | undefined;
  keyRef: string;
  state: string;
}

/** What one runbook action plans; a severity only when the action's reads set it. */
interface PlanStep {
  actions: PlannedAction[];
  details: string[];
  findings?: PolicyFinding[];
  severity?: Severity;
}

const nothing = (detail: string): PlanStep => ({ actions: [], details: [detail] });

/** One planner per runbook action: a new action without a planner is a compile error. */
const PLANNERS: { [A in RunbookPayload["action"]]: (input: PlanInput) => PlanStep } = {
  "analyze-key-policy": planPolicyAnalysis,
  "revoke-grant": ({ payload, facts, keyRef }) => {
    const grant = facts.grants?.[0];
    if (!grant) return nothing(`Nothing to do: grant ${payload.grantId} is not on the key.`);
    return {
      actions: [{ type: "revoke-grant", keyRef, grantId: payload.grantId ?? "", grant: grantSpec(grant) }],
      details: [],
    };
  },
  "revoke-grantee-grants": ({ payload, facts, keyRef }) => {
    const grants = facts.grants ?? [];
    return {
      actions: grants.map((g) => ({
        type: "revoke-grant",
        keyRef,
        grantId: g.GrantId ?? "",
        grant: grantSpec(g),
      })),
      details:
        grants.length === 0 ? [`Nothing to do: no grant on the key for ${payload.granteePrincipal}.`] : [],
    };
  },
  "disable-key": ({ state, keyRef }) =>
    state === "Enabled"
      ? { actions: [{ type: "disable-key", keyRef }], details: [] }
      : nothing(`Nothing to do: the key is ${state}.`),
  "enable-key": ({ state, keyRef }) => {
    if (isPendingDeletion(state)) {
      return {
        actions: [
          {
            type: "enable-key",
            keyRef,
            hold: {
              status: "failed",
              code: "unverified",
              why: `the key is ${state}; cancel the deletion first`,
            },
          },
        ],
        details: [],
      };
    }
    if (state === "Enabled") return nothing("Nothing to do: the key is already Enabled.");
    return { actions: [{ type: "enable-key", keyRef }], details: [] };
  },
  "cancel-key-deletion": ({ state, key, config, facts }) => {
    // Nothing to cancel. Running the restore step anyway would enable a key that someone
    // disabled on purpose whenever its history does not show the DisableKey.
    if (!isPendingDeletion(state) || !key)
      return nothing(`Nothing to do: the key is ${state}, not pending deletion.`);
    const plan = restorePlan(key, config, facts);
    return { actions: plan.actions, details: [...plan.details] };
  },
  "enable-key-rotation": ({ facts, keyRef }) =>
    facts.rotationEnabled
      ? nothing("Nothing to do: automatic rotation is already on.")
      : { actions: [{ type: "enable-key-rotation", keyRef }], details: [] },
};

function planPolicyAnalysis({ facts, config, key }: PlanInput): PlanStep {
  const { meta } = facts;
  const analysis = analysePolicy(facts.policy ?? "", {
    keyAccount: key?.account ?? meta.AWSAccountId ?? "",
    trustedAccounts: config.trustedAccounts,
    trustedOrganizationIds: config.trustedOrganizationIds,
    ...(config.organization?.id && { keyOrganizationId: config.organization.id }),
    ...(meta.KeyManager === "AWS" || meta.KeyManager === "CUSTOMER" ? { keyManager: meta.KeyManager } : {}),
  });
  if (analysis.error !== undefined) {
    return {
      actions: [],
      details: [`The key policy cannot be analysed: ${analysis.error}`],
      severity: "medium",
    };
  }
  const findings = analysis.findings;
  const details = findings.map(
    (f) =>
      `[${f.severity}] ${f.reason}${f.statementIndex === undefined ? "" : ` in statement ${f.statementIndex + 1}`}: ${f.explanation}`,
  );
  if (findings.length === 0) return { actions: [], details: ["The key policy has no finding."], findings };
  return { actions: [], details, findings, severity: worstSeverity(findings.map((f) => f.severity)) };
}

/**
 * Plans a runbook request from the reads: the actions to run (held as `dry-run` for a dry run, as
 * `failed` for a refusal), or none when there is nothing to do, which the details say.
 */
export function planRunbook(payload: RunbookPayload, facts: RunbookFacts, config: Config): RunbookPlan {
  const { meta } = facts;
  const parsed = parseKeyArn(meta.Arn);
  const key: KeyRef | undefined =
    parsed && payload.keyId.includes("alias/")
      ? { ...parsed, alias: payload.keyId.replace(/^.*?(alias\/)/, "$1") }
      : parsed;
  const keyRef = key?.arn ?? payload.keyId;
  const state = facts.keyState ?? meta.KeyState ?? "unknown";
  const step = PLANNERS[payload.action]({ payload, facts, config, key, keyRef, state });
  const { details, findings } = step;
  let actions = step.actions;
  let severity: Severity =
    step.severity ?? (payload.dryRun || !MUTATING.has(payload.action) ? "info" : "medium");

  const refused = refusal(payload, meta, config);
  if (refused) {
    actions = [
      {
        type: payload.action,
        keyRef,
        hold: { status: "failed", code: "unverified", why: `refused: ${refused}` },
      },
    ];
    severity = "high";
  } else if (payload.dryRun) {
    actions = actions.map((a) =>
      a.hold ? a : { ...a, hold: { status: "dry-run", code: "dry-run", why: wouldDo(a, state, config) } },
    );
  }
  const dry = payload.dryRun ? " (dry run)" : "";
  const finding: Finding = {
    kind: "finding",
    incident: "runbook",
    severity,
    reasons: [`manual-${payload.action}`, ...new Set((findings ?? []).map((f) => f.reason))],
    title: `Runbook ${payload.action}${dry}`,
    summary: `${payload.action}${payload.dryRun ? " as a dry run" : ""} on the key: ${payload.reason}`,
    details,
    actions,
    event: undefined,
    key,
    findingType: "Software and Configuration Checks/AWS Security Best Practices/KMS Manual Response",
    ...(findings && { extra: { findings } }),
  };
  return findings ? { finding, findings } : { finding };
}
