/**
 * Puts a responder function's concurrency back after someone changed its reservation (the
 * tampering incident with `repair` on). The stack writes the reservation it declares into the
 * function's `kms-responder:reserved-concurrency` tag; GetFunction returns both, so the repair puts
 * that value back (PutFunctionConcurrency), or removes the reservation (DeleteFunctionConcurrency)
 * when the stack reserves none. GetFunction reads the result back.
 */
import { type ActionResult, base, type ExecutingAction, failed, oneStep, shellArg } from "./action.js";
import { reach, regionArg, repaired } from "./repair-target.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "restore-function-concurrency": true;
  }
}

/** The tag in which the stack records the reservation it declares for a function. */
export const RESERVED_CONCURRENCY_TAG = "kms-responder:reserved-concurrency";

const described = (reserved: number | undefined) =>
  reserved === undefined ? "no reserved concurrency" : `a reserved concurrency of ${reserved}`;

export const restoreFunctionConcurrency: ExecutingAction<"restore-function-concurrency"> = {
  type: "restore-function-concurrency",
  permissions: ["lambda:DeleteFunctionConcurrency", "lambda:GetFunction", "lambda:PutFunctionConcurrency"],
  async run(action, ctx) {
    const reached = await reach(action, ctx);
    if ("result" in reached) return reached.result;
    const { target, clients } = reached;
    let wanted: number | undefined;
    let step = "GetFunction";
    try {
      const now = await clients.concurrency(target.name);
      wanted = now.declared;
      if (now.reserved === wanted) {
        return {
          ...base(action),
          resource: target,
          status: "already-done",
          detail: `function ${target.name} has ${described(wanted)}, as the stack declares`,
          verified: true,
        } satisfies ActionResult;
      }
      step = wanted === undefined ? "DeleteFunctionConcurrency" : "PutFunctionConcurrency";
      if (wanted === undefined) await clients.deleteConcurrency(target.name);
      else await clients.putConcurrency(target.name, wanted);
    } catch (error) {
      return failed(action, error, step);
    }
    const after = await clients.concurrency(target.name).then(
      (read) => read.reserved === wanted,
      () => undefined,
    );
    return repaired(action, target, `function ${target.name} put back to ${described(wanted)}`, after);
  },
  done: "function concurrency restored",
  impact:
    "the function is invoked again, with the concurrency the stack gives it; events sent to it while it could not run were retried by EventBridge or are in its failure queue",
  undo: {
    command: (result, { region }) =>
      result.resource
        ? `aws lambda put-function-concurrency --function-name ${shellArg(result.resource.name)} --reserved-concurrent-executions 0${regionArg(result, region)}`
        : undefined,
    steps: oneStep(3, "only to stop the function on purpose (it then responds to nothing)"),
  },
};
