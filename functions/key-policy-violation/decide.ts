/**
 * key-policy-violation: a key policy was set (PutKeyPolicy, or CreateKey / ReplicateKey with a
 * policy). The policy analyser judges it; a critical finding triggers `onCritical`
 * (`disable-key` by default, `remove-statements`, or `notify`).
 */
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  ignore,
  type KeyFacts,
  keyRefOf,
  type PlannedAction,
  precheck,
} from "../shared/decision.js";
import { isObject, type KmsApiCall, parseKeyArn, str } from "../shared/model.js";
import { analysePolicy, type PolicyAnalysis, type PolicyContext } from "../shared/policy/analyse.js";
import { worstSeverity } from "../shared/types.js";

export const INCIDENT = "key-policy-violation";

/** Longest statement text shown per offending statement (the notification has a 256 KB cap). */
const STATEMENT_PREVIEW = 2_000;

/**
 * The key whose policy was set. ReplicateKey is logged in the primary's Region and the policy
 * belongs to the new replica (`responseElements.replicaKeyMetadata.arn`), so that is the key to act on.
 */
export function policyKeyOf(call: KmsApiCall): KmsApiCall {
  if (call.eventName !== "ReplicateKey") return call;
  const replica = isObject(call.response.replicaKeyMetadata)
    ? str(call.response.replicaKeyMetadata.arn)
    : undefined;
  const parsed = parseKeyArn(replica);
  return parsed ? { ...call, keyArn: replica, keyId: parsed.keyId, region: parsed.region } : call;
}

/** The policy text the call set: `requestParameters.policy`, or for ReplicateKey `responseElements.replicaPolicy`. */
export function policyOf(call: KmsApiCall): unknown {
  return call.request.policy ?? call.response.replicaPolicy;
}

export function policyContext(call: KmsApiCall, config: Config): PolicyContext {
  return {
    keyAccount: parseKeyArn(call.keyArn)?.accountId ?? call.accountId ?? "",
    trustedAccounts: config.trustedAccounts,
    trustedOrganizationIds: config.trustedOrganizationIds,
    bypassPolicyLockoutSafetyCheck: call.request.bypassPolicyLockoutSafetyCheck === true,
  };
}

function preview(statement: unknown): string {
  const text = JSON.stringify(statement) ?? String(statement);
  return text.length > STATEMENT_PREVIEW ? `${text.slice(0, STATEMENT_PREVIEW)}... [truncated]` : text;
}

function findingLines(analysis: PolicyAnalysis): string[] {
  return analysis.findings.map((f) => {
    const where =
      f.statementIndex === undefined
        ? "policy"
        : `statement #${f.statementIndex}${f.sid ? ` (Sid ${f.sid})` : ""}`;
    return `[${f.severity}] ${f.reason} in ${where}: ${f.explanation}`;
  });
}

function criticalActions(call: KmsApiCall, config: Config): PlannedAction[] {
  const keyRef = keyRefOf(call);
  if (config.onCritical === "disable-key") return [{ type: "disable-key", keyRef }];
  if (config.onCritical === "remove-statements") return [{ type: "remove-statements", keyRef }];
  return [];
}

export function decide(original: KmsApiCall, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(original, config, INCIDENT);
  if (skip) return skip;
  const call = policyKeyOf(original);
  const analysis = analysePolicy(policyOf(call), policyContext(call, config));

  if (analysis.error !== undefined) {
    return {
      kind: "finding",
      incident: INCIDENT,
      severity: "medium",
      reasons: ["unreadable-policy"],
      title: "Unreadable KMS key policy set",
      summary: `${call.eventName ?? "A call"} set a key policy the analyser could not read (${analysis.error})`,
      details: ["Read the key's current policy with the analyze-key-policy runbook action."],
      actions: [],
      call,
    };
  }
  if (analysis.findings.length === 0) return ignore("no-incident", "the key policy has no finding", INCIDENT);

  const severity = worstSeverity(analysis.findings.map((f) => f.severity));
  const reasons = [...new Set(analysis.findings.map((f) => f.reason))];
  const offending = [...new Set(analysis.findings.map((f) => f.statementIndex))]
    .filter((i): i is number => i !== undefined)
    .map((i) => ({ index: i, statement: analysis.statements[i] }));
  const actions = severity === "critical" ? criticalActions(call, config) : [];

  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons,
    title: severity === "critical" ? "Dangerous KMS key policy" : "KMS key policy finding",
    summary: `${call.eventName ?? "A call"} set a key policy with ${analysis.findings.length} finding(s): ${reasons.join(", ")}`,
    details: [
      ...findingLines(analysis),
      ...offending.map((o) => `Statement #${o.index}: ${preview(o.statement)}`),
    ],
    actions: holdActions(INCIDENT, actions, call, config, facts),
    call,
    extra: { findings: analysis.findings, offendingStatements: offending },
  };
}
