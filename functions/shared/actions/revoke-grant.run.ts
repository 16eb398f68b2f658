/** `revoke-grant`'s calls: RevokeGrant on exactly the planned grant, then ListGrants to verify. */
import { ListGrantsCommand, RevokeGrantCommand } from "../clients/kms-sdk.js";
import type { PlannedAction } from "../decision.js";
import { awsErrorName } from "../errors.js";
import { type ActionContext, type ActionResult, type ActionStatus, base, failed } from "./action.js";

export async function run(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
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
}
