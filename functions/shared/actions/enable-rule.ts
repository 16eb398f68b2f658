/**
 * Re-enables one of the responder's EventBridge rules that someone disabled (the tampering incident,
 * `repair` on), in the state the stack declares for it. EnableRule sets `ENABLED` only: a rule that
 * takes read-only management events (`ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`) is put back
 * with PutRule instead, with its own pattern, description and role as DescribeRule reads them (a
 * PutRule that changed the pattern is a finding of its own). Both are idempotent; the rule's state
 * is read back with DescribeRule.
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
  // PutRule: a rule that takes read-only management events is put back in that state.
  permissions: ["events:EnableRule", "events:DescribeRule", "events:PutRule"],
  async run(action, ctx) {
    const reached = await reach(action, ctx);
    if ("result" in reached) return reached.result;
    const { target, clients } = reached;
    const at = { name: target.name, ...(target.bus && { bus: target.bus }) };
    const declared = clients.declaredRuleState(at);
    const isBack = (state: string | undefined) =>
      declared === "ENABLED" ? ENABLED.has(state ?? "") : state === declared;
    try {
      const before = await clients.ruleState(at);
      if (isBack(before)) {
        return {
          ...base(action),
          resource: target,
          status: "already-done",
          detail: `rule ${target.name} is ${before}`,
          verified: true,
        };
      }
      if (declared === "ENABLED") await clients.enableRule(at);
      else await clients.putRuleState(at, declared);
    } catch (error) {
      return failed(action, error, declared === "ENABLED" ? "EnableRule" : "PutRule");
    }
    const after = await clients.ruleState(at).then(isBack, () => undefined);
    return repaired(action, target, `rule ${target.name} ${declared}`, after);
  },
  done: "rule re-enabled",
  impact:
    "the rule matches KMS events again, in the state the stack declares (a rule that takes read-only management events gets them back); events between the DisableRule and now were not delivered to it (triage the trail for them)",
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
