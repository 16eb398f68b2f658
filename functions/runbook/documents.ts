/**
 * The SSM Automation documents of the runbook, as names: one per action, `<stack>-<Suffix>`, whose
 * one step invokes the runbook function and whose output is that step's `Payload` (the result).
 * The stack creates them (infra/runbook.ts); the CLI starts them, so a person's request carries
 * SSM's record of who ran it.
 */
import { ACTIONS } from "../shared/actions/index.js";
import { RUNBOOK_ACTIONS, type RunbookAction } from "./payload.js";

/** Each runbook action's document suffix, from its action module. */
export const RUNBOOK_DOCUMENT_SUFFIX: Readonly<Record<RunbookAction, string>> = Object.fromEntries(
  RUNBOOK_ACTIONS.map((a) => [a, ACTIONS[a].runbook.document]),
) as Record<RunbookAction, string>;

/** The step every document runs; the document's output is `<step>.Payload`. */
export const RUNBOOK_STEP = "InvokeRunbook";

/** The document of an action in a stack (`kms-responder-RevokeGrant`). */
export function runbookDocumentName(stackName: string, action: RunbookAction): string {
  return `${stackName}-${RUNBOOK_DOCUMENT_SUFFIX[action]}`;
}
