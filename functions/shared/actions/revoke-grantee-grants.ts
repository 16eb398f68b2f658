/**
 * `revoke-grantee-grants`: a runbook request only. It plans one `revoke-grant` per grant of the
 * grantee on the key, so it has no `run` of its own.
 */
import type { ActionModule, WithRunbook } from "./action.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "revoke-grantee-grants": true;
  }
}

export const revokeGranteeGrants: ActionModule<"revoke-grantee-grants"> & WithRunbook = {
  type: "revoke-grantee-grants",
  permissions: [],
  done: "grants revoked",
  runbook: {
    document: "RevokeGranteeGrants",
    description:
      "Revoke every grant on a KMS key whose grantee is exactly this principal (for a role, its " +
      "sessions too), one by one. DryRun=true lists them and says what would happen, sending no change at all. " +
      "Undo: create new grants (aws kms create-grant); the notification lists what was revoked.",
    target: "GranteePrincipal",
    mutating: true,
  },
};
