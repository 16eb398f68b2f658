/**
 * The `remove-statements` response: read the key's current policy, drop the statements with a
 * critical finding, put the rest back (`PolicyName: "default"`), and read it back to verify.
 * It judges the *current* policy, not the one in the event, so a policy changed since is
 * handled as it is now; no critical statement left means `already-done`.
 */
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { type ActionContext, type ActionResult, base, type Executor, failed } from "../shared/actions.js";
import type { Config } from "../shared/config.js";
import type { PlannedAction } from "../shared/decision.js";
import { parseKeyArn } from "../shared/model.js";
import { analysePolicy, type PolicyContext, removeStatements } from "../shared/policy/analyse.js";

function criticalIndexes(policy: string, context: PolicyContext): number[] | string {
  const analysis = analysePolicy(policy, context);
  if (analysis.error !== undefined) return analysis.error;
  const critical = analysis.findings.flatMap((f) =>
    f.severity === "critical" && f.statementIndex !== undefined ? [f.statementIndex] : [],
  );
  return [...new Set(critical)];
}

export function removeStatementsExecutor(config: Config): Executor {
  return async (action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> => {
    const context: PolicyContext = {
      keyAccount: parseKeyArn(action.keyRef)?.accountId ?? "",
      trustedAccounts: config.trustedAccounts,
      trustedOrganizationIds: config.trustedOrganizationIds,
    };
    let current: string;
    try {
      const out = await kms.send(new GetKeyPolicyCommand({ KeyId: action.keyRef, PolicyName: "default" }));
      current = out.Policy ?? "";
    } catch (error) {
      return failed(action, error, "GetKeyPolicy");
    }
    const indexes = criticalIndexes(current, context);
    if (typeof indexes === "string") {
      return { ...base(action), status: "failed", detail: `the current policy cannot be read: ${indexes}` };
    }
    if (indexes.length === 0) {
      return {
        ...base(action),
        status: "already-done",
        detail: "the current policy has no critical statement",
        verified: true,
      };
    }
    const repaired = removeStatements(current, indexes);
    if (repaired.Statement.length === 0) {
      // An empty policy would lock everyone out of the key: refuse and let a human decide.
      return {
        ...base(action),
        status: "failed",
        detail: "every statement is critical; refusing to leave the key with an empty policy",
        previousPolicy: current,
      };
    }
    try {
      await kms.send(
        new PutKeyPolicyCommand({
          KeyId: action.keyRef,
          PolicyName: "default",
          Policy: JSON.stringify(repaired),
        }),
      );
    } catch (error) {
      return { ...failed(action, error, "PutKeyPolicy"), previousPolicy: current };
    }
    let verified: boolean | undefined;
    try {
      const after = await kms.send(new GetKeyPolicyCommand({ KeyId: action.keyRef, PolicyName: "default" }));
      const left = criticalIndexes(after.Policy ?? "", context);
      verified = Array.isArray(left) && left.length === 0;
    } catch {
      // Verification is best effort: the PutKeyPolicy succeeded.
      verified = undefined;
    }
    const result: ActionResult = {
      ...base(action),
      status: "succeeded",
      detail: `removed statement(s) #${indexes.join(", #")} from the key policy`,
      previousPolicy: current,
    };
    if (verified !== undefined) result.verified = verified;
    return result;
  };
}
