/**
 * key-policy-violation, judged on a key's state: the analyser on the key's current policy
 * (GetKeyPolicy), the same reasons and severities as for a policy an event sets, and on a critical
 * finding the same `onCritical` actions, computed from that policy.
 */
import type { Config } from "../shared/config.js";
import { type Finding, holdActions, holdUnverified } from "../shared/decision.js";
import { analysePolicy, type PolicyContext } from "../shared/policy/analyse.js";
import { type KeyState, namedKey, type StateJudgement, stateFacts } from "../shared/state.js";
import { worstSeverity } from "../shared/types.js";
import { criticalActions, findingLines, INCIDENT } from "./decide.js";

function contextOf(state: KeyState, config: Config): PolicyContext {
  const manager = state.metadata.keyManager;
  const organizationId = config.organization?.id ?? state.organizationId;
  return {
    keyAccount: state.key.account,
    trustedAccounts: config.trustedAccounts,
    trustedOrganizationIds: config.trustedOrganizationIds,
    ...(organizationId && { keyOrganizationId: organizationId }),
    ...(manager === "AWS" || manager === "CUSTOMER" ? { keyManager: manager } : {}),
  };
}

export function judgePolicy(state: KeyState, config: Config): Finding | undefined {
  if (state.policy === undefined) return undefined;
  const key = namedKey(state);
  const context = contextOf(state, config);
  const analysis = analysePolicy(state.policy, context);
  const facts = stateFacts(state);
  if (analysis.error !== undefined) {
    return {
      kind: "finding",
      incident: INCIDENT,
      severity: "medium",
      reasons: ["unreadable-policy"],
      title: "Unreadable KMS key policy",
      summary: `The key's policy could not be analysed (${analysis.error})`,
      details: [],
      actions: [],
      event: undefined,
      key,
    };
  }
  if (analysis.findings.length === 0) return undefined;
  const severity = worstSeverity(analysis.findings.map((f) => f.severity));
  const reasons = [...new Set(analysis.findings.map((f) => f.reason))];
  const planned =
    severity === "critical"
      ? criticalActions(key, config, state.policy, context)
      : { actions: [], lines: [] };
  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons,
    title: severity === "critical" ? "Dangerous KMS key policy" : "KMS key policy finding",
    summary: `The key's policy has ${analysis.findings.length} finding${analysis.findings.length === 1 ? "" : "s"}: ${reasons.join(", ")}`,
    details: [...findingLines(analysis), ...planned.lines],
    actions: holdUnverified(holdActions(INCIDENT, planned.actions, key, config, facts), facts, ["tags"]),
    event: undefined,
    key,
    extra: { findings: analysis.findings },
  };
}

export const keyPolicyViolationState: StateJudgement = {
  reads: ["policy"],
  judge: (state, config) => judgePolicy(state, config),
};
