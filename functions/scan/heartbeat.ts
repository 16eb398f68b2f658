/**
 * An alarm on every member account's heartbeat, kept by the sweep function on a schedule of its own
 * (organisation mode). The member template gives every account under the configured units a canary
 * in every configured Region, including accounts that join after the deploy; the stack's template
 * holds an alarm only for the accounts `organization.heartbeatAccounts` lists. This fills the gap:
 *
 *   Organizations (every active account under the units, every page) x the configured Regions
 *     - the management account (a service-managed StackSet never deploys there: no canary)
 *     - the stack's own account in its own Region (the stack's own alarm)
 *     - the pairs that already have an alarm, listed or discovered (DescribeAlarms by name prefix)
 *   -> PutMetricAlarm `<stack>-heartbeat-discovered-<account>-<Region>` for each pair left:
 *      `Heartbeat` by account and Region, 2 x 15 minutes, missing data breaching, the topic as action
 *   and DeleteAlarms for a discovered alarm whose account left (or was suspended, or its Region is
 *   no longer configured), or which a listed alarm now duplicates.
 *
 * Why alarms rather than a function that looks for quiet accounts: an alarm is evaluated by
 * CloudWatch whether or not this function runs, so a broken or silenced function delays only the
 * coverage of a new account, never the alarm of a covered one; and an account that never beat
 * (its member stack failed to deploy) alarms like one that stopped.
 *
 * The function changes only the alarms whose names carry `discovered-` (its role allows no other);
 * they are not the stack's resources, so deleting the stack leaves them (docs/organization.md says
 * how to remove them). Failure policy: a pair whose alarm cannot be written or deleted does not
 * stop the others; the run then fails, naming them, so the function's error alarm shows it and the
 * next run tries again.
 */
import {
  CloudWatchClient,
  ComparisonOperator,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  Statistic,
} from "@aws-sdk/client-cloudwatch";
import { DescribeOrganizationCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SNSClient } from "@aws-sdk/client-sns";
import { RETRY } from "../shared/clients/retry.js";
import { PublishCommand } from "../shared/clients/sns-sdk.js";
import type { Config } from "../shared/config.js";
import { describeError } from "../shared/errors.js";
import {
  DISCOVERED,
  HEARTBEAT_ALARM_INFIX,
  HEARTBEAT_EVALUATION_PERIODS,
  HEARTBEAT_METRIC,
  HEARTBEAT_PERIOD_MINUTES,
  heartbeatAlarmName,
  memberQuietDescription,
} from "../shared/heartbeat.js";
import { METRICS_NAMESPACE } from "../shared/metrics.js";
import { organizationItems } from "./organization.js";
import type { ScanTarget } from "./scan.js";

export interface HeartbeatAlarmDeps {
  config: Config;
  sns: SNSClient;
  topicArn: string;
  /** The stack's own account and Region: the stack's own alarm covers that pair. */
  home: ScanTarget;
  cloudwatch?: CloudWatchClient;
  organizations?: OrganizationsClient;
  /** The most alarms one run puts (default MAX_PUTS_PER_RUN); the rest are the next runs'. */
  maxPuts?: number;
}

export interface HeartbeatAlarmsResult {
  /** Pairs with an alarm after the run (listed or discovered). */
  watched: number;
  created: string[];
  deleted: string[];
  /** Pairs still without an alarm, left to the next runs (the per-run bound). */
  pending: number;
}

/** DeleteAlarms takes at most 100 names a call. */
const DELETE_BATCH = 100;
/**
 * The most alarms one run puts. PutMetricAlarm has a low request quota per account and Region
 * (a few a second): a first run in a large organisation puts this many and the hourly runs after
 * it the rest, well inside the function's 15 minutes even when throttled.
 */
export const MAX_PUTS_PER_RUN = 300;
/** CloudWatch's writes retry in adaptive mode: the client slows itself down when throttled. */
const CLOUDWATCH_RETRY = { maxAttempts: 10, retryMode: "adaptive" } as const;

const pairKey = (p: ScanTarget) => `${p.account} ${p.region}`;

/** The alarms there are, by pair: listed (the stack's) and discovered (this function's), by name. */
async function existingAlarms(
  cloudwatch: CloudWatchClient,
  prefix: string,
): Promise<{ listed: Set<string>; discovered: Map<string, string> }> {
  const base = `${prefix}${HEARTBEAT_ALARM_INFIX}`;
  const name = new RegExp(`^(${DISCOVERED})?(\\d{12})-([a-z0-9-]+)$`);
  const listed = new Set<string>();
  const discovered = new Map<string, string>();
  let token: string | undefined;
  do {
    const out = await cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: base, AlarmTypes: ["MetricAlarm"], NextToken: token }),
    );
    for (const alarm of out.MetricAlarms ?? []) {
      const match = name.exec(alarm.AlarmName?.slice(base.length) ?? "");
      if (!match?.[2] || !match[3] || !alarm.AlarmName) continue;
      const key = pairKey({ account: match[2], region: match[3] });
      if (match[1]) discovered.set(key, alarm.AlarmName);
      else listed.add(key);
    }
    token = out.NextToken;
  } while (token);
  return { listed, discovered };
}

/** The pairs that should have an alarm: every active account's, but the management account's and the stack's own pair. */
async function wantedPairs(
  deps: HeartbeatAlarmDeps,
  organizations: OrganizationsClient,
): Promise<ScanTarget[]> {
  const items = await organizationItems(deps.config, organizations);
  const org = await organizations.send(new DescribeOrganizationCommand({}));
  const management = org.Organization?.MasterAccountId;
  return items.filter((p) => p.account !== management && pairKey(p) !== pairKey(deps.home));
}

function putAlarm(cloudwatch: CloudWatchClient, prefix: string, topicArn: string, pair: ScanTarget) {
  return cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: heartbeatAlarmName(prefix, pair.account, pair.region, true),
      AlarmDescription: memberQuietDescription(pair.account, pair.region),
      Namespace: METRICS_NAMESPACE,
      MetricName: HEARTBEAT_METRIC,
      Dimensions: [
        { Name: "account", Value: pair.account },
        { Name: "region", Value: pair.region },
      ],
      Statistic: Statistic.Sum,
      Period: HEARTBEAT_PERIOD_MINUTES * 60,
      EvaluationPeriods: HEARTBEAT_EVALUATION_PERIODS,
      Threshold: 1,
      ComparisonOperator: ComparisonOperator.LessThanThreshold,
      TreatMissingData: "breaching",
      AlarmActions: [topicArn],
    }),
  );
}

/** The notification of a change in what is watched (info): which pairs gained or lost an alarm. */
async function publishChange(deps: HeartbeatAlarmDeps, result: HeartbeatAlarmsResult, failures: string[]) {
  const lines = [
    ...(result.created.length
      ? [
          `Heartbeat alarms added for ${result.created.length} member account-Region pair(s) under the organisation's units that had none (missing data breaching: a pair whose canary never beat alarms within 30 minutes):`,
          ...result.created.map((p) => `  ${p}`),
        ]
      : []),
    ...(result.deleted.length
      ? [
          `Heartbeat alarms removed for ${result.deleted.length} pair(s) no longer in the organisation's units or Regions, or now listed in organization.heartbeatAccounts:`,
          ...result.deleted.map((p) => `  ${p}`),
        ]
      : []),
    ...(result.pending
      ? [
          "",
          `${result.pending} more pair(s) without an alarm get theirs in the next hourly runs (at most ${MAX_PUTS_PER_RUN} a run).`,
        ]
      : []),
    ...(failures.length
      ? ["", "Could not be changed (the next run tries again):", ...failures.map((f) => `  ${f}`)]
      : []),
    "",
    `${result.watched} member account-Region pairs have a heartbeat alarm.`,
  ];
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: `kms-responder heartbeat: ${result.created.length} pair(s) now watched, ${result.deleted.length} no longer`,
      Message: lines.join("\n"),
      MessageAttributes: {
        severity: { DataType: "String", StringValue: failures.length ? "medium" : "info" },
        incident: { DataType: "String", StringValue: "heartbeat" },
      },
    }),
  );
}

async function createMissing(
  cloudwatch: CloudWatchClient,
  deps: HeartbeatAlarmDeps,
  missing: readonly ScanTarget[],
  failures: string[],
): Promise<string[]> {
  const created: string[] = [];
  for (const pair of missing) {
    try {
      await putAlarm(cloudwatch, deps.config.resourcePrefix, deps.topicArn, pair);
      created.push(pairKey(pair));
    } catch (error) {
      failures.push(`${pairKey(pair)}: PutMetricAlarm failed (${describeError(error)})`);
    }
  }
  return created;
}

async function deleteStale(
  cloudwatch: CloudWatchClient,
  stale: ReadonlyArray<readonly [string, string]>,
  failures: string[],
): Promise<string[]> {
  const deleted: string[] = [];
  for (let i = 0; i < stale.length; i += DELETE_BATCH) {
    const batch = stale.slice(i, i + DELETE_BATCH);
    try {
      await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: batch.map(([, name]) => name) }));
      deleted.push(...batch.map(([key]) => key));
    } catch (error) {
      failures.push(`${batch.map(([key]) => key).join(", ")}: DeleteAlarms failed (${describeError(error)})`);
    }
  }
  return deleted;
}

/**
 * Puts an alarm on every member pair without one and removes the discovered alarms no pair needs.
 * Throws (after notifying what did change) when some pair could not be changed.
 */
export async function maintainHeartbeatAlarms(deps: HeartbeatAlarmDeps): Promise<HeartbeatAlarmsResult> {
  if (!deps.config.organization) throw new Error("the heartbeat alarms need organization in the config");
  const cloudwatch = deps.cloudwatch ?? new CloudWatchClient(CLOUDWATCH_RETRY);
  const organizations = deps.organizations ?? new OrganizationsClient(RETRY);
  const [wanted, existing] = await Promise.all([
    wantedPairs(deps, organizations),
    existingAlarms(cloudwatch, deps.config.resourcePrefix),
  ]);
  const wantedKeys = new Set(wanted.map(pairKey));
  const has = (key: string) => existing.listed.has(key) || existing.discovered.has(key);
  const missing = wanted.filter((p) => !has(pairKey(p)));
  const stale = [...existing.discovered].filter(([key]) => !wantedKeys.has(key) || existing.listed.has(key));

  const failures: string[] = [];
  const bounded = missing.slice(0, deps.maxPuts ?? MAX_PUTS_PER_RUN);
  const created = await createMissing(cloudwatch, deps, bounded, failures);
  const deleted = await deleteStale(cloudwatch, stale, failures);
  const watched = wanted.filter((p) => {
    const key = pairKey(p);
    return existing.listed.has(key) || existing.discovered.has(key) || created.includes(key);
  }).length;
  const result = { watched, created, deleted, pending: missing.length - created.length };
  if (created.length || deleted.length || failures.length) await publishChange(deps, result, failures);
  if (failures.length) throw new Error(`heartbeat alarms: ${failures.join("; ")}`);
  return result;
}
