/**
 * An incident function's role, derived from its declaration under the deployed config: the reads
 * it makes and the executors it can plan. Nothing is listed by hand, so the role and the handler
 * cannot drift apart (a test replays every command the handler tests observe against it).
 */

import { permissionsOf } from "./actions/action.js";
import type { Config } from "./config.js";
import { incidentMode, KMS_SOURCE } from "./decision.js";
import { factReader } from "./facts.js";
import type { Incident } from "./incident.js";
import { sourcesOf } from "./route.js";

export interface RolePermissions {
  /** KMS actions, granted on the account's keys only. */
  kms: string[];
  /**
   * Other actions: cloudtrail:LookupEvents (no resource ARN), and `sts:AssumeRole` for a central
   * responder (`config.organization`) that reads or acts on keys, to reach member accounts' keys
   * through the member role. The stack scopes each one (AssumeRole only on the member role name,
   * inside the organisation), and `organizations:DescribeAccount` for a central responder (the
   * account's name in notifications; the stack scopes it to the organisation's accounts).
   */
  other: string[];
}

/**
 * Read-only actions that support no resource-level permission, so they are granted on `*`:
 * kms:ListAliases (the notification names the key's aliases) and cloudtrail:LookupEvents.
 */
export const RESOURCELESS_READS: readonly string[] = [
  "cloudtrail:LookupEvents",
  "kms:ListAliases",
  "organizations:DescribeOrganization",
];

/** Sorts actions into those granted on the keys and those without a resource ARN. */
export function splitPermissions(actions: readonly string[]): RolePermissions {
  const all = [...new Set(actions)].sort();
  return {
    kms: all.filter((a) => a.startsWith("kms:") && !RESOURCELESS_READS.includes(a)),
    other: all.filter((a) => !a.startsWith("kms:") || RESOURCELESS_READS.includes(a)),
  };
}

/**
 * What a central responder needs to name the organisation's accounts in its notifications
 * (account-names.ts). The stack grants it on the organisation's accounts only.
 */
export const DESCRIBE_ACCOUNT = "organizations:DescribeAccount";

/**
 * The repairs of the responder's own resources (its rules, trail, functions): the stack scopes them
 * to those resources, and they are never a member role's.
 */
const REPAIR_ACTIONS = ["events:", "lambda:", "cloudtrail:StartLogging", "cloudtrail:GetTrailStatus"];
export const isRepairAction = (action: string): boolean => REPAIR_ACTIONS.some((p) => action.startsWith(p));

/** What a central responder needs to reach a key in a member account (the member role). */
export const ASSUME_MEMBER_ROLE = "sts:AssumeRole";

/**
 * The facts a handler reads in its one round before deciding again: the incident's own reads and,
 * for every function about keys, what its notification names the key by (`notice`: aliases and
 * description, best effort), read in the same round so that nothing is read after acting but the
 * verification.
 */
export function roundReads<Own extends string>(
  incident: Incident<string, Own>,
  config: Config,
): readonly string[] {
  const notice = sourcesOf(incident).includes(KMS_SOURCE) && !incident.keyless ? ["notice"] : [];
  return [...incident.reads(config), ...notice];
}

/** The IAM actions an incident's function needs under `config`; empty when the incident is off. */
export function rolePermissions<Own extends string>(
  incident: Incident<string, Own>,
  config: Config,
): RolePermissions {
  const mode = incidentMode(config, incident.name);
  if (mode === "off") return { kms: [], other: [] };
  const reads = roundReads(incident, config).flatMap((r) => [
    ...(factReader(r, incident.facts)?.permissions ?? []),
  ]);
  // In notify mode nothing is changed: no mutating permission at all.
  const acts = mode === "enforce" ? permissionsOf(incident.executors, incident.plans(config)) : [];
  const { kms, other } = splitPermissions([...reads, ...acts]);
  // A function that never touches a key never needs another account's credentials.
  if (config.organization && kms.length) other.push(ASSUME_MEMBER_ROLE);
  // Every function notifies, and a central one names the account it notifies about.
  if (config.organization) other.push(DESCRIBE_ACCOUNT);
  return { kms, other };
}

/**
 * What a central function's session in a member account may do (its session policy): its own KMS
 * actions and the resourceless reads it makes there (ListAliases for the notification, LookupEvents
 * for a key's history). The member role holds the union of every function's; the session narrows it.
 */
export function memberSessionActions<Own extends string>(
  incident: Incident<string, Own>,
  config: Config,
): string[] {
  const { kms, other } = rolePermissions(incident, config);
  if (!kms.length) return [];
  return [...kms, ...other.filter((a) => RESOURCELESS_READS.includes(a))];
}
