/** Lambda entry point: the shared pipeline with this incident's declaration. */
import { kms } from "../shared/clients/kms.js";
import { sns } from "../shared/clients/sns.js";
import { configFromEnv } from "../shared/config.js";
import { createHandler, responderFromEnv, topicFromEnv } from "../shared/pipeline.js";
import { exemptionTampered } from "./incident.js";

// Read and validated once per cold start: a bad config or missing topic fails the init loudly.
const topicArn = topicFromEnv();
export const handler = createHandler(exemptionTampered, {
  kms,
  sns,
  config: configFromEnv(),
  topicArn,
  responder: responderFromEnv(topicArn),
});
