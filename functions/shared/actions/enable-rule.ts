/**
 * Re-enables one of the responder's EventBridge rules that someone disabled (responder-tampered,
 * `repair` on). EnableRule is idempotent; the rule's state is read back with DescribeRule.
 */
import { DescribeRuleCommand, EnableRuleCommand } from "@aws-sdk/client-eventbridge";
import { base, type ExecutingAction, failed, oneStep, shellArg } from "./action.js";
import { reach, regionArg, repaired } from "./repair-target.js";

/** Both enabled states count: the rule of failed decrypts takes read-only management events too. */
const ENABLED = new Set(["ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"]);

export const enableRule: ExecutingAction<"enable-rule"> = {
  type: "enable-rule",
  permissions: ["events:EnableRule", "events:DescribeRule"],
  async run(action, ctx) {
    const reached = await reach(action, ctx);
    if ("result" in reached) return reached.result;
    const { target, clients } = reached;
    const at = { Name: target.name, ...(target.bus && { EventBusName: target.bus }) };
    try {
      const before = await clients.events.send(new DescribeRuleCommand(at));
      if (ENABLED.has(before.State ?? "")) {
        return {
          ...base(action),
          resource: target,
          status: "already-done",
          detail: `rule ${target.name} is ${before.State}`,
          verified: true,
        };
      }
      await clients.events.send(new EnableRuleCommand(at));
    } catch (error) {
      return failed(action, error, "EnableRule");
    }
    const after = await clients.events.send(new DescribeRuleCommand(at)).catch(() => undefined);
    return repaired(action, target, `rule ${target.name} enabled`, after && ENABLED.has(after.State ?? ""));
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
