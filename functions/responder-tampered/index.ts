/** Lambda entry point: the shared pipeline with this incident's declaration. */
import { kms } from "../shared/clients/kms.js";
import { sns } from "../shared/clients/sns.js";
import { configFromEnv } from "../shared/config.js";
import { createHandler, responderFromEnv, topicFromEnv } from "../shared/pipeline.js";
import { responderTampered } from "./incident.js";

// Read and validated once per cold start: a bad config or missing topic fails the init loudly.
const topicArn = topicFromEnv();
export const handler = createHandler(responderTampered, {
  kms,
  sns,
  config: configFromEnv(),
  topicArn,
  responder: responderFromEnv(topicArn),
  // Its repairs' clients (EventBridge, CloudTrail, Lambda) load only when a repair runs.
  repair: async (region) => (await import("../shared/clients/repair.js")).repairClients(region),
});
