/**
 * `kms-responder run ACTION ...`: a runbook action from the terminal. By default through the
 * stack's SSM Automation document for the action (`<stack>-<Action>`), so SSM records who ran it
 * (`ExecutedBy`) and the function reads that: the notification names the person. With
 * `--function-name` it invokes the deployed function directly, with `--direct` it acts with the
 * caller's own credentials; in both, who asked is only *stated* (`--stated-by`, else the caller's
 * STS identity, shown as "stated by").
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  GetAutomationExecutionCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { RUNBOOK_STEP, runbookDocumentName } from "../functions/runbook/documents.js";
import {
  parsePayload,
  RUNBOOK_ACTIONS,
  type RunbookPayload,
  type RunbookPayloadInput,
} from "../functions/runbook/payload.js";
import { type RunbookResult, runRunbook } from "../functions/runbook/run.js";
import { parseKeyArn } from "../functions/shared/arn.js";
import type { Config } from "../functions/shared/config.js";
import { ConfigError, describeError, PayloadError } from "../functions/shared/errors.js";
import { cloudTrailHistory } from "../functions/shared/history.js";
import { severityRank } from "../functions/shared/types.js";
import { throwIfCredentials } from "./aws.js";

export const DEFAULT_RUNBOOK_FUNCTION = "kms-responder-runbook";

export interface RunOptions {
  action: string;
  key: string | undefined;
  grant: string | undefined;
  grantee: string | undefined;
  reason: string | undefined;
  statedBy: string | undefined;
  ticket: string | undefined;
  dryRun: boolean;
  direct: boolean;
  /** How to reach the deployed runbook: its SSM document (default) or the function itself. */
  via?: "ssm" | "lambda";
  /** The stack whose documents `via: "ssm"` starts (default kms-responder). */
  stackName?: string;
  functionName: string;
  topicArn: string | undefined;
  json: boolean;
  config: Config;
}

/** The AWS clients `run` uses; tests pass mocked ones. */
export interface RunClients {
  lambda: LambdaClient;
  sts: STSClient;
  kms: KMSClient;
  sns: SNSClient;
  /** `--direct cancel-key-deletion` reads the key's history to restore its prior state. */
  cloudTrail: CloudTrailClient;
  /** Starts the stack's automation documents (the default way in). */
  ssm?: SSMClient;
  /** How long to wait between polls of an automation execution (ms). */
  pollMs?: number;
}

/**
 * The Region the SDK would use (AWS_REGION, the profile's), or undefined when none is configured.
 * Never throws: a missing Region is answered by the caller (the key ARN's Region).
 */
export async function configuredRegion(): Promise<string | undefined> {
  try {
    return await new STSClient({}).config.region();
  } catch {
    return undefined;
  }
}

/**
 * The clients of `run`. KMS and CloudTrail talk to the key's Region when its ARN names one (a key
 * lives in one Region); the rest to the configured Region, else the key's: `run` works without a
 * configured Region when the key is given as an ARN.
 */
export async function defaultRunClients(key?: string): Promise<RunClients> {
  const keyRegion = key ? parseKeyArn(key)?.region : undefined;
  const configured = await configuredRegion();
  const home = configured ?? keyRegion;
  const at = home ? { region: home } : {};
  const keyAt = keyRegion ? { region: keyRegion } : at;
  return {
    lambda: new LambdaClient(at),
    sts: new STSClient(at),
    kms: new KMSClient({ maxAttempts: 6, ...keyAt }),
    sns: new SNSClient(at),
    cloudTrail: new CloudTrailClient(keyAt),
    ssm: new SSMClient(at),
  };
}

/** Payload field -> the flag that sets it, so errors name what the user typed. */
const FLAGS: Record<string, string> = {
  action: "ACTION",
  keyId: "--key",
  grantId: "--grant",
  granteePrincipal: "--grantee",
  reason: "--reason",
  statedBy: "--stated-by",
  ticket: "--ticket",
};

function withFlags(message: string): string {
  return message.replace(
    /\b(action|keyId|grantId|granteePrincipal|reason|statedBy|ticket):/g,
    (_m, field: string) => `${FLAGS[field] ?? field} (${field}):`,
  );
}

/** The caller's STS identity, to state as who asked (not a proof: the runbook shows it as stated). */
async function callerIdentity(sts: STSClient): Promise<string> {
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (out.Arn) return out.Arn;
  } catch (error) {
    // Without credentials nothing else would work either: say that, not "pass --stated-by".
    throwIfCredentials(error);
    throw new ConfigError(
      `cannot tell who you are (STS GetCallerIdentity: ${describeError(error)}); pass --stated-by`,
    );
  }
  throw new ConfigError("STS GetCallerIdentity returned no ARN; pass --stated-by");
}

/**
 * Invokes the deployed function. It fails the invocation when an action or the notification
 * failed (after notifying), so a function error is a failed request, named with its message.
 */
async function invoke(lambda: LambdaClient, functionName: string, payload: unknown): Promise<RunbookResult> {
  let out: InvokeCommandOutput;
  try {
    out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === "ResourceNotFoundException") {
      const region = await lambda.config.region().catch(() => "the configured Region");
      throw new ConfigError(
        `the runbook function ${functionName} was not found in ${region}: pass --function-name (the stack's RunbookFunctionName output), deploy the stack there, or act with your own credentials with --direct`,
      );
    }
    throw error;
  }
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : "";
  if (out.FunctionError) {
    let message = text;
    try {
      const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      message = `${parsed.errorType ?? "Error"}: ${parsed.errorMessage ?? text}`;
      if (parsed.errorType === "PayloadError") throw new PayloadError(parsed.errorMessage ?? text);
    } catch (error) {
      if (error instanceof PayloadError) throw error;
      // Not JSON: the raw text is the message.
    }
    throw new Error(`the runbook function ${functionName} failed: ${message}`);
  }
  return JSON.parse(text) as RunbookResult;
}

/** The document's parameters for a payload (values are string lists, as SSM takes them). */
export function documentParameters(payload: RunbookPayload): Record<string, string[]> {
  const parameters: Record<string, string[]> = { KeyId: [payload.keyId], Reason: [payload.reason] };
  if (payload.grantId) parameters.GrantId = [payload.grantId];
  if (payload.granteePrincipal) parameters.GranteePrincipal = [payload.granteePrincipal];
  if (payload.ticket) parameters.Ticket = [payload.ticket];
  if (payload.statedBy) parameters.StatedBy = [payload.statedBy];
  if (payload.action !== "analyze-key-policy") parameters.DryRun = [String(payload.dryRun)];
  return parameters;
}

const DONE = new Set(["Success", "Failed", "TimedOut", "Cancelled", "CompletedWithFailure"]);
/** At most this long for one request (the step itself times out after 120 s). */
const AUTOMATION_DEADLINE_MS = 5 * 60_000;

/**
 * Starts the action's automation document and waits for it. SSM records who started it; the
 * function reads that and names the person in the notification. A failed execution (the
 * function failed the request after notifying) is a failed request, named with SSM's reason.
 */
async function automate(
  ssm: SSMClient,
  stackName: string,
  payload: RunbookPayload,
  pollMs: number,
): Promise<RunbookResult> {
  const documentName = runbookDocumentName(stackName, payload.action);
  let executionId: string | undefined;
  try {
    executionId = (
      await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: documentName,
          Parameters: documentParameters(payload),
        }),
      )
    ).AutomationExecutionId;
  } catch (error) {
    if (error instanceof Error && /AutomationDefinitionNotFound|InvalidDocument/.test(error.name)) {
      throw new ConfigError(
        `the automation document ${documentName} was not found: pass --stack-name (the stack that made it), --function-name to invoke the runbook function, or act with your own credentials with --direct`,
      );
    }
    throw error;
  }
  if (!executionId) throw new Error(`SSM started ${documentName} but returned no execution id`);
  const deadline = Date.now() + AUTOMATION_DEADLINE_MS;
  for (;;) {
    const execution = (
      await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }))
    ).AutomationExecution;
    const status = execution?.AutomationExecutionStatus ?? "Pending";
    if (DONE.has(status)) {
      const output = execution?.Outputs?.[`${RUNBOOK_STEP}.Payload`]?.[0];
      if (status === "Success" && output) return JSON.parse(output) as RunbookResult;
      throw new Error(
        `the automation ${executionId} (${documentName}) ended ${status}: ${execution?.FailureMessage ?? "no reason given"}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the automation ${executionId} (${documentName}) is still ${status}: see it in Systems Manager`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function formatResult(result: RunbookResult): string[] {
  const lines = [
    `${result.action}${result.dryRun ? " (dry run)" : ""} on ${result.key.arn ?? result.key.ref}: ${result.outcome.toUpperCase()} (severity ${result.severity})`,
  ];
  const why = `${result.reason}${result.ticket ? ` [${result.ticket}]` : ""}`;
  if (result.executedBy) lines.push(`  executed by ${result.executedBy} (SSM Automation)`);
  lines.push(result.statedBy ? `  stated by ${result.statedBy}: ${why}` : `  reason: ${why}`);
  if (result.key.stateBefore || result.key.stateAfter) {
    lines.push(
      `  key state: ${result.key.stateBefore ?? "?"} -> ${result.key.stateAfter ?? result.key.stateBefore ?? "?"}`,
    );
  }
  for (const a of result.actions) lines.push(`  - ${a.type} ${a.target}: ${a.status} (${a.detail})`);
  if (result.findings?.length) {
    for (const f of result.findings) lines.push(`  * [${f.severity}] ${f.reason}: ${f.explanation}`);
  } else {
    for (const d of result.details) lines.push(`  . ${d}`);
  }
  if (result.notificationId) lines.push(`  notification: ${result.notificationId}`);
  if (result.error) lines.push(`  FAILED: ${result.error}`);
  return lines;
}

/**
 * Whether the command fails: the request failed (an action or the notification), or a read-only
 * analysis found something high or critical (as `analyze-policy` exits 1 on such a finding).
 */
export function failed(result: RunbookResult): boolean {
  if (result.error !== undefined || result.outcome === "failed") return true;
  return result.action === "analyze-key-policy" && severityRank(result.severity) <= severityRank("high");
}

/** Runs the command; returns the exit code (1 when the request failed, see `failed`). */
export async function runCommand(
  options: RunOptions,
  out: (line: string) => void,
  clients: RunClients,
): Promise<number> {
  if (!(RUNBOOK_ACTIONS as readonly string[]).includes(options.action)) {
    throw new PayloadError(`unknown action "${options.action}": one of ${RUNBOOK_ACTIONS.join(", ")}`);
  }
  // Validate everything the user typed before asking STS anything.
  const draft: Record<string, unknown> = {
    action: options.action,
    keyId: options.key,
    grantId: options.grant,
    granteePrincipal: options.grantee,
    dryRun: options.dryRun,
    reason: options.reason,
    statedBy: options.statedBy,
    ticket: options.ticket,
  };
  const defined = Object.fromEntries(
    Object.entries(draft).filter(([, v]) => v !== undefined),
  ) as RunbookPayloadInput;
  try {
    parsePayload(defined);
  } catch (error) {
    throw new PayloadError(withFlags(error instanceof Error ? error.message : String(error)));
  }
  const payload = parsePayload({
    ...defined,
    statedBy: options.statedBy ?? (await callerIdentity(clients.sts)),
  });

  let result: RunbookResult;
  if (options.direct) {
    // No executedBy: nothing outside SSM proves who runs this; the payload's statedBy says who claims to.
    ({ result } = await runRunbook(payload, {
      kms: clients.kms,
      sns: clients.sns,
      config: options.config,
      topicArn: options.topicArn,
      history: cloudTrailHistory(clients.cloudTrail),
    }));
  } else if (options.via === "ssm") {
    const ssm = clients.ssm ?? new SSMClient({});
    result = await automate(ssm, options.stackName ?? "kms-responder", payload, clients.pollMs ?? 2_000);
  } else {
    result = await invoke(clients.lambda, options.functionName, payload);
  }
  if (options.json) out(JSON.stringify(result, null, 2));
  else for (const line of formatResult(result)) out(line);
  if (options.direct && !options.topicArn && !options.json) {
    out(
      "  (no notification: pass --topic-arn or set NOTIFICATION_TOPIC_ARN to notify the responders' topic)",
    );
  }
  return failed(result) ? 1 : 0;
}
