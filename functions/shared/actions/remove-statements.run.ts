/** `remove-statements`'s calls: the policy read again, PutKeyPolicy, the policy read back. */
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from "../clients/kms-sdk.js";
import type { PlannedAction } from "../decision.js";
import { type ActionContext, type ActionResult, base, failed } from "./action.js";

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    // An unreadable read-back is not the policy we wrote.
    return false;
  }
}

export async function run(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
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
    await kms.send(new PutKeyPolicyCommand({ KeyId: action.keyRef, PolicyName: "default", Policy: policy }));
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
}
