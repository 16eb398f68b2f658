/**
 * rogue-grant: judges a CreateGrant. Offline it judges the grant the event claims; in the handler
 * it judges the grant as ListGrants reports it now (the event is a claim, the grant is the fact):
 * a grant that is gone, or that is not what the event says, is reported and left alone.
 */
import { type KeyRef, principalAccount, roleArnOfSession } from "../shared/arn.js";
import type { Config } from "../shared/config.js";
import {
  type Decision,
  type GrantFact,
  holdActions,
  holdUnverified,
  ignore,
  type KeyFacts,
  type PlannedAction,
  precheck,
} from "../shared/decision.js";
import type { Actor, KmsEvent } from "../shared/event.js";
import {
  infrastructureAccount,
  isServicePrincipal,
  matchesAny,
  normalisePrincipal,
} from "../shared/principals.js";
import { CRYPTOGRAPHIC_OPERATIONS, type Severity, severityRank, worstSeverity } from "../shared/types.js";

export const INCIDENT = "rogue-grant";

export const REASON_SEVERITY = {
  "external-grantee": "critical",
  "grant-delegation": "high",
  "untrusted-grantee": "high",
  "unresolvable-grantee": "medium",
  "unconstrained-grant": "low",
} as const satisfies Record<string, Severity>;
export type RogueGrantReason = keyof typeof REASON_SEVERITY;

/** Why a grant is trusted outright: stable codes (tests and the CLI assert these, not prose). */
export type TrustCode =
  | "service-resource-grant"
  | "service-principal-grantee"
  | "infrastructure-grantee"
  | "trusted-grantee-pattern";

/**
 * AWS services that create grants for their own resources on a principal's behalf (EBS volumes,
 * RDS instances, ...). Services that replay parameters their caller chose (Step Functions' SDK
 * integrations, SSM Automation, CloudFormation, EventBridge Scheduler) are deliberately absent:
 * their `invokedBy` proves nothing about the grantee, so such grants are judged like anyone's.
 */
const RESOURCE_GRANT_SERVICES: ReadonlySet<string> = new Set([
  "AWS Internal",
  "acm.amazonaws.com",
  "autoscaling.amazonaws.com",
  "backup.amazonaws.com",
  "bedrock.amazonaws.com",
  "dynamodb.amazonaws.com",
  "ebs.amazonaws.com",
  "ec2.amazonaws.com",
  "eks.amazonaws.com",
  "elasticfilesystem.amazonaws.com",
  "es.amazonaws.com",
  "fsx.amazonaws.com",
  "glue.amazonaws.com",
  "kafka.amazonaws.com",
  "lambda.amazonaws.com",
  "rds.amazonaws.com",
  "redshift.amazonaws.com",
  "sagemaker.amazonaws.com",
  "secretsmanager.amazonaws.com",
  "workspaces.amazonaws.com",
]);

/** The grant to judge: the fact when it was read, else the event's claim. */
export interface GrantUnderJudgement {
  grantee: string | undefined;
  retiringPrincipal: string | undefined;
  operations: string[];
  constrained: boolean;
  grantId: string | undefined;
}

function claimedGrant(event: KmsEvent): GrantUnderJudgement | undefined {
  const d = event.detail;
  if (d.kind !== "grant") return undefined;
  return {
    grantee: d.grantee,
    retiringPrincipal: d.retiringPrincipal,
    operations: d.operations,
    constrained: d.constraints !== undefined,
    grantId: d.grantId,
  };
}

function factGrant(fact: GrantFact, grantId: string | undefined): GrantUnderJudgement {
  return { ...fact, grantId };
}

const SERVICE_LINKED_ROLE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/aws-service-role\//;

function isAwsService(actor: Actor): boolean {
  return (
    actor.type === "AWSService" ||
    (actor.invokedBy !== undefined && RESOURCE_GRANT_SERVICES.has(actor.invokedBy))
  );
}

/** Who may hold a grant without concern: the key's or a trusted account, a service, AWS infrastructure. */
function inTrustedPlace(principal: string | undefined, keyAccount: string, config: Config): boolean {
  if (principal === undefined) return true;
  if (isServicePrincipal(principal)) return true;
  const account = principalAccount(principal) ?? infrastructureAccount(principal);
  return account !== undefined && (account === keyAccount || config.trustedAccounts.includes(account));
}

/**
 * The grant's principals as judged: trimmed (AWS's own Voice ID sample records its grantee as
 * `"voiceid.amazonaws.com "`). Notifications quote the recorded text, never this.
 */
function judged(grant: GrantUnderJudgement): GrantUnderJudgement {
  return {
    ...grant,
    grantee: normalisePrincipal(grant.grantee),
    retiringPrincipal: normalisePrincipal(grant.retiringPrincipal),
  };
}

/** Why a grant is trusted outright, or undefined when it must be judged. */
export function trustOf(
  actor: Actor,
  grant: GrantUnderJudgement,
  keyAccount: string,
  config: Config,
): TrustCode | undefined {
  const { grantee, retiringPrincipal } = judged(grant);
  if (!grantee) return undefined;
  // A trusted grantee does not excuse an untrusted retiring principal: that one is judged.
  if (!inTrustedPlace(retiringPrincipal, keyAccount, config)) return undefined;
  if (isAwsService(actor) && inTrustedPlace(grantee, keyAccount, config)) return "service-resource-grant";
  if (isServicePrincipal(grantee)) return "service-principal-grantee";
  const infra = infrastructureAccount(grantee);
  if (infra !== undefined && infra === keyAccount) return "infrastructure-grantee";
  if (
    matchesAny(config.trustedGranteePrincipals, grantee) ||
    matchesAny(config.trustedGranteePrincipals, roleArnOfSession(grantee))
  ) {
    return "trusted-grantee-pattern";
  }
  return undefined;
}

const TRUST_PROSE: Record<TrustCode, string> = {
  "service-resource-grant":
    "created by an AWS service for its own resource, to a principal of a trusted account",
  "service-principal-grantee": "the grantee is an AWS service principal",
  "infrastructure-grantee": "the grantee is AWS infrastructure of the key's account",
  "trusted-grantee-pattern": "the grantee matches a trusted principal pattern",
};

export function reasonsFor(
  recorded: GrantUnderJudgement,
  keyAccount: string,
  config: Config,
): RogueGrantReason[] {
  const grant = judged(recorded);
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
  // AWS documents grants with CreateGrant to a service-linked role (cross-account Auto Scaling):
  // the service re-delegates for its own resources, which is not a person re-delegating.
  const slrAccount = SERVICE_LINKED_ROLE.exec(grantee)?.[1];
  const serviceLinked = slrAccount !== undefined && trustedAccount(slrAccount);
  if (grant.operations.includes("CreateGrant") && !serviceLinked) reasons.push("grant-delegation");
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

function details(grant: GrantUnderJudgement): string[] {
  const lines = [
    `Grantee: ${grant.grantee ?? "(missing)"}`,
    `Operations: ${grant.operations.join(", ") || "(none listed)"}`,
  ];
  if (grant.retiringPrincipal) lines.push(`Retiring principal: ${grant.retiringPrincipal}`);
  lines.push(`Constraints: ${grant.constrained ? "encryption context" : "none"}`);
  if (grant.grantId) lines.push(`Grant ID: ${grant.grantId}`);
  return lines;
}

/** The grant as judged: as it is now when it was read (handler), else the claim (offline). */
interface Judged {
  grant: GrantUnderJudgement;
  reasons: RogueGrantReason[];
  verdicts: string[];
  lines: string[];
}

function judgeNow(
  event: KmsEvent,
  claim: GrantUnderJudgement,
  claimed: RogueGrantReason[],
  keyAccount: string,
  config: Config,
  facts: KeyFacts,
): Judged {
  if (facts.grant === null) {
    return {
      grant: claim,
      reasons: claimed,
      verdicts: ["grant-gone"],
      lines: [
        "ListGrants does not list the grant now (revoked or retired since, or never there): nothing to revoke.",
      ],
    };
  }
  if (!facts.grant) return { grant: claim, reasons: claimed, verdicts: [], lines: [] };
  const grant = factGrant(facts.grant, claim.grantId);
  const trustNow = trustOf(event.actor, grant, keyAccount, config);
  const reasons = trustNow ? [] : reasonsFor(grant, keyAccount, config);
  // The grant is judged as it is now: worse than claimed is still acted on (by its own reasons),
  // milder or trusted is not.
  if (!trustNow && reasons.length > 0 && severityRank(worst(reasons)) <= severityRank(worst(claimed))) {
    return { grant, reasons, verdicts: [], lines: [] };
  }
  return {
    grant,
    reasons,
    verdicts: ["grant-differs"],
    lines: [
      `The grant as ListGrants reports it differs from the event: ${trustNow ? TRUST_PROSE[trustNow] : reasons.length ? `now ${reasons.join(", ")}` : "it raises no concern"}.`,
    ],
  };
}

/** The revocation of exactly this grant, when warranted and ours; otherwise a line saying why not. */
function planRevoke(
  event: KmsEvent,
  key: KeyRef | undefined,
  grant: GrantUnderJudgement,
  warranted: boolean,
  lines: string[],
): PlannedAction[] {
  if (key !== undefined && event.accountId !== undefined && key.account !== event.accountId) {
    lines.push(
      `The key belongs to account ${key.account}: a grant on another account's key is never ours to revoke. Tell its owner.`,
    );
    return [];
  }
  if (warranted && grant.grantId && key) {
    return [{ type: "revoke-grant", keyRef: key.arn, grantId: grant.grantId }];
  }
  if (warranted && !grant.grantId) {
    lines.push("The record carries no grant ID, so the grant cannot be revoked automatically.");
  }
  return [];
}

/**
 * Decides what to do about a CreateGrant. Revokes (exactly the grant in the event, never in bulk)
 * when a reason is high or critical and the grant, as it is now, still warrants it; medium and
 * low reasons only notify. A grant on another account's key is never ours to revoke.
 */
export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const claim = claimedGrant(event);
  if (!claim)
    return ignore("no-incident", `${event.eventName ?? "this event"} is not a CreateGrant`, INCIDENT);
  const key: KeyRef | undefined = event.key;
  const keyAccount = key?.account ?? event.accountId ?? "";

  const claimTrust = trustOf(event.actor, claim, keyAccount, config);
  if (claimTrust) return ignore("trusted-grant", TRUST_PROSE[claimTrust], INCIDENT);
  const claimed = reasonsFor(claim, keyAccount, config);
  if (claimed.length === 0) return ignore("no-incident", "the grant raises no concern", INCIDENT);

  const { grant, reasons, verdicts, lines } = judgeNow(event, claim, claimed, keyAccount, config, facts);
  const judged = reasons.length ? reasons : claimed;
  const severity = worst(judged);
  const warranted = verdicts.length === 0 && (severity === "critical" || severity === "high");

  lines.unshift(...details(grant));
  const actions = planRevoke(event, key, grant, warranted, lines);
  const revoke = severity === "critical" || severity === "high";

  return {
    kind: "finding",
    incident: INCIDENT,
    severity,
    reasons: judged,
    title: revoke ? "Rogue KMS grant" : "Suspicious KMS grant",
    summary: `${claim.grantee ?? "An unknown principal"} was granted ${claim.operations.join(", ") || "operations"} on the key`,
    details: lines,
    actions: holdUnverified(holdActions(INCIDENT, actions, key, config, facts), facts, ["grant"]),
    event,
    key,
    ...(verdicts.length && { verdicts }),
  };
}

function worst(reasons: readonly RogueGrantReason[]): Severity {
  return worstSeverity(reasons.map((r) => REASON_SEVERITY[r]));
}
