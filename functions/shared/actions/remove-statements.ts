/**
 * `remove-statements`: puts back the policy the decider computed from the key's
 * current policy (the offending principals removed, the owners kept: see `removeStatements` in
 * the analyser), then reads it back to verify. Deciding what to remove happened in `decide`.
 *
 * Right before writing it reads the policy again: when it is no longer the policy the repair was
 * computed from (someone changed it since), writing would overwrite that change, so it writes
 * nothing and fails (the retry decides again on the new policy). When it already is the repaired
 * policy (a retry after the first attempt wrote it), it is `already-done`.
 */
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { base, type ExecutingAction, failed, oneStep } from "./action.js";

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    // An unreadable read-back is not the policy we wrote.
    return false;
  }
}

export const removeStatements: ExecutingAction<"remove-statements"> = {
  type: "remove-statements",
  permissions: ["kms:PutKeyPolicy", "kms:GetKeyPolicy"],
  async run(action, { kms }) {
    const policy = action.policy;
    const previousPolicy = action.previousPolicy;
    if (!policy || previousPolicy === undefined) {
      return {
        ...base(action),
        status: "failed",
        detail: "no repaired policy was planned (the current policy was not read)",
      };
    }
    let current: string;
    try {
      const read = await kms.send(new GetKeyPolicyCommand({ KeyId: action.keyRef, PolicyName: "default" }));
      current = read.Policy ?? "";
    } catch (error) {
      return { ...failed(action, error, "GetKeyPolicy"), previousPolicy };
    }
    if (sameJson(current, policy)) {
      return {
        ...base(action),
        status: "already-done",
        detail: "the key policy is already the repaired one",
        previousPolicy,
      };
    }
    if (!sameJson(current, previousPolicy)) {
      return {
        ...base(action),
        status: "failed",
        detail: "the key policy changed since it was read: not overwritten (the retry judges the new policy)",
        previousPolicy,
      };
    }
    try {
      await kms.send(
        new PutKeyPolicyCommand({ KeyId: action.keyRef, PolicyName: "default", Policy: policy }),
      );
    } catch (error) {
      return { ...failed(action, error, "PutKeyPolicy"), previousPolicy };
    }
    let verified: boolean | undefined;
    try {
      const after = await kms.send(new GetKeyPolicyCommand({ KeyId: action.keyRef, PolicyName: "default" }));
      verified = sameJson(after.Policy ?? "", policy);
    } catch {
      // Verification is best effort: the PutKeyPolicy succeeded.
      verified = undefined;
    }
    const result = {
      ...base(action),
      status: "succeeded" as const,
      detail: "removed the offending principals from the key policy",
      previousPolicy,
    };
    return verified === undefined ? result : { ...result, verified };
  },
  done: "statements removed",
  impact:
    "the removed principals lose the access the key policy gave them; the other statements are unchanged",
  undo: {
    command: (result, { region }) =>
      `aws kms put-key-policy --key-id ${result.keyRef} --policy-name default --policy file://previous-policy.json${region} (the previous policy is in the JSON notification: actions[].previousPolicy)`,
    steps: oneStep(4, "only if the removed principals must get their access back (this re-exposes the key)"),
  },
};
