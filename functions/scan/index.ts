/**
 * Lambda entry point of the scheduled sweep. Single account: the schedule's event sweeps this
 * account and Region. Organisation: the state machine calls it three ways: `items` (list the
 * (account, Region) pairs into the bucket), `sweep` (one pair, through the member role), and
 * `summary` (add up the Map's results and notify once); and a schedule of its own calls
 * `heartbeat-alarms` (an alarm on every member account's heartbeat, heartbeat.ts).
 */
import type { Context } from "aws-lambda";
import { INCIDENTS } from "../registry.js";
import { partitionOfRegion } from "../shared/arn.js";
import { kms } from "../shared/clients/kms.js";
import { KMSClient } from "../shared/clients/kms-sdk.js";
import { sns } from "../shared/clients/sns.js";
import { configFromEnv } from "../shared/config.js";
import { ConfigError, PayloadError } from "../shared/errors.js";
import type { MemberCredentials } from "../shared/history-reader.js";
import { logger } from "../shared/logger.js";
import { chatTopicFromEnv, responderFromEnv, topicFromEnv } from "../shared/pipeline.js";
import { requestBudget } from "./budget.js";
import type { Reader } from "./read.js";
import type { ScanTarget } from "./scan.js";
import { type SweepDeps, sweep } from "./sweep.js";

// The sweep carries every incident (it judges them all): it checks the whole config strictly.
const config = configFromEnv(process.env, INCIDENTS);
const topicArn = topicFromEnv();
const responder = responderFromEnv(topicArn);
const bucket = process.env.SCAN_BUCKET ?? "";
if (!bucket) throw new ConfigError("SCAN_BUCKET must name the sweep's bucket");

const deps: SweepDeps = {
  kms,
  sns,
  config,
  topicArn,
  chatTopicArn: chatTopicFromEnv(),
  responder,
  bucket,
  resolve: async (gone, d, now) => (await import("./resolve.js")).resolveGone(gone, d, now),
};

/**
 * The sweep's reads retry in the SDK's adaptive mode: it slows its own sending rate when KMS
 * throttles (the account's workloads share the quotas), beyond the standard mode's backoff.
 */
const SWEEP_RETRY = { maxAttempts: 10, retryMode: "adaptive" } as const;

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/** An organisation item, checked: the payload names where to act, so it is not believed blindly. */
function itemOf(event: Record<string, unknown>): ScanTarget {
  const { account, region } = event;
  if (typeof account !== "string" || !ACCOUNT.test(account))
    throw new PayloadError("account must be a 12-digit account id");
  if (typeof region !== "string" || !REGION.test(region))
    throw new PayloadError("region must be a Region name");
  if (!config.organization?.regions.includes(region))
    throw new PayloadError(`region ${region} is not one of the organisation's Regions`);
  return { account, region };
}

/** The member role's access for the sweep (no session policy: the member role's own scope). */
function memberAccess(target: ScanTarget, roleName: string) {
  const key = { ...target, arn: "", id: "", partition: partitionOfRegion(target.region) };
  return { key, access: { partition: key.partition, roleName, incident: "scan", eventId: undefined } };
}

/**
 * Who set a tag, from the pair's CloudTrail history: the CloudTrail client (a member's through
 * the member role's credentials) is made on the first question, as few keys ever ask.
 */
function tagSetterFor(target: ScanTarget, memberRole: string | undefined): Reader["tagSetter"] {
  let read: Reader["tagSetter"];
  return async (keyArn, tagKey) => {
    if (!read) {
      const { tagSetterReader } = await import("./exemption-origin.js");
      let credentials: MemberCredentials | undefined;
      if (memberRole) {
        const { memberCredentials } = await import("../shared/clients/member.js");
        const { key, access } = memberAccess(target, memberRole);
        credentials = await memberCredentials(key, access);
      }
      read = tagSetterReader(target.region, credentials);
    }
    return read(keyArn, tagKey);
  };
}

/** The reader of a pair: this account's client, or the member role's in another account. */
async function readerFor(target: ScanTarget): Promise<Reader> {
  const budget = requestBudget();
  const org = config.organization;
  if (!org || target.account === responder.account) {
    return {
      kms: new KMSClient({ ...SWEEP_RETRY, region: target.region }),
      budget,
      tagSetter: tagSetterFor(target, undefined),
    };
  }
  const { memberKms } = await import("../shared/clients/member.js");
  const { key, access } = memberAccess(target, org.memberRoleName);
  const client = await memberKms(key, access, (c) => new KMSClient({ ...c, ...SWEEP_RETRY }));
  return { kms: client, budget, tagSetter: tagSetterFor(target, org.memberRoleName) };
}

export async function handler(raw: unknown, context?: Context): Promise<unknown> {
  logger.resetKeys();
  if (context) logger.addContext(context);
  const event = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const action = event.action;
  if (action === "items") {
    const { organizationItems, writeItems, s3 } = await import("./organization.js");
    const items = await organizationItems(config);
    await writeItems(s3, bucket, items);
    return { items: items.length };
  }
  if (action === "summary") {
    const details = event.ResultWriterDetails as { Key?: unknown } | undefined;
    if (typeof details?.Key !== "string") throw new PayloadError("summary needs ResultWriterDetails.Key");
    const { publishSummary, summarise, s3 } = await import("./organization.js");
    const sum = await summarise(s3, bucket, details.Key);
    await publishSummary(sns, topicArn, sum);
    return sum;
  }
  if (action === "heartbeat-alarms") {
    const { account, region } = responder;
    if (!account || !region) throw new ConfigError("the function's account and Region are unknown");
    const { maintainHeartbeatAlarms } = await import("./heartbeat.js");
    return maintainHeartbeatAlarms({ config, sns, topicArn, home: { account, region } });
  }
  if (action === "sweep") {
    const target = itemOf(event);
    logger.appendKeys({ account: target.account, region: target.region });
    return sweep(target, await readerFor(target), deps);
  }
  // The schedule (single account): this account and Region.
  const { account, region } = responder;
  if (!account || !region) throw new ConfigError("the function's account and Region are unknown");
  return sweep({ account, region }, await readerFor({ account, region }), deps);
}
