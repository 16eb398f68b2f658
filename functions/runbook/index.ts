/**
 * Lambda entry point of the runbook function: validate the payload (a bad one throws a
 * PayloadError naming the field, and nothing happens), claim its SSM execution id (used once: a
 * reused one is refused the same way), learn who ran it from SSM, then read, plan,
 * act and notify through the shared pipeline. A failed action or notification fails the
 * invocation (after notifying), so the SSM execution shows the failure and the alarms fire.
 */
import type { Context } from "aws-lambda";
import { kms } from "../shared/clients/kms.js";
import { sns } from "../shared/clients/sns.js";
import { configFromEnv } from "../shared/config.js";
import { cloudTrailHistory } from "../shared/history.js";
import { logger } from "../shared/logger.js";
import { chatTopicFromEnv, responderFromEnv, topicFromEnv } from "../shared/pipeline.js";
import { claimExecution } from "./once.js";
import { parsePayload } from "./payload.js";
import { type RunbookResult, runRunbook } from "./run.js";
import { executedBy } from "./who.js";

const config = configFromEnv();
const topicArn = topicFromEnv();
const history = cloudTrailHistory();
/** The stack's runbook documents are named `<prefix>-...`; other executions prove nothing. */
const documentPrefix = process.env.RUNBOOK_DOCUMENT_PREFIX;

export async function handler(event: unknown, context?: Context): Promise<RunbookResult> {
  logger.resetKeys();
  if (context) logger.addContext(context);
  const payload = parsePayload(event);
  // An execution proves one request: a second request with its id is refused before anything is read.
  if (payload.automationExecutionId) {
    await claimExecution(payload.automationExecutionId, { action: payload.action, keyId: payload.keyId });
  }
  const who = await executedBy(undefined, payload.automationExecutionId, documentPrefix, {
    action: payload.action,
    keyId: payload.keyId,
    grantId: payload.grantId,
    granteePrincipal: payload.granteePrincipal,
  });
  logger.appendKeys({
    action: payload.action,
    keyId: payload.keyId,
    executedBy: who.executedBy,
    statedBy: payload.statedBy,
  });
  if (who.note) logger.warn("runbook caller unverified", { note: who.note });
  const { result, failure } = await runRunbook(
    payload,
    {
      kms,
      sns,
      config,
      topicArn,
      chatTopicArn: chatTopicFromEnv(),
      history,
      responder: responderFromEnv(topicArn),
    },
    who.executedBy ? { executedBy: who.executedBy } : {},
  );
  logger.info("runbook action done", { outcome: result.outcome, actions: result.actions });
  if (failure) throw failure;
  return result;
}
