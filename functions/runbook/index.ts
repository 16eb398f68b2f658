/**
 * Lambda entry point of the runbook function: validate the payload (a bad one throws a
 * PayloadError naming the field, and nothing happens), run the action, return the result.
 */
import { clients } from "../shared/clients.js";
import { configFromEnv } from "../shared/config.js";
import { logger } from "../shared/logger.js";
import { topicFromEnv } from "../shared/respond.js";
import { parsePayload } from "./payload.js";
import { type RunbookResult, runRunbook } from "./run.js";

const config = configFromEnv();
const topicArn = topicFromEnv();

export async function handler(event: unknown): Promise<RunbookResult> {
  logger.resetKeys();
  const payload = parsePayload(event);
  logger.appendKeys({ action: payload.action, keyId: payload.keyId, requestedBy: payload.requestedBy });
  const result = await runRunbook(payload, { ...clients, config, topicArn });
  logger.info("runbook action done", { status: result.status, actions: result.actions });
  return result;
}
