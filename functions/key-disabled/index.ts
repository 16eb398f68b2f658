/** Lambda entry point for the key-disabled incident: the shared pipeline with this incident's decide. */
import { clients } from "../shared/clients.js";
import { configFromEnv } from "../shared/config.js";
import { createHandler, topicFromEnv } from "../shared/respond.js";
import { decide, INCIDENT } from "./decide.js";

// Read and validated once per cold start: a bad config or missing topic fails the init loudly.
export const handler = createHandler(
  { INCIDENT, decide, needsKeyFacts: true },
  { clients, config: configFromEnv(), topicArn: topicFromEnv() },
);
