/**
 * Restarts the trail the responder depends on after someone stopped it (the tampering incident,
 * `repair` on, the trail listed in its `trails`). StartLogging is idempotent; GetTrailStatus reads
 * IsLogging back. A multi-Region trail is started in its home Region, where StopLogging was called.
 */
import { base, type ExecutingAction, failed, oneStep, shellArg } from "./action.js";
import { reach, regionArg, repaired } from "./repair-target.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "start-logging": true;
  }
}

export const startLogging: ExecutingAction<"start-logging"> = {
  type: "start-logging",
  permissions: ["cloudtrail:StartLogging", "cloudtrail:GetTrailStatus"],
  async run(action, ctx) {
    const reached = await reach(action, ctx);
    if ("result" in reached) return reached.result;
    const { target, clients } = reached;
    try {
      if (await clients.trailLogging(target.name)) {
        return {
          ...base(action),
          resource: target,
          status: "already-done",
          detail: `trail ${target.name} is logging`,
          verified: true,
        };
      }
      await clients.startLogging(target.name);
    } catch (error) {
      return failed(action, error, "StartLogging");
    }
    const after = await clients.trailLogging(target.name).catch(() => undefined);
    return repaired(action, target, `trail ${target.name} logging again`, after);
  },
  done: "trail restarted",
  impact:
    "CloudTrail records (and EventBridge delivers) KMS calls again; calls made while it was stopped were never recorded: nothing can respond to them",
  undo: {
    command: (result, { region }) =>
      result.resource
        ? `aws cloudtrail stop-logging --name ${shellArg(result.resource.name)}${regionArg(result, region)}`
        : undefined,
    steps: oneStep(3, "only if the trail must stay stopped (the responder is blind while it is)"),
  },
};
