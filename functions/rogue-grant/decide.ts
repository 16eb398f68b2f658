/**
 * rogue-grant: judges a CreateGrant call. Pure: the same code runs in the Lambda, the CLI's
 * triage and the drill.
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
import {
  infrastructureAccount,
  isAwsInvoker,
  isServicePrincipal,
  matchesAny,
  principalAccount,
  roleArnOfSession,
} from "../shared/principals.js";
import { CRYPTOGRAPHIC_OPERATIONS, type Severity, worstSeverity } from "../shared/types.js";

export const INCIDENT = "rogue-grant";

export const REASON_SEVERITY = {
  "external-grantee": "critical",
  "grant-delegation": "high",
  "untrusted-grantee": "high",
  "unresolvable-grantee": "medium",
  "unconstrained-grant": "low",
} as const satisfies Record<string, Severity>;
export type RogueGrantReason = keyof typeof REASON_SEVERITY;

export interface GrantRequest {
  grantee: string | undefined;
  retiringPrincipal: string | undefined;
  operations: string[];
  constrained: boolean;
  grantId: string | undefined;
  name: string | undefined;
}

export function grantRequestOf(call: KmsApiCall): GrantRequest {
  const ops = call.request.operations;
  const constraints = call.request.constraints;
  return {
    grantee: str(call.request.granteePrincipal),
    retiringPrincipal: str(call.request.retiringPrincipal),
    operations: Array.isArray(ops) ? ops.filter((o): o is string => typeof o === "string") : [],
    constrained:
      isObject(constraints) &&
      (isObject(constraints.encryptionContextSubset) || isObject(constraints.encryptionContextEquals)),
    grantId: str(call.response.grantId),
    name: str(call.request.name),
  };
}

/** Why a grant is trusted outright, or undefined when it must be judged. */
function trustedBecause(
  call: KmsApiCall,
  grant: GrantRequest,
  keyAccount: string | undefined,
  config: Config,
) {
  if (isAwsInvoker(call.actor.invokedBy)) return `created by ${call.actor.invokedBy} on a principal's behalf`;
  const grantee = grant.grantee;
  if (!grantee) return undefined;
  // A trusted grantee does not excuse an untrusted retiring principal: that one is judged.
  const retiringAccount = grant.retiringPrincipal ? principalAccount(grant.retiringPrincipal) : undefined;
  if (
    retiringAccount &&
    retiringAccount !== keyAccount &&
    !config.trustedAccounts.includes(retiringAccount)
  ) {
    return undefined;
  }
  if (isServicePrincipal(grantee)) return `grantee ${grantee} is an AWS service principal`;
  const infra = infrastructureAccount(grantee);
  if (infra !== undefined && infra === keyAccount)
    return `grantee ${grantee} is AWS infrastructure of the key's account`;
  if (
    matchesAny(config.trustedGranteePrincipals, grantee) ||
    matchesAny(config.trustedGranteePrincipals, roleArnOfSession(grantee))
  ) {
    return `grantee ${grantee} matches a trusted principal pattern`;
  }
  return undefined;
}

function reasonsFor(grant: GrantRequest, keyAccount: string | undefined, config: Config): RogueGrantReason[] {
  const reasons: RogueGrantReason[] = [];
  const grantee = grant.grantee ?? "";
  const trustedAccount = (account: string) =>
    account === keyAccount || config.trustedAccounts.includes(account);
  const accountOf = (p: string) => principalAccount(p) ?? infrastructureAccount(p);

  const granteeAccount = accountOf(grantee);
  const retiringAccount = grant.retiringPrincipal ? accountOf(grant.retiringPrincipal) : undefined;
  if (
    (granteeAccount && !trustedAccount(granteeAccount)) ||
    (retiringAccount && !trustedAccount(retiringAccount))
  ) {
    reasons.push("external-grantee");
  }
  if (grant.operations.includes("CreateGrant")) reasons.push("grant-delegation");
  if (
    config.trustedGranteePrincipals.length > 0 &&
    !matchesAny(config.trustedGranteePrincipals, grantee) &&
    !matchesAny(config.trustedGranteePrincipals, roleArnOfSession(grantee))
  ) {
    reasons.push("untrusted-grantee");
  }
  if (!granteeAccount && !isServicePrincipal(grantee)) reasons.push("unresolvable-grantee");
  if (!grant.constrained && grant.operations.some((o) => CRYPTOGRAPHIC_OPERATIONS.has(o))) {
    reasons.push("unconstrained-grant");
  }
  return reasons;
}

/**
 * Decides what to do about a CreateGrant. Revokes (exactly the grant in the event, never in
 * bulk) when a reason is high or critical; medium and low reasons only notify.
 */
export function decide(call: KmsApiCall, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(call, config, INCIDENT);
  if (skip) return skip;

  const grant = grantRequestOf(call);
  const keyAccount = parseKeyArn(call.keyArn)?.accountId ?? call.accountId;
  const trusted = trustedBecause(call, grant, keyAccount, config);
  if (trusted) return ignore("trusted-grant", trusted, INCIDENT);

  const reasons = reasonsFor(grant, keyAccount, config);
  if (reasons.length === 0) return ignore("no-incident", "the grant raises no concern", INCIDENT);
  const severity = worstSeverity(reasons.map((r) => REASON_SEVERITY[r]));
  const revoke = severity === "critical" || severity === "high";

  const actions: PlannedAction[] = [];
  const details = [
    `Grantee: ${grant.grantee ?? "(missing)"}`,
    `Operations: ${grant.operations.join(", ") || "(none listed)"}`,
  ];
  if (grant.retiringPrincipal) details.push(`Retiring principal: ${grant.retiringPrincipal}`);
  details.push(`Constraints: ${grant.constrained ? "encryption context" : "none"}`);
  if (grant.grantId) details.push(`Grant ID: ${grant.grantId}`);
  if (revoke && grant.grantId) {
    actions.push({ type: "revoke-grant", keyRef: keyRefOf(call), grantId: grant.grantId });
  } else if (revoke) {
    details.push("The record carries no grant ID, so the grant cannot be revoked automatically.");
  }

  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons,
    title: revoke ? "Rogue KMS grant" : "Suspicious KMS grant",
    summary: `${grant.grantee ?? "An unknown principal"} was granted ${grant.operations.join(", ") || "operations"} on the key`,
    details,
    actions: holdActions(INCIDENT, actions, call, config, facts),
    call,
  };
}
