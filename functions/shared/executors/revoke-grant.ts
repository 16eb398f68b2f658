/** `revoke-grant`: revokes exactly the grant planned (never in bulk), with the key ARN. */
import { ListGrantsCommand, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { awsErrorName } from "../errors.js";
import { type ActionResult, type ActionStatus, base, type Executor, failed } from "./executor.js";

export const revokeGrant: Executor = {
  type: "revoke-grant",
  permissions: ["kms:RevokeGrant", "kms:ListGrants"],
  async run(action, { kms }) {
    const grantId = action.grantId;
    if (!grantId) return { ...base(action), status: "failed", detail: "no grant id to revoke" };
    let status: ActionStatus = "succeeded";
    try {
      // The key ARN (not an id) so a grant on another account's key can be revoked too.
      await kms.send(new RevokeGrantCommand({ KeyId: action.keyRef, GrantId: grantId }));
    } catch (error) {
      if (awsErrorName(error) !== "NotFoundException") return failed(action, error, "RevokeGrant");
      status = "already-done";
    }
    // Grants are eventually consistent (up to ~5 minutes): a grant still listed right after a
    // successful revoke is reported as not yet verified, not as a failure.
    let verified: boolean | undefined;
    try {
      const out = await kms.send(new ListGrantsCommand({ KeyId: action.keyRef, GrantId: grantId }));
      verified = !(out.Grants ?? []).some((g) => g.GrantId === grantId);
    } catch (error) {
      if (awsErrorName(error) === "NotFoundException") verified = true;
    }
    const detail =
      status === "already-done"
        ? "the grant was already gone (NotFoundException)"
        : verified === false
          ? "revoked; ListGrants still lists it (grant changes take up to five minutes to propagate)"
          : "revoked";
    const result: ActionResult = {
      ...base(action),
      status,
      detail,
      ...(action.grant && { grant: action.grant }),
    };
    return verified === undefined ? result : { ...result, verified };
  },
};
