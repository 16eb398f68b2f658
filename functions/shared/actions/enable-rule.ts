/**
 * Re-enables one of the responder's EventBridge rules that someone disabled (the tampering incident,
 * `repair` on). EnableRule is idempotent; the rule's state is read back with DescribeRule.
 */
import { base, type ExecutingAction, failed, oneStep, shellArg } from "./action.js";
import { reach, regionArg, repaired } from "./repair-target.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "enable-rule": true;
  }
}

/** Both enabled states count: the rule of failed decrypts takes read-only management events too. */
const ENABLED = new Set(["ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"]);

export const enableRule: ExecutingAction<"enable-rule"> = {
  type: "enable-rule",
  permissions: ["events:EnableRule", "events:DescribeRule"],
  async run(action, ctx) {
    const reached = await reach(action, ctx);
    if ("result" in reached) return reached.result;
    const { target, clients } = reached;
    const at = { name: target.name, ...(target.bus && { bus: target.bus }) };
    try {
      const before = await clients.ruleState(at);
      if (ENABLED.has(before ?? "")) {
        return {
          ...base(action),
          resource: target,
          status: "already-done",
          detail: `rule ${target.name} is ${before}`,
          verified: true,
        };
      }
      await clients.enableRule(at);
    } catch (error) {
      return failed(action, error, "EnableRule");
    }
    const after = await clients.ruleState(at).then(
      (state) => ENABLED.has(state ?? ""),
      () => undefined,
    );
    return repaired(action, target, `rule ${target.name} enabled`, after);
  },
  done: "rule re-enabled",
  impact:
    "the rule matches KMS events again; events between the DisableRule and now were not delivered to it (triage the trail for them). A rule that took read-only management events is ENABLED again, without them, until the stack is deployed",
  undo: {
    command: (result, { region }) =>
      result.resource
        ? `aws events disable-rule --name ${shellArg(result.resource.name)}${result.resource.bus ? ` --event-bus-name ${shellArg(result.resource.bus)}` : ""}${regionArg(result, region)}`
        : undefined,
    steps: oneStep(
      3,
      "only if the rule must stay off (change the stack's config instead: incidents.<name>.mode off)",
    ),
  },
};
