/**
 * rogue-grant, judged on a key's state: every grant ListGrants lists now, each judged by the same
 * trust and reason rules as a CreateGrant's grant. Who created a grant is not part of the state,
 * so the one trust that rests on the creator (an AWS service granting for its own resource) cannot
 * apply: the grantee, the retiring principal and the constraints decide.
 */
import type { Config } from "../shared/config.js";
import { type Finding, holdActions, holdUnverified, type PlannedAction } from "../shared/decision.js";
import type { Actor } from "../shared/event.js";
import {
  type KeyState,
  type ListedGrant,
  namedKey,
  type StateJudgement,
  stateFacts,
} from "../shared/state.js";
import { worstSeverity } from "../shared/types.js";
import { INCIDENT, REASON_SEVERITY, type RogueGrantReason, reasonsFor, trustOf } from "./decide.js";

/** No caller: a listed grant carries no record of who created it. */
const UNKNOWN_CREATOR: Actor = {
  type: undefined,
  arn: undefined,
  roleArn: undefined,
  accountId: undefined,
  principalId: undefined,
  mfaAuthenticated: undefined,
  invokedBy: undefined,
  sourceIdentity: undefined,
};

interface JudgedGrant {
  grant: ListedGrant;
  reasons: RogueGrantReason[];
}

function judgeGrant(grant: ListedGrant, keyAccount: string, config: Config): JudgedGrant | undefined {
  if (trustOf(UNKNOWN_CREATOR, grant, keyAccount, config)) return undefined;
  const reasons = reasonsFor(grant, keyAccount, config);
  return reasons.length ? { grant, reasons } : undefined;
}

function severityOf(reasons: readonly RogueGrantReason[]) {
  return worstSeverity(reasons.map((r) => REASON_SEVERITY[r]));
}

export function judgeGrants(state: KeyState, config: Config): Finding | undefined {
  const key = namedKey(state);
  const judged = (state.grants ?? []).flatMap((g) => judgeGrant(g, key.account, config) ?? []);
  if (judged.length === 0) return undefined;
  const reasons = [...new Set(judged.flatMap((j) => j.reasons))];
  const severity = severityOf(reasons);
  // Exactly the grants whose own reasons warrant a revoke, each by its id (never in bulk).
  const actions: PlannedAction[] = judged.flatMap(({ grant, reasons: own }) => {
    const s = severityOf(own);
    return (s === "critical" || s === "high") && grant.grantId
      ? [{ type: "revoke-grant" as const, keyRef: key.arn, grantId: grant.grantId }]
      : [];
  });
  const facts = stateFacts(state);
  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons,
    title: actions.length ? "Rogue KMS grant" : "Suspicious KMS grant",
    summary: `${judged.length} grant${judged.length === 1 ? "" : "s"} on the key raise${judged.length === 1 ? "s" : ""} concern: ${reasons.join(", ")}`,
    details: judged.map(
      ({ grant, reasons: own }) =>
        `Grant ${grant.grantId ?? "(no id)"} to ${grant.grantee ?? "(missing)"}: ${grant.operations.join(", ") || "(no operations)"}; ${own.join(", ")}`,
    ),
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["grants", "tags"]),
    event: undefined,
    key,
    extra: { grants: judged.map(({ grant, reasons: own }) => ({ ...grant, reasons: own })) },
  };
}

export const rogueGrantState: StateJudgement = {
  reads: ["grants"],
  judge: (state, config) => judgeGrants(state, config),
};
