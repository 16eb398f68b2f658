/**
 * Approval mode (`incidents.<name>.mode: "approve"`): the responder verifies and decides as in
 * enforce, then, instead of acting, starts the approval variant of each action's runbook document
 * (`<stack>-Approved-<Action>`, infra/runbook.ts): an `aws:approve` step naming the configured
 * approvers, then the runbook's own step. On approval the runbook function acts through the
 * verified path, taking the running execution as its proof like any runbook execution (its
 * document ends like the action's own, it was started with this key and grant, and is used once).
 * Rejection and timeout end the execution; an EventBridge rule on its status change tells the topic.
 *
 * Loaded on demand (only approving functions need SSM), so it exchanges plain values only.
 */
import { type SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { RUNBOOK_DOCUMENT_SUFFIX } from "../runbook/documents.js";
import { RUNBOOK_ACTIONS, type RunbookAction } from "../runbook/payload.js";
import { type ActionResult, base } from "./actions/action.js";
import { ACTIONS } from "./actions/index.js";
import { ssm as defaultSsm } from "./clients/ssm.js";
import type { PlannedAction } from "./decision.js";
import { describeError } from "./errors.js";

/** `<stack>-Approved-`: what an approval document's name starts with (the stack sets it). */
export const APPROVAL_INFIX = "Approved-";

/** The approval variant of an action's document; it ends like the action's own (`-RevokeGrant`). */
export function approvalDocumentName(stackName: string, action: RunbookAction): string {
  return `${stackName}-${APPROVAL_INFIX}${RUNBOOK_DOCUMENT_SUFFIX[action]}`;
}

export interface ApprovalRequest {
  /** The stack's name: documents are `<stack>-Approved-<Action>`. */
  stackName: string;
  incident: string;
  eventId: string | undefined;
  /** ` --region eu-west-1` for the commands in the notification, or "". */
  region: string;
}

function isRunbookAction(type: string): type is RunbookAction {
  return (RUNBOOK_ACTIONS as readonly string[]).includes(type);
}

/** The document's parameters for this action: SSM checks them against the same patterns. */
function parametersOf(action: PlannedAction & { type: RunbookAction }, request: ApprovalRequest) {
  const parameters: Record<string, string[]> = {
    KeyId: [action.keyRef],
    Reason: [`approval of the ${request.incident} response to event ${request.eventId ?? "(none)"}`],
    StatedBy: [`kms-responder ${request.incident}`],
  };
  if (action.grantId) parameters.GrantId = [action.grantId];
  return parameters;
}

/** How an approver answers, as commands (the notification prints them). */
export function approvalCommands(executionId: string, region: string): string {
  const signal = (type: string) =>
    `aws ssm send-automation-signal --automation-execution-id ${executionId} --signal-type ${type}${region}`;
  return `approve: ${signal("Approve")}; reject: ${signal("Reject")}`;
}

async function requestOne(
  ssm: SSMClient,
  action: PlannedAction,
  request: ApprovalRequest,
): Promise<ActionResult> {
  if (action.hold) {
    const held: ActionResult = { ...base(action), status: action.hold.status, detail: action.hold.why };
    return action.hold.status === "failed" ? { ...held, error: action.hold.why } : held;
  }
  if (!isRunbookAction(action.type)) {
    return {
      ...base(action),
      status: "skipped",
      detail: `${action.type} has no approval document: not done`,
    };
  }
  if (ACTIONS[action.type].runbook.target === "GranteePrincipal") {
    // The document needs the grantee, which a planned action does not carry: ask for the grants one by one.
    return {
      ...base(action),
      status: "skipped",
      detail: `${action.type} cannot be requested for approval: not done`,
    };
  }
  const document = approvalDocumentName(request.stackName, action.type);
  try {
    const out = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: document,
        Parameters: parametersOf({ ...action, type: action.type }, request),
      }),
    );
    const id = out.AutomationExecutionId ?? "unknown";
    return {
      ...base(action),
      status: "pending-approval",
      detail: `approval requested (${document}, execution ${id}); ${approvalCommands(id, request.region)}`,
    };
  } catch (error) {
    return {
      ...base(action),
      status: "failed",
      detail: `approval request failed: ${describeError(error)}`,
      error: describeError(error),
    };
  }
}

/**
 * One approval request per planned action, in order; a held action keeps its hold, an action
 * without a runbook document is skipped (said so), a failed request is a failed action (the
 * invocation fails and Lambda retries it). Nothing is changed in KMS here.
 */
export async function requestApprovals(
  actions: readonly PlannedAction[],
  request: ApprovalRequest,
  client?: SSMClient,
): Promise<ActionResult[]> {
  const ssm = client ?? defaultSsm;
  const results: ActionResult[] = [];
  for (const action of actions) results.push(await requestOne(ssm, action, request));
  return results;
}
