/**
 * An incident function's role, derived from its declaration under the deployed config: the reads
 * it makes and the executors it can plan. Nothing is listed by hand, so the role and the handler
 * cannot drift apart (a test replays every command the handler tests observe against it).
 */
import type { Config } from "./config.js";
import { incidentMode } from "./decision.js";
import { permissionsOf } from "./executors/executor.js";
import { FACT_PERMISSIONS } from "./facts.js";
import type { Incident } from "./incident.js";

export interface RolePermissions {
  /** KMS actions, granted on the account's keys only. */
  kms: string[];
  /**
   * Other actions: cloudtrail:LookupEvents (no resource ARN), and `sts:AssumeRole` for a central
   * responder (`config.organization`) that reads or acts on keys, to reach member accounts' keys
   * through the member role. The stack scopes each one (AssumeRole only on the member role name,
   * inside the organisation).
   */
  other: string[];
}

/** What a central responder needs to reach a key in a member account (the member role). */
export const ASSUME_MEMBER_ROLE = "sts:AssumeRole";

/** The IAM actions an incident's function needs under `config`; empty when the incident is off. */
export function rolePermissions(incident: Incident, config: Config): RolePermissions {
  const mode = incidentMode(config, incident.name);
  if (mode === "off") return { kms: [], other: [] };
  const reads = incident.reads(config).flatMap((r) => [...FACT_PERMISSIONS[r]]);
  // In notify mode nothing is changed: no mutating permission at all.
  const acts = mode === "enforce" ? permissionsOf(incident.executors, incident.plans(config)) : [];
  const all = [...new Set([...reads, ...acts])].sort();
  const kms = all.filter((a) => a.startsWith("kms:"));
  const other = all.filter((a) => !a.startsWith("kms:"));
  // A function that never touches a key never needs another account's credentials.
  if (config.organization && kms.length) other.push(ASSUME_MEMBER_ROLE);
  return { kms, other };
}
