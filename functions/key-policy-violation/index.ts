/** Lambda entry point for the key-policy-violation incident: the shared pipeline with the policy analyser. */
import { registerExecutor } from "../shared/actions.js";
import { clients } from "../shared/clients.js";
import { configFromEnv } from "../shared/config.js";
import { createHandler, topicFromEnv } from "../shared/respond.js";
import { decide, INCIDENT } from "./decide.js";
import { removeStatementsExecutor } from "./remove-statements.js";

// Read and validated once per cold start: a bad config or missing topic fails the init loudly.
const config = configFromEnv();
registerExecutor("remove-statements", removeStatementsExecutor(config));

export const handler = createHandler(
  { INCIDENT, decide, needsKeyFacts: true },
  { clients, config, topicArn: topicFromEnv() },
);
