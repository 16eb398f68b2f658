/**
 * An SSM Automation execution proves one runbook request. The ids used are claimed in the stack's
 * table (`RUNBOOK_EXECUTIONS_TABLE`) with a conditional write before anything is read or done, so
 * a second request with the same id is refused in every Lambda environment, not only in the one
 * that served the first. Without a table (a function deployed by hand, tests) the claim holds in
 * this environment only.
 */
import { describeError, PayloadError } from "../shared/errors.js";

/**
 * How long a claim is kept: longer than an execution can still be running (the approval documents
 * wait at most 7 days), after which the execution's own state proves nothing anyway.
 */
const KEEP_SECONDS = 30 * 24 * 3600;

/** Ids claimed in this environment, when there is no table. */
const claimedHere = new Set<string>();

/** What the claim says it was used for, kept in the table beside the id. */
export interface ClaimRequest {
  action: string;
  keyId: string;
}

/**
 * Claims `executionId` for this request, once.
 * @throws PayloadError when the id was used already, or when the claim cannot be written (the
 * request is refused rather than risk a second use): nothing has been done.
 */
export async function claimExecution(
  executionId: string,
  request: ClaimRequest,
  table: string | undefined = process.env.RUNBOOK_EXECUTIONS_TABLE,
  now = Date.now(),
): Promise<void> {
  const refused = (why: string) =>
    new PayloadError(
      `automationExecutionId: execution ${executionId} ${why}: request refused, nothing was done (start a new execution)`,
    );
  if (!table) {
    if (claimedHere.has(executionId)) throw refused("was already used for a runbook request");
    claimedHere.add(executionId);
    return;
  }
  let claimed: boolean;
  try {
    // The DynamoDB client is loaded only for requests that come through SSM Automation.
    const { claimOnce } = await import("../shared/clients/dynamodb.js");
    claimed = await claimOnce(table, {
      id: executionId,
      expiresAt: Math.floor(now / 1000) + KEEP_SECONDS,
      usedFor: `${request.action} ${request.keyId}`,
    });
  } catch (error) {
    throw refused(`could not be recorded as used (${describeError(error)})`);
  }
  if (!claimed) throw refused("was already used for a runbook request");
}
