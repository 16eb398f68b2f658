/**
 * Who ran a runbook request: the identity SSM Automation recorded for the execution
 * (`ExecutedBy`), read with the execution id the document passes. Free text in the payload is only
 * what the caller *states*. An execution of a document that is not one of this stack's runbook
 * documents proves nothing (a direct caller could pass someone else's execution id).
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import { describeError } from "../shared/errors.js";

export async function executedBy(
  ssm: SSMClient | undefined,
  executionId: string | undefined,
  documentPrefix: string | undefined,
): Promise<{ executedBy?: string; note?: string }> {
  if (!executionId) return { note: "not run through SSM Automation: who ran it is unknown" };
  try {
    // The SSM client is loaded only for requests that come through SSM Automation.
    const { automationExecution } = await import("../shared/clients/ssm.js");
    const execution = await automationExecution(executionId, ssm);
    const document = execution?.DocumentName ?? "";
    if (documentPrefix && !document.startsWith(documentPrefix)) {
      return {
        note: `execution ${executionId} ran ${document || "an unknown document"}, not a runbook document of this stack`,
      };
    }
    return execution?.ExecutedBy
      ? { executedBy: execution.ExecutedBy }
      : { note: `execution ${executionId} names nobody` };
  } catch (error) {
    return { note: `who ran execution ${executionId} could not be read (${describeError(error)})` };
  }
}
