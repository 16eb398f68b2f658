/** `revoke-grant`: revokes exactly the grant planned (never in bulk), with the key ARN. */
import type { GrantDetail } from "../event.js";
import { isObject, type JsonObject } from "../json.js";
import { type ExecutingAction, oneStep, shellArg, type WithRunbook } from "./action.js";
import { run } from "./revoke-grant.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "revoke-grant": true;
  }
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The grant an event requested, in the CreateGrant request's own shape. */
function requestedGrant(detail: GrantDetail): JsonObject {
  return compact({
    granteePrincipal: detail.grantee,
    operations: detail.operations,
    retiringPrincipal: detail.retiringPrincipal,
    constraints: detail.constraints,
    name: detail.name,
  });
}

/**
 * The grant's limits as CreateGrant arguments. Without them the undo of a revoke would create a
 * wider grant than the one revoked (no encryption-context constraint, no retiring principal).
 */
function grantLimits(req: JsonObject): string {
  const args: string[] = [];
  if (typeof req.retiringPrincipal === "string") {
    args.push(`--retiring-principal ${shellArg(req.retiringPrincipal)}`);
  }
  const c = isObject(req.constraints) ? req.constraints : {};
  // The CLI takes the API's member names; CloudTrail writes them in camelCase.
  const constraints = compact({
    EncryptionContextSubset: c.encryptionContextSubset,
    EncryptionContextEquals: c.encryptionContextEquals,
  });
  if (Object.keys(constraints).length) args.push(`--constraints ${shellArg(JSON.stringify(constraints))}`);
  if (typeof req.name === "string") args.push(`--name ${shellArg(req.name)}`);
  return args.map((a) => ` ${a}`).join("");
}

export const revokeGrant: ExecutingAction<"revoke-grant"> & WithRunbook = {
  type: "revoke-grant",
  permissions: ["kms:RevokeGrant", "kms:ListGrants"],
  run,
  done: "grant revoked",
  impact:
    "the grantee can no longer use the key through this grant; whatever relied on it fails until a grant is created again",
  wouldDo: () => "would revoke the grant (it exists now)",
  undo: {
    command(result, { finding, region }) {
      const detail = finding.event?.detail;
      const req = result.grant ?? (detail?.kind === "grant" ? requestedGrant(detail) : {});
      const grantee = typeof req.granteePrincipal === "string" ? shellArg(req.granteePrincipal) : "GRANTEE";
      const ops = Array.isArray(req.operations)
        ? req.operations
            .filter((o): o is string => typeof o === "string")
            .map(shellArg)
            .join(" ")
        : "OPERATIONS";
      return `aws kms create-grant --key-id ${result.keyRef} --grantee-principal ${grantee} --operations ${ops}${grantLimits(req)}${region}`;
    },
    steps: oneStep(1, "only if the grant was legitimate (re-creates exactly the grant that was revoked)"),
  },
  runbook: {
    document: "RevokeGrant",
    description:
      "Revoke one grant on a KMS key (by the key's ARN) and verify with ListGrants. " +
      "DryRun=true reads the grant (ListGrants) and says what would happen, sending no change at all. " +
      "Undo: a revoked grant cannot be restored; create a new one (aws kms create-grant).",
    target: "GrantId",
    mutating: true,
  },
};
