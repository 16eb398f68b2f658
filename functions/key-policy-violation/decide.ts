/**
 * key-policy-violation: a key policy was set (PutKeyPolicy, or CreateKey / ReplicateKey with a
 * policy). The analyser judges the policy the event claims; in the handler it also judges the key's
 * current policy (GetKeyPolicy), and only that justifies an action: a forged or stale event about a
 * key whose policy is safe now changes nothing. A critical finding triggers `onCritical`
 * (`disable-key` by default, `remove-statements`, or `notify`).
 */
import type { KeyRef } from "../shared/arn.js";
import type { Config } from "../shared/config.js";
import {
  type Decision,
  type Finding,
  holdActions,
  holdUnverified,
  ignore,
  type KeyFacts,
  type PlannedAction,
  precheck,
} from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";
import {
  analysePolicy,
  type PolicyAnalysis,
  type PolicyContext,
  removeStatements,
} from "../shared/policy/analyse.js";
import type { ActionType } from "../shared/types.js";
import { worstSeverity } from "../shared/types.js";

export const INCIDENT = "key-policy-violation";

/** Longest statement text shown per offending statement (the notification has a 256 KB cap). */
const STATEMENT_PREVIEW = 2_000;

export function policyContext(
  key: KeyRef | undefined,
  event: KmsEvent,
  config: Config,
  facts: KeyFacts,
): PolicyContext {
  // The key's organisation: configured, else learnt at cold start (only for keys of this account).
  const keyAccount = key?.account ?? event.accountId;
  const learnt =
    keyAccount !== undefined && keyAccount === facts.responder?.account ? facts.organizationId : undefined;
  const organizationId = config.organization?.id ?? learnt;
  return {
    keyAccount: key?.account ?? event.accountId ?? "",
    trustedAccounts: config.trustedAccounts,
    trustedOrganizationIds: config.trustedOrganizationIds,
    bypassPolicyLockoutSafetyCheck: event.detail.kind === "policy" && event.detail.bypassLockoutSafetyCheck,
    ...(organizationId && { keyOrganizationId: organizationId }),
    ...(facts.keyManager === "AWS" || facts.keyManager === "CUSTOMER"
      ? { keyManager: facts.keyManager }
      : {}),
  };
}

function preview(statement: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(statement) ?? String(statement);
  } catch {
    // A statement nested too deep for JSON.stringify: say so instead of throwing.
    text = "(statement too deeply nested to show)";
  }
  return text.length > STATEMENT_PREVIEW ? `${text.slice(0, STATEMENT_PREVIEW)}... [truncated]` : text;
}

export function findingLines(analysis: PolicyAnalysis): string[] {
  return analysis.findings.map((f) => {
    const where =
      f.statementIndex === undefined
        ? "policy"
        : `statement ${f.statementIndex + 1}${f.sid ? ` (Sid ${f.sid})` : ""}`;
    return `[${f.severity}] ${f.reason} in ${where}: ${f.explanation}${f.hint ? ` (${f.hint})` : ""}`;
  });
}

/** A policy set with the lockout check bypassed that leaves the account's root no way back in. */
function isTakeover(analysis: PolicyAnalysis): boolean {
  return analysis.findings.some(
    (f) => f.reason === "bypass-lockout-safety-check" && f.severity === "critical",
  );
}

/** The actions a critical finding leads to, from the current policy when it was read. */
export function criticalActions(
  key: KeyRef,
  config: Config,
  current: string | undefined,
  context: PolicyContext,
): { actions: PlannedAction[]; lines: string[] } {
  const keyRef = key.arn;
  if (config.onCritical === "notify") return { actions: [], lines: [] };
  if (config.onCritical === "disable-key") return { actions: [{ type: "disable-key", keyRef }], lines: [] };
  // remove-statements: computed from the current policy; offline there is none to compute from.
  if (current === undefined) return { actions: [{ type: "remove-statements", keyRef }], lines: [] };
  const removal = removeStatements(current, context);
  if (removal.outcome === "repaired") {
    return {
      actions: [
        {
          type: "remove-statements",
          keyRef,
          policy: JSON.stringify(removal.policy),
          previousPolicy: current,
        },
      ],
      lines: removal.removed.map(
        (r) =>
          `Removing from statement ${r.statementIndex + 1}${r.sid ? ` (Sid ${r.sid})` : ""}: ${r.principals === "statement" ? "the whole statement" : r.principals.join(", ")}`,
      ),
    };
  }
  if (removal.outcome === "unsafe") {
    return {
      actions: [{ type: "disable-key", keyRef }],
      lines: [
        `Removing statements cannot make the policy safe (${removal.reason}): disabling the key instead.`,
      ],
    };
  }
  return { actions: [], lines: [] };
}

/**
 * A PutKeyPolicy whose record holds no policy: the key's policy changed and nobody can see to what
 * from the event. Notify (never act on what is unseen) and point at the current policy.
 */
function unseenPolicy(event: KmsEvent, key: KeyRef | undefined): Finding {
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["policy-not-recorded"],
    title: "KMS key policy changed, unseen",
    summary: "PutKeyPolicy changed the key policy, but the record does not hold the policy set",
    details: ["Read the key's current policy with the analyze-key-policy runbook action."],
    actions: [],
    event,
    key,
  };
}

function unreadablePolicy(event: KmsEvent, key: KeyRef | undefined, error: string): Finding {
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["unreadable-policy"],
    title: "Unreadable KMS key policy set",
    summary: `${event.eventName ?? "A call"} set a key policy the analyser could not read (${error})`,
    details: ["Read the key's current policy with the analyze-key-policy runbook action."],
    actions: [],
    event,
    key,
  };
}

/**
 * The current policy is the fact: act only when it is still critical. Without a current policy
 * read, the event's claim stands.
 */
function stillCritical(
  claimedCritical: boolean,
  current: unknown,
  context: PolicyContext,
): { critical: boolean; verdicts: string[]; lines: string[] } {
  if (current === undefined || !claimedCritical)
    return { critical: claimedCritical, verdicts: [], lines: [] };
  const now = analysePolicy(current, context);
  if (now.error === undefined && now.findings.some((f) => f.severity === "critical")) {
    return { critical: true, verdicts: [], lines: [] };
  }
  return {
    critical: false,
    verdicts: ["policy-differs"],
    lines: [
      now.error === undefined
        ? "The key's current policy has no critical finding (changed since, or the event does not match the key): nothing to do."
        : `The key's current policy cannot be analysed (${now.error}): not acting on the event's claim.`,
    ],
  };
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const detail = event.detail;
  if (detail.kind === "policy" && detail.policy === undefined && event.eventName === "PutKeyPolicy") {
    return unseenPolicy(event, detail.target);
  }
  if (detail.kind !== "policy" || detail.policy === undefined) {
    return ignore("no-incident", `${event.eventName ?? "this event"} set no key policy`, INCIDENT);
  }
  const key = detail.target;
  const context = policyContext(key, event, config, facts);
  const claimed = analysePolicy(detail.policy, context);

  if (claimed.error !== undefined) return unreadablePolicy(event, key, claimed.error);
  if (claimed.findings.length === 0) return ignore("no-incident", "the key policy has no finding", INCIDENT);

  const severity = worstSeverity(claimed.findings.map((f) => f.severity));
  const reasons = [...new Set(claimed.findings.map((f) => f.reason))];
  const offending = [...new Set(claimed.findings.map((f) => f.statementIndex))]
    .filter((i): i is number => i !== undefined)
    .map((i) => ({ index: i, statement: claimed.statements[i] }));

  const current = facts.policy;
  const { critical, verdicts, lines } = stillCritical(severity === "critical", current, context);
  let actions: PlannedAction[] = [];
  if (critical && isTakeover(claimed)) {
    // The policy locks out the account's root and the lockout check was bypassed: the responder's
    // role has no kms:DisableKey left on this key (nor has anyone but the policy's new holders).
    lines.push(
      "PAGE NOW: the key was taken over (lockout check bypassed, no root delegation). No automatic action can undo it: contact AWS Support and the key's administrators.",
    );
    verdicts.push("takeover");
  } else if (critical && key) {
    const planned = criticalActions(key, config, current, context);
    actions = planned.actions;
    lines.push(...planned.lines);
  }

  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons,
    title: severity === "critical" ? "Dangerous KMS key policy" : "KMS key policy finding",
    summary: `${event.eventName ?? "A call"} set a key policy with ${claimed.findings.length} finding${claimed.findings.length === 1 ? "" : "s"}: ${reasons.join(", ")}`,
    details: [
      ...findingLines(claimed),
      ...offending.map((o) => `Statement ${o.index + 1}: ${preview(o.statement)}`),
      ...lines,
    ],
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["policy"]),
    event,
    key,
    ...(verdicts.length && { verdicts }),
    // The policy the event set: when a retry finds the offending statements already removed (the
    // first notification failed), this is still the policy from before the repair, for the undo.
    extra: { findings: claimed.findings, offendingStatements: offending, policySet: detail.policy },
  };
}

/** What the incident can plan under a config: `remove-statements` falls back to `disable-key`. */
export function policyActions(config: Config): ActionType[] {
  if (config.onCritical === "disable-key") return ["disable-key"];
  if (config.onCritical === "remove-statements") return ["remove-statements", "disable-key"];
  return [];
}
