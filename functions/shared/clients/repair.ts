/**
 * The clients that repair the responder's own resources (EventBridge rules, the trail, the
 * functions' concurrency), one set per Region, created on first use. Loaded on demand by the one
 * function that repairs (responder-tampered with `repair` on): no other bundle carries them.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { RepairClients } from "../actions/action.js";
import { RETRY } from "./retry.js";

const byRegion = new Map<string, RepairClients>();

/** The repair clients of a Region (undefined: the function's own Region). */
export async function repairClients(region: string | undefined): Promise<RepairClients> {
  const key = region ?? "";
  let clients = byRegion.get(key);
  if (!clients) {
    const at = region ? { ...RETRY, region } : RETRY;
    clients = {
      events: new EventBridgeClient(at),
      cloudTrail: new CloudTrailClient(at),
      lambda: new LambdaClient(at),
    };
    byRegion.set(key, clients);
  }
  return clients;
}
