/**
 * Puts a responder function's concurrency back after someone reserved 0 (or fewer) for it
 * (the tampering incident with `repair` on): DeleteFunctionConcurrency removes the reservation, so the
 * function runs from the account's unreserved pool again; the stack's own reservation, where it
 * sets one, comes back with the next deploy. GetFunctionConcurrency reads it back.
 */
import { base, type ExecutingAction, failed, oneStep, shellArg } from "./action.js";
import { reach, regionArg, repaired } from "./repair-target.js";

export const restoreFunctionConcurrency: ExecutingAction<"restore-function-concurrency"> = {
  type: "restore-function-concurrency",
  permissions: ["lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency"],
  async run(action, ctx) {
    const reached = await reach(action, ctx);
    if ("result" in reached) return reached.result;
    const { target, clients } = reached;
    try {
      if ((await clients.reservedConcurrency(target.name)) === undefined) {
        return {
          ...base(action),
          resource: target,
          status: "already-done",
          detail: `function ${target.name} has no reserved concurrency`,
          verified: true,
        };
      }
      await clients.deleteConcurrency(target.name);
    } catch (error) {
      return failed(action, error, "DeleteFunctionConcurrency");
    }
    const after = await clients.reservedConcurrency(target.name).then(
      (reserved) => reserved === undefined,
      () => undefined,
    );
    return repaired(action, target, `function ${target.name}'s reserved concurrency removed`, after);
  },
  done: "function concurrency restored",
  impact:
    "the function is invoked again (from the account's unreserved concurrency); events sent to it while it could not run were retried by EventBridge or are in its failure queue. The stack's own reservation, if it sets one, returns with the next deploy",
  undo: {
    command: (result, { region }) =>
      result.resource
        ? `aws lambda put-function-concurrency --function-name ${shellArg(result.resource.name)} --reserved-concurrent-executions 0${regionArg(result, region)}`
        : undefined,
    steps: oneStep(3, "only to stop the function on purpose (it then responds to nothing)"),
  },
};
