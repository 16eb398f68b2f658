/**
 * The SSM client at module scope, used by the runbook only (who ran an automation execution),
 * loaded on demand with the one call made through it.
 */
import { type AutomationExecution, GetAutomationExecutionCommand, SSMClient } from "@aws-sdk/client-ssm";
import { RETRY } from "./retry.js";

export const ssm = new SSMClient(RETRY);

/** The execution as SSM Automation recorded it; `client` for tests. Throws what SSM throws. */
export async function automationExecution(
  executionId: string,
  client: SSMClient = ssm,
): Promise<AutomationExecution | undefined> {
  const out = await client.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }));
  return out.AutomationExecution;
}
