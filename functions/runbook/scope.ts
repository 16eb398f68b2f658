/**
 * What one runbook request may do in a member account: the reads its action makes before planning
 * and the permissions of the action modules it can plan, on the one key it names. The central
 * runbook assumes the member role with this as its session policy, so invoking the runbook is never
 * the member role's whole set of actions on every key of the organisation.
 */

import { restoreActions } from "../key-deletion-scheduled/restore.js";
import { ACTIONS } from "../shared/actions/index.js";
import type { KeyScope } from "../shared/clients/member.js";
import type { Config } from "../shared/config.js";
import { type FactName, factPermissions } from "../shared/facts.js";
import { splitPermissions } from "../shared/permissions.js";
import type { ActionType } from "../shared/types.js";
import type { RunbookAction } from "./payload.js";

/** What each runbook action reads (besides the key) and the action types its plan can hold. */
const NEEDS: {
  [A in RunbookAction]: (config: Config) => { reads: FactName[]; runs: ActionType[] };
} = {
  "revoke-grant": () => ({ reads: ["grant"], runs: ["revoke-grant"] }),
  // Expands into one revoke-grant per grant of the grantee.
  "revoke-grantee-grants": () => ({ reads: ["grant"], runs: ["revoke-grant"] }),
  "disable-key": () => ({ reads: [], runs: ["disable-key"] }),
  "enable-key": () => ({ reads: [], runs: ["enable-key"] }),
  // The restore after the cancel may enable the key again, judged by its CloudTrail history.
  "cancel-key-deletion": (config) => ({
    reads: config.afterCancel === "restore" ? ["history"] : [],
    runs: restoreActions(config),
  }),
  "enable-key-rotation": () => ({ reads: ["rotation"], runs: ["enable-key-rotation"] }),
  "analyze-key-policy": () => ({ reads: ["policy"], runs: [] }),
};

/**
 * The member session of one request: `action`'s reads and permissions on `keyArn` only, and the
 * reads that support no resource ARN (aliases for the notification, CloudTrail history) on `*`.
 */
export function runbookScope(action: RunbookAction, keyArn: string, config: Config): KeyScope {
  const { reads, runs } = NEEDS[action](config);
  const all: FactName[] = ["key", "notice", ...reads];
  const { kms, other } = splitPermissions([
    ...all.flatMap((r) => factPermissions(r)),
    ...runs.flatMap((t) => ACTIONS[t].permissions),
  ]);
  return { keyArn, onKey: kms, anywhere: other };
}
