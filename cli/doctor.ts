/**
 * `kms-responder doctor`: checks a deployment, read-only, with the caller's credentials. One line
 * per check: `ok` or what to fix. Nothing is changed; every call is a Describe/Get/List.
 *
 * What it finds by what: the stack's outputs (CloudFormation DescribeStacks) name the topic and
 * the notification key; the incident rules are the stack's rules (EventBridge names them
 * `<stack>-...`) told apart by their description (`kms-responder: <incident>`, infra/stack.ts);
 * each rule's target is its function and the target's dead-letter queue its on-failure queue;
 * the heartbeat is the `Heartbeat` metric of the stack's account (its StackId) and Region, and of
 * every other account and Region its heartbeat alarms name or that beat lately (an organisation).
 *
 * Failure policy: a call that fails (denied, throttled) fails its check with the error, and the
 * other checks still run: the report is complete whatever one call does.
 */

import { parseArgs } from "node:util";
import { CloudFormationClient, DescribeStacksCommand, type Output } from "@aws-sdk/client-cloudformation";
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  type GetEventSelectorsCommandOutput,
  GetTrailStatusCommand,
  type Trail,
} from "@aws-sdk/client-cloudtrail";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  type Target,
} from "@aws-sdk/client-eventbridge";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { INCIDENTS } from "../functions/registry.js";
import { parseArn } from "../functions/shared/arn.js";
import { describeError } from "../functions/shared/errors.js";
import {
  DISCOVERED,
  HEARTBEAT_ALARM_INFIX,
  HEARTBEAT_EVALUATION_PERIODS,
  HEARTBEAT_METRIC,
  HEARTBEAT_PERIOD_MINUTES,
} from "../functions/shared/heartbeat.js";
import { isObject } from "../functions/shared/json.js";
import { AWS_OPTIONS, applyAwsFlags, throwIfCredentials } from "./aws.js";
import { type CliIo, UsageError } from "./io.js";
import { configuredRegion } from "./run.js";

export const DEFAULT_STACK = "kms-responder";

export interface Check {
  name: string;
  ok: boolean;
  /** `ok ...` detail, or what to fix. */
  message: string;
}

/** The clients of one Region (tests pass mocked ones). */
export interface DoctorClients {
  cloudFormation: CloudFormationClient;
  cloudTrail: CloudTrailClient;
  cloudWatch: CloudWatchClient;
  events: EventBridgeClient;
  kms: KMSClient;
  lambda: LambdaClient;
  sns: SNSClient;
  sqs: SQSClient;
}

export function defaultDoctorClients(region: string): DoctorClients {
  const at = { region };
  return {
    cloudFormation: new CloudFormationClient(at),
    cloudTrail: new CloudTrailClient(at),
    cloudWatch: new CloudWatchClient(at),
    events: new EventBridgeClient(at),
    kms: new KMSClient(at),
    lambda: new LambdaClient(at),
    sns: new SNSClient(at),
    sqs: new SQSClient(at),
  };
}

const ok = (name: string, message: string): Check => ({ name, ok: true, message });
const fail = (name: string, message: string): Check => ({ name, ok: false, message });

/** Whether legacy event selectors log write management events, KMS's included. */
function legacyCovers(out: GetEventSelectorsCommandOutput): boolean {
  return (out.EventSelectors ?? []).some(
    (s) =>
      s.IncludeManagementEvents !== false &&
      (s.ReadWriteType ?? "All") !== "ReadOnly" &&
      !(s.ExcludeManagementEventSources ?? []).includes("kms.amazonaws.com"),
  );
}

/** Whether advanced event selectors log write management events, KMS's included. */
function advancedCovers(out: GetEventSelectorsCommandOutput): boolean {
  return (out.AdvancedEventSelectors ?? []).some((selector) => {
    const fields = selector.FieldSelectors ?? [];
    const field = (name: string) => fields.find((f) => f.Field === name);
    if (!field("eventCategory")?.Equals?.includes("Management")) return false;
    if (field("readOnly")?.Equals?.includes("true")) return false;
    const source = field("eventSource");
    if (source?.NotEquals?.includes("kms.amazonaws.com")) return false;
    if (source?.Equals && !source.Equals.includes("kms.amazonaws.com")) return false;
    return true;
  });
}

/**
 * A trail logging write management events (KMS included) that covers the Region: a multi-Region
 * trail, or one whose home is the Region. Without one, no KMS event reaches EventBridge's rules
 * from CloudTrail and nothing is responded to.
 */
export async function checkTrails(
  region: string,
  clientsOf: (region: string) => DoctorClients,
): Promise<Check> {
  const name = `trail ${region}`;
  let trails: Trail[];
  try {
    trails =
      (await clientsOf(region).cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true })))
        .trailList ?? [];
  } catch (error) {
    throwIfCredentials(error);
    return fail(name, `cannot list trails (${describeError(error)})`);
  }
  const covering = trails.filter((t) => t.IsMultiRegionTrail || t.HomeRegion === region);
  const problems: string[] = [];
  for (const trail of covering) {
    const id = trail.TrailARN ?? trail.Name ?? "?";
    const home = clientsOf(trail.HomeRegion ?? region).cloudTrail;
    try {
      const status = await home.send(new GetTrailStatusCommand({ Name: id }));
      if (!status.IsLogging) {
        problems.push(`${trail.Name} is not logging (aws cloudtrail start-logging --name ${id})`);
        continue;
      }
      const selectors = await home.send(new GetEventSelectorsCommand({ TrailName: id }));
      if (legacyCovers(selectors) || advancedCovers(selectors)) {
        return ok(
          name,
          `ok: ${trail.Name} logs write management events${trail.IsMultiRegionTrail ? " (multi-Region)" : ""}`,
        );
      }
      problems.push(`${trail.Name} does not log write management events of KMS (check its event selectors)`);
    } catch (error) {
      throwIfCredentials(error);
      problems.push(`${trail.Name}: ${describeError(error)}`);
    }
  }
  if (problems.length) return fail(name, `no trail logs KMS write events here: ${problems.join("; ")}`);
  return fail(
    name,
    `no trail covers ${region}: create a multi-Region trail logging management events (aws cloudtrail create-trail --is-multi-region-trail ..., then start-logging)`,
  );
}

function output(outputs: readonly Output[], key: string): string | undefined {
  return outputs.find((o) => o.OutputKey === key)?.OutputValue;
}

const ENABLED_STATES = new Set(["ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"]);

interface StackRule {
  name: string;
  state: string | undefined;
  incident: string | undefined;
  targets: Target[];
}

/** The stack's rules (`<stack>-...`), with the incident their description names and their targets. */
async function stackRules(events: EventBridgeClient, stackName: string): Promise<StackRule[]> {
  const rules: StackRule[] = [];
  let token: string | undefined;
  do {
    const page = await events.send(new ListRulesCommand({ NamePrefix: `${stackName}-`, NextToken: token }));
    for (const rule of page.Rules ?? []) {
      if (!rule.Name) continue;
      const described = await events.send(new DescribeRuleCommand({ Name: rule.Name }));
      const incident = /^kms-responder: (.+)$/.exec(described.Description ?? "")?.[1];
      const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: rule.Name }))).Targets ?? [];
      rules.push({ name: rule.Name, state: described.State ?? rule.State, incident, targets });
    }
    token = page.NextToken;
  } while (token);
  return rules;
}

async function checkFunction(
  clients: DoctorClients,
  label: string,
  functionArn: string,
  queueArn: string | undefined,
): Promise<Check[]> {
  const checks: Check[] = [];
  const fn = parseArn(functionArn)?.resource.replace(/^function:/, "") ?? functionArn;
  try {
    await clients.lambda.send(new GetFunctionCommand({ FunctionName: functionArn }));
  } catch (error) {
    throwIfCredentials(error);
    return [
      fail(
        `function ${label}`,
        `${fn} is missing or unreadable (${describeError(error)}): redeploy the stack`,
      ),
    ];
  }
  try {
    const end = new Date();
    const stats = await clients.cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: [{ Name: "FunctionName", Value: fn }],
        StartTime: new Date(end.getTime() - 24 * 3600 * 1000),
        EndTime: end,
        Period: 24 * 3600,
        Statistics: ["Sum"],
      }),
    );
    const errors = (stats.Datapoints ?? []).reduce((sum, d) => sum + (d.Sum ?? 0), 0);
    checks.push(
      errors === 0
        ? ok(`function ${label}`, `ok: ${fn} present, no errors in the last 24 hours`)
        : fail(
            `function ${label}`,
            `${fn} failed ${errors} time${errors === 1 ? "" : "s"} in the last 24 hours: read its log group (/aws/lambda/${fn})`,
          ),
    );
  } catch (error) {
    throwIfCredentials(error);
    checks.push(
      fail(`function ${label}`, `${fn} present; its errors cannot be read (${describeError(error)})`),
    );
  }
  if (queueArn) {
    const queue = parseArn(queueArn);
    try {
      const url = (
        await clients.sqs.send(
          new GetQueueUrlCommand({
            QueueName: queue?.resource ?? queueArn,
            QueueOwnerAWSAccountId: queue?.account,
          }),
        )
      ).QueueUrl;
      const attrs = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      const depth = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
      checks.push(
        depth === 0
          ? ok(`failure queue ${label}`, "ok: empty")
          : fail(
              `failure queue ${label}`,
              `${depth} event(s) failed every retry and wait in ${queue?.resource ?? queueArn}: read them, act by hand (kms-responder run), then purge`,
            ),
      );
    } catch (error) {
      throwIfCredentials(error);
      checks.push(fail(`failure queue ${label}`, `cannot read ${queueArn} (${describeError(error)})`));
    }
  } else {
    checks.push(
      fail(`failure queue ${label}`, "the rule's target has no dead-letter queue: redeploy the stack"),
    );
  }
  return checks;
}

/** Whether a topic policy allows CloudWatch alarms to publish (an Allow for cloudwatch.amazonaws.com sns:Publish). */
export function alarmsMayPublish(policyText: string | undefined): boolean {
  if (!policyText) return false;
  let policy: unknown;
  try {
    policy = JSON.parse(policyText);
  } catch {
    return false;
  }
  const statements = isObject(policy) ? policy.Statement : undefined;
  const list = Array.isArray(statements) ? statements : [statements];
  const values = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  return list.some((s) => {
    if (!isObject(s) || s.Effect !== "Allow") return false;
    const principal = isObject(s.Principal) ? values(s.Principal.Service) : [];
    const actions = values(s.Action);
    return (
      principal.includes("cloudwatch.amazonaws.com") &&
      actions.some((a) => a === "sns:Publish" || a === "sns:*" || a === "*")
    );
  });
}

async function checkTopic(sns: SNSClient, topicArn: string | undefined): Promise<Check[]> {
  if (!topicArn) return [fail("topic", "the stack has no NotificationTopicArn output: redeploy the stack")];
  const checks: Check[] = [];
  try {
    let confirmed = 0;
    let pending = 0;
    let token: string | undefined;
    do {
      const page = await sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }),
      );
      for (const s of page.Subscriptions ?? []) {
        if (s.SubscriptionArn?.startsWith("arn:")) confirmed++;
        else pending++;
      }
      token = page.NextToken;
    } while (token);
    checks.push(
      confirmed > 0
        ? ok("topic subscribers", `ok: ${confirmed} confirmed subscription(s)`)
        : fail(
            "topic subscribers",
            `nobody receives notifications (${pending} pending confirmation): subscribe (aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint you@example.com) and confirm`,
          ),
    );
  } catch (error) {
    throwIfCredentials(error);
    checks.push(
      fail("topic subscribers", `cannot list the subscriptions of ${topicArn} (${describeError(error)})`),
    );
  }
  try {
    const attrs = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    checks.push(
      alarmsMayPublish(attrs.Attributes?.Policy)
        ? ok("topic policy", "ok: CloudWatch alarms may publish")
        : fail(
            "topic policy",
            "CloudWatch alarms may not publish (no Allow for cloudwatch.amazonaws.com sns:Publish): redeploy the stack",
          ),
    );
  } catch (error) {
    throwIfCredentials(error);
    checks.push(fail("topic policy", `cannot read the policy of ${topicArn} (${describeError(error)})`));
  }
  return checks;
}

async function checkKey(kms: KMSClient, keyArn: string | undefined): Promise<Check> {
  if (!keyArn)
    return fail("notification key", "the stack has no NotificationKeyArn output: redeploy the stack");
  try {
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata;
    return meta?.KeyState === "Enabled"
      ? ok("notification key", "ok: enabled")
      : fail(
          "notification key",
          `${keyArn} is ${meta?.KeyState ?? "in an unknown state"}: no notification or alarm can be delivered (${meta?.KeyState === "PendingDeletion" ? "aws kms cancel-key-deletion, then " : ""}aws kms enable-key --key-id ${keyArn})`,
        );
  } catch (error) {
    throwIfCredentials(error);
    return fail("notification key", `cannot read ${keyArn} (${describeError(error)})`);
  }
}

/**
 * The heartbeat's metric (infra/heartbeat.ts): one `Heartbeat` per canary event, by account and
 * Region, all in the stack's own account and Region (a member's beat is counted centrally). The
 * namespace is spelt here so the command line does not load the functions' metrics library.
 */
export const HEARTBEAT = { namespace: "kms-responder", metric: HEARTBEAT_METRIC } as const;
/** The heartbeat alarm's window: 2 periods of 15 minutes without a beat. */
const HEARTBEAT_QUIET_MINUTES = HEARTBEAT_PERIOD_MINUTES * HEARTBEAT_EVALUATION_PERIODS;
/** How far back doctor looks for the last beat. */
const HEARTBEAT_LOOKBACK_HOURS = 3;
/** How many pairs' metrics are read at once (an organisation has hundreds). */
const HEARTBEAT_READS_AT_ONCE = 8;

/** An account and Region whose heartbeat doctor reports. */
export interface HeartbeatPair {
  account: string;
  region: string;
}

/**
 * The last heartbeat's age: the latest 5-minute period with a beat, in the last 3 hours. Older
 * than the alarm's window, or none, fails: the path a KMS event takes to the rules is broken.
 * `name` is the check's name (`heartbeat` for the stack's own pair, `heartbeat <account> <Region>`).
 */
export async function checkHeartbeat(
  cloudWatch: CloudWatchClient,
  account: string | undefined,
  region: string,
  now = new Date(),
  name = "heartbeat",
): Promise<Check> {
  if (!account)
    return fail(name, "the stack's account is unknown (the stack was not found): deploy it first");
  let latest: Date | undefined;
  try {
    const stats = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: HEARTBEAT.namespace,
        MetricName: HEARTBEAT.metric,
        Dimensions: [
          { Name: "account", Value: account },
          { Name: "region", Value: region },
        ],
        StartTime: new Date(now.getTime() - HEARTBEAT_LOOKBACK_HOURS * 3600 * 1000),
        EndTime: now,
        Period: 300,
        Statistics: ["Sum"],
      }),
    );
    for (const point of stats.Datapoints ?? []) {
      if ((point.Sum ?? 0) > 0 && point.Timestamp && (!latest || point.Timestamp > latest))
        latest = point.Timestamp;
    }
  } catch (error) {
    throwIfCredentials(error);
    return fail(name, `cannot read the Heartbeat metric (${describeError(error)})`);
  }
  const fix =
    name === "heartbeat"
      ? "the canary's UpdateKeyDescription no longer reaches the heartbeat rule: check the trail above, " +
        "the schedule and the rule of the stack's heartbeat (aws scheduler list-schedules, aws events list-rules " +
        "--name-prefix <stack>-heartbeat), and whether someone stopped or changed them"
      : `no canary event from ${account} in ${region} reaches the central bus: check that account's trail in ` +
        "that Region, its member stack (the StackSet's instance: canary key, schedule, forwarding rule), and " +
        "whether someone stopped or changed them";
  if (!latest)
    return fail(
      name,
      `no heartbeat from ${account} in ${region} in the last ${HEARTBEAT_LOOKBACK_HOURS} hours: ${fix}`,
    );
  const minutes = Math.max(0, Math.round((now.getTime() - latest.getTime()) / 60_000));
  const at = `last heartbeat ${minutes} minute(s) ago (the 5 minutes from ${latest.toISOString().slice(11, 16)} UTC)`;
  return minutes <= HEARTBEAT_QUIET_MINUTES
    ? ok(name, `ok: ${at}`)
    : fail(name, `${at}, over the alarm's ${HEARTBEAT_QUIET_MINUTES} minutes: ${fix}`);
}

const ALARMED_PAIR = new RegExp(`^(?:${DISCOVERED})?(\\d{12})-([a-z0-9-]+)$`);

/**
 * The other accounts and Regions whose heartbeat the stack watches: the pairs its heartbeat alarms
 * name (`<stack>-heartbeat-[discovered-]<account>-<Region>`: listed in the config, or kept by the
 * sweep function for every member account), and the pairs that beat in the last 3 hours (an
 * account with a canary but no alarm yet). Every page of both.
 */
export async function heartbeatPairs(
  cloudWatch: CloudWatchClient,
  stackName: string,
): Promise<HeartbeatPair[]> {
  const pairs = new Map<string, HeartbeatPair>();
  const add = (account: string | undefined, region: string | undefined) => {
    if (account && region) pairs.set(`${account} ${region}`, { account, region });
  };
  const base = `${stackName}-${HEARTBEAT_ALARM_INFIX}`;
  let token: string | undefined;
  do {
    const out = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: base, AlarmTypes: ["MetricAlarm"], NextToken: token }),
    );
    for (const alarm of out.MetricAlarms ?? []) {
      const match = ALARMED_PAIR.exec(alarm.AlarmName?.slice(base.length) ?? "");
      add(match?.[1], match?.[2]);
    }
    token = out.NextToken;
  } while (token);
  do {
    const out = await cloudWatch.send(
      new ListMetricsCommand({
        Namespace: HEARTBEAT.namespace,
        MetricName: HEARTBEAT.metric,
        RecentlyActive: "PT3H",
        NextToken: token,
      }),
    );
    for (const metric of out.Metrics ?? []) {
      const value = (n: string) => metric.Dimensions?.find((d) => d.Name === n)?.Value;
      add(value("account"), value("region"));
    }
    token = out.NextToken;
  } while (token);
  return [...pairs.values()].sort((a, b) =>
    `${a.account} ${a.region}`.localeCompare(`${b.account} ${b.region}`),
  );
}

/**
 * The heartbeat of the stack's own account and Region (`heartbeat`), then of every other pair
 * it watches (`heartbeat <account> <Region>`), read a few at a time.
 */
async function checkHeartbeats(
  cloudWatch: CloudWatchClient,
  stackName: string,
  account: string | undefined,
  region: string,
): Promise<Check[]> {
  const checks = [await checkHeartbeat(cloudWatch, account, region)];
  let others: HeartbeatPair[];
  try {
    others = (await heartbeatPairs(cloudWatch, stackName)).filter(
      (p) => p.account !== account || p.region !== region,
    );
  } catch (error) {
    throwIfCredentials(error);
    return [
      ...checks,
      fail(
        "heartbeat pairs",
        `cannot list the accounts and Regions the heartbeat watches (${describeError(error)}): doctor needs cloudwatch:DescribeAlarms and cloudwatch:ListMetrics`,
      ),
    ];
  }
  for (let i = 0; i < others.length; i += HEARTBEAT_READS_AT_ONCE) {
    const batch = others.slice(i, i + HEARTBEAT_READS_AT_ONCE);
    checks.push(
      ...(await Promise.all(
        batch.map((p) =>
          checkHeartbeat(cloudWatch, p.account, p.region, new Date(), `heartbeat ${p.account} ${p.region}`),
        ),
      )),
    );
  }
  return checks;
}

/** Every check of the stack in its Region. */
async function checkStack(clients: DoctorClients, stackName: string, region: string): Promise<Check[]> {
  const checks: Check[] = [];
  let outputs: Output[] = [];
  let account: string | undefined;
  try {
    const stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName })))
      .Stacks?.[0];
    outputs = stack?.Outputs ?? [];
    account = stack?.StackId ? parseArn(stack.StackId)?.account : undefined;
    checks.push(ok("stack", `ok: ${stackName} is ${stack?.StackStatus ?? "present"} in ${region}`));
  } catch (error) {
    throwIfCredentials(error);
    checks.push(
      fail(
        "stack",
        `${stackName} not found in ${region} (${describeError(error)}): deploy it (npm run deploy) or pass --stack-name/--region`,
      ),
    );
  }
  let rules: StackRule[] = [];
  try {
    rules = await stackRules(clients.events, stackName);
  } catch (error) {
    throwIfCredentials(error);
    checks.push(fail("rules", `cannot list the rules (${describeError(error)})`));
  }
  for (const incident of INCIDENTS) {
    const rule = rules.find((r) => r.incident === incident.name);
    const label = incident.name;
    if (!rule) {
      checks.push(
        fail(`rule ${label}`, `no rule of ${stackName} for ${label}: deploy the stack (npm run deploy)`),
      );
      continue;
    }
    checks.push(
      ENABLED_STATES.has(rule.state ?? "")
        ? ok(`rule ${label}`, `ok: ${rule.name} ${rule.state}`)
        : fail(
            `rule ${label}`,
            `${rule.name} is ${rule.state ?? "in an unknown state"}: nothing is responded to (aws events enable-rule --name ${rule.name}, unless ${label} is off in the config)`,
          ),
    );
    const target = rule.targets.find((t) => t.Arn?.includes(":lambda:"));
    if (!target?.Arn) {
      checks.push(fail(`function ${label}`, `${rule.name} has no function target: redeploy the stack`));
      continue;
    }
    checks.push(...(await checkFunction(clients, label, target.Arn, target.DeadLetterConfig?.Arn)));
  }
  const runbook = output(outputs, "RunbookFunctionName") ?? `${stackName}-runbook`;
  try {
    await clients.lambda.send(new GetFunctionCommand({ FunctionName: runbook }));
    checks.push(ok("function runbook", `ok: ${runbook} present`));
  } catch (error) {
    throwIfCredentials(error);
    checks.push(fail("function runbook", `${runbook} is missing or unreadable (${describeError(error)})`));
  }
  checks.push(...(await checkTopic(clients.sns, output(outputs, "NotificationTopicArn"))));
  checks.push(await checkKey(clients.kms, output(outputs, "NotificationKeyArn")));
  checks.push(...(await checkHeartbeats(clients.cloudWatch, stackName, account, region)));
  return checks;
}

/** Runs every check: the trails of each Region, then the stack in the first Region. */
export async function runDoctor(
  regions: readonly string[],
  stackName: string,
  clientsOf: (region: string) => DoctorClients,
): Promise<Check[]> {
  const checks: Check[] = [];
  for (const region of regions) checks.push(await checkTrails(region, clientsOf));
  const home = regions[0];
  if (home) checks.push(...(await checkStack(clientsOf(home), stackName, home)));
  return checks;
}

/** The `doctor` command: exit 0 when every check passes, 1 when one fails, 2 on bad usage. */
export async function doctorCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      region: { type: "string", multiple: true },
      "stack-name": { type: "string", default: DEFAULT_STACK },
      json: { type: "boolean", default: false },
      profile: AWS_OPTIONS.profile,
      "endpoint-url": AWS_OPTIONS["endpoint-url"],
    },
  });
  if (positionals.length) throw new UsageError(`doctor takes no arguments (got ${positionals.join(" ")})`);
  const flagProblems = applyAwsFlags({ profile: values.profile, "endpoint-url": values["endpoint-url"] });
  if (flagProblems.length) throw new UsageError(flagProblems.join("; "));
  const bad = (values.region ?? []).find((r) => !/^[a-z]{2}(-[a-z]+)+-\d$/.test(r));
  if (bad) throw new UsageError(`--region ${bad} is not a Region name (like eu-west-1)`);
  let regions = values.region ?? [];
  if (regions.length === 0) {
    const configured = await configuredRegion();
    if (!configured) throw new UsageError("no Region configured: pass --region (or set AWS_REGION)");
    regions = [configured];
  }
  const cache = new Map<string, DoctorClients>();
  const clientsOf = (region: string): DoctorClients => {
    let c = cache.get(region);
    if (!c) {
      c = defaultDoctorClients(region);
      cache.set(region, c);
    }
    return c;
  };
  const checks = await runDoctor([...new Set(regions)], values["stack-name"], clientsOf);
  if (values.json) for (const c of checks) io.out(JSON.stringify(c));
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks)
      io.out(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.message.replace(/^ok: /, "")}`);
    const failed = checks.filter((c) => !c.ok).length;
    io.out("");
    io.out(failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`);
  }
  return checks.some((c) => !c.ok) ? 1 : 0;
}
