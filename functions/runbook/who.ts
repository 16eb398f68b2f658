/**
 * Who ran a runbook request: the identity SSM Automation recorded for the execution
 * (`ExecutedBy`), read with the execution id the document passes. Free text in the payload is only
 * what the caller *states*. An execution of a document that is not one of this stack's runbook
 * documents proves nothing (a direct caller could pass someone else's execution id).
 */
import type { AutomationExecution, SSMClient } from "@aws-sdk/client-ssm";
import { describeError } from "../shared/errors.js";
import { RUNBOOK_DOCUMENT_SUFFIX } from "./documents.js";
import type { RunbookAction } from "./payload.js";

/** What the request asks, to bind the execution to: its action and parameters. */
export interface BoundRequest {
  action: RunbookAction;
  keyId: string;
  grantId?: string | undefined;
  granteePrincipal?: string | undefined;
}

/** An execution is running while it invokes the function; a finished one proves nothing now. */
const RUNNING = new Set(["InProgress", "Pending", "Waiting"]);

/** Why the execution does not prove this request, or undefined when it does. */
function mismatch(execution: AutomationExecution, request: BoundRequest | undefined): string | undefined {
  const status = execution.AutomationExecutionStatus ?? "unknown";
  if (!RUNNING.has(status)) return `is ${status}, not running`;
  if (request === undefined) return undefined;
  const document = execution.DocumentName ?? "";
  if (!document.endsWith(`-${RUNBOOK_DOCUMENT_SUFFIX[request.action]}`)) {
    return `ran ${document || "an unknown document"}, not the document of ${request.action}`;
  }
  const given = execution.Parameters ?? {};
  const expected: Array<[string, string | undefined]> = [
    ["KeyId", request.keyId],
    ["GrantId", request.grantId],
    ["GranteePrincipal", request.granteePrincipal],
  ];
  for (const [name, value] of expected) {
    if (value === undefined) continue;
    const passed = given[name];
    if (passed?.length !== 1 || passed[0] !== value) return `was started with another ${name}`;
  }
  return undefined;
}

export async function executedBy(
  ssm: SSMClient | undefined,
  executionId: string | undefined,
  documentPrefix: string | undefined,
  request?: BoundRequest,
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
    const wrong = execution ? mismatch(execution, request) : "could not be found";
    if (wrong !== undefined)
      return { note: `execution ${executionId} ${wrong}: it does not prove who asked` };
    return execution?.ExecutedBy
      ? { executedBy: execution.ExecutedBy }
      : { note: `execution ${executionId} names nobody` };
  } catch (error) {
    return { note: `who ran execution ${executionId} could not be read (${describeError(error)})` };
  }
}
