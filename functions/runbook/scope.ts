/**
 * What one runbook request may do: the reads its action makes before planning (run.ts) and the
 * permissions of the action modules its plan can hold. The central runbook assumes the member role
 * with this, on the one key the request names, as its session policy, so invoking the runbook is
 * never the member role's whole set of actions on every key of the organisation. The runbook's own
 * role is the union over every action (infra/runbook.ts).
 */
import { restoreActions } from "../key-deletion-scheduled/restore.js";
import { ACTIONS } from "../shared/actions/index.js";
import type { KeyScope } from "../shared/clients/member.js";
import type { Config } from "../shared/config.js";
import { splitPermissions } from "../shared/permissions.js";
import type { ActionType } from "../shared/types.js";
import type { RunbookAction } from "./payload.js";

/**
 * What every request reads: the key (DescribeKey, before planning and after acting) and its aliases
 * (ListAliases: the notification names the key by them).
 */
const EVERY_REQUEST = ["kms:DescribeKey", "kms:ListAliases"];

/** What each runbook action reads besides the key, and the action types its plan can hold. */
const NEEDS: {
  [A in RunbookAction]: (config: Config) => { reads: string[]; runs: ActionType[] };
} = {
  "revoke-grant": () => ({ reads: ["kms:ListGrants"], runs: ["revoke-grant"] }),
  // Expands into one revoke-grant per grant of the grantee.
  "revoke-grantee-grants": () => ({ reads: ["kms:ListGrants"], runs: ["revoke-grant"] }),
  "disable-key": () => ({ reads: [], runs: ["disable-key"] }),
  "enable-key": () => ({ reads: [], runs: ["enable-key"] }),
  // The restore after the cancel may enable the key again, judged by its CloudTrail history.
  "cancel-key-deletion": (config) => ({
    reads: config.afterCancel === "restore" ? ["cloudtrail:LookupEvents"] : [],
    runs: restoreActions(config),
  }),
  "enable-key-rotation": () => ({ reads: ["kms:GetKeyRotationStatus"], runs: ["enable-key-rotation"] }),
  "analyze-key-policy": () => ({ reads: ["kms:GetKeyPolicy"], runs: [] }),
};

/** Every IAM action a request for `action` may call under `config`, sorted, without repeats. */
export function runbookActionPermissions(action: RunbookAction, config: Config): string[] {
  const { reads, runs } = NEEDS[action](config);
  const all = [...EVERY_REQUEST, ...reads, ...runs.flatMap((t) => ACTIONS[t].permissions)];
  return [...new Set(all)].sort();
}

/**
 * The member session of one request: `action`'s KMS actions on `keyArn` only, and the reads that
 * support no resource ARN (aliases for the notification, CloudTrail history) on `*`.
 */
export function runbookScope(action: RunbookAction, keyArn: string, config: Config): KeyScope {
  const { kms, other } = splitPermissions(runbookActionPermissions(action, config));
  return { keyArn, onKey: kms, anywhere: other };
}
