/**
 * The calls that repair the responder's own resources (EventBridge rules, the trail, the
 * functions' concurrency), with one set of clients per Region, created on first use. Loaded on
 * demand by the one function that repairs: no other bundle carries these clients.
 */
import { CloudTrailClient, GetTrailStatusCommand, StartLoggingCommand } from "@aws-sdk/client-cloudtrail";
import {
  DescribeRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  type RuleState,
} from "@aws-sdk/client-eventbridge";
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from "@aws-sdk/client-lambda";
import type { RepairClients } from "../actions/action.js";
import { RESERVED_CONCURRENCY_TAG } from "../actions/restore-function-concurrency.js";
import { RETRY } from "./retry.js";

const byRegion = new Map<string, RepairClients>();

/** The state of a rule that takes read-only management events (EnableRule sets only `ENABLED`). */
const ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

/**
 * The stack's rules that take read-only management events, by name: `KMS_RESPONDER_READ_ONLY_RULES`,
 * a JSON list the stack sets on the function that repairs. Anything else there is ignored: the
 * repair then enables the rule as EnableRule does, and says so.
 */
function readOnlyRules(env: NodeJS.ProcessEnv = process.env): Set<string> {
  try {
    const parsed: unknown = JSON.parse(env.KMS_RESPONDER_READ_ONLY_RULES ?? "[]");
    return new Set(Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === "string") : []);
  } catch {
    return new Set();
  }
}

const ruleInput = (rule: { name: string; bus?: string }) => ({
  Name: rule.name,
  ...(rule.bus && { EventBusName: rule.bus }),
});

function repairCalls(region: string | undefined): RepairClients {
  const at = region ? { ...RETRY, region } : RETRY;
  const events = new EventBridgeClient(at);
  const cloudTrail = new CloudTrailClient(at);
  const lambda = new LambdaClient(at);
  return {
    ruleState: async (rule) => (await events.send(new DescribeRuleCommand(ruleInput(rule)))).State,
    enableRule: async (rule) => {
      await events.send(new EnableRuleCommand(ruleInput(rule)));
    },
    declaredRuleState: (rule) => (readOnlyRules().has(rule.name) ? ALL_MANAGEMENT_EVENTS : "ENABLED"),
    putRuleState: async (rule, state) => {
      const now = await events.send(new DescribeRuleCommand(ruleInput(rule)));
      await events.send(
        new PutRuleCommand({
          ...ruleInput(rule),
          EventPattern: now.EventPattern,
          ...(now.Description !== undefined && { Description: now.Description }),
          ...(now.RoleArn !== undefined && { RoleArn: now.RoleArn }),
          State: state as RuleState,
        }),
      );
    },
    trailLogging: async (trail) =>
      (await cloudTrail.send(new GetTrailStatusCommand({ Name: trail }))).IsLogging,
    startLogging: async (trail) => {
      await cloudTrail.send(new StartLoggingCommand({ Name: trail }));
    },
    concurrency: async (fn) => {
      const out = await lambda.send(new GetFunctionCommand({ FunctionName: fn }));
      const reserved = out.Concurrency?.ReservedConcurrentExecutions;
      const declared = Number(out.Tags?.[RESERVED_CONCURRENCY_TAG]);
      return {
        ...(reserved !== undefined && { reserved }),
        ...(Number.isInteger(declared) && declared >= 0 && { declared }),
      };
    },
    putConcurrency: async (fn, reserved) => {
      await lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: reserved }),
      );
    },
    deleteConcurrency: async (fn) => {
      await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: fn }));
    },
  };
}

/** The repair calls in a Region (undefined: the function's own Region). */
export async function repairClients(region: string | undefined): Promise<RepairClients> {
  const key = region ?? "";
  let calls = byRegion.get(key);
  if (!calls) {
    calls = repairCalls(region);
    byRegion.set(key, calls);
  }
  return calls;
}
