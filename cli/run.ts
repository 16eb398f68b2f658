/**
 * `kms-responder run ACTION ...`: a runbook action from the terminal, through the deployed
 * runbook function (default) or directly with the caller's credentials (`--direct`).
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SNSClient } from "@aws-sdk/client-sns";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { parsePayload, RUNBOOK_ACTIONS, type RunbookPayloadInput } from "../runbook/payload.js";
import { type RunbookResult, runRunbook } from "../runbook/run.js";
import type { Config } from "../shared/config.js";
import { ConfigError, describeError, PayloadError } from "../shared/errors.js";

export const DEFAULT_RUNBOOK_FUNCTION = "kms-responder-runbook";

export interface RunOptions {
  action: string;
  key: string | undefined;
  grant: string | undefined;
  grantee: string | undefined;
  reason: string | undefined;
  requestedBy: string | undefined;
  ticket: string | undefined;
  dryRun: boolean;
  direct: boolean;
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
  cloudTrail: CloudTrailClient;
}

export function defaultRunClients(): RunClients {
  return {
    lambda: new LambdaClient({}),
    sts: new STSClient({}),
    kms: new KMSClient({ maxAttempts: 6 }),
    sns: new SNSClient({}),
    cloudTrail: new CloudTrailClient({}),
  };
}

/** Payload field -> the flag that sets it, so errors name what the user typed. */
const FLAGS: Record<string, string> = {
  action: "ACTION",
  keyId: "--key",
  grantId: "--grant",
  granteePrincipal: "--grantee",
  reason: "--reason",
  requestedBy: "--requested-by",
  ticket: "--ticket",
};

function withFlags(message: string): string {
  return message.replace(
    /\b(action|keyId|grantId|granteePrincipal|reason|requestedBy|ticket):/g,
    (_m, field: string) => `${FLAGS[field] ?? field} (${field}):`,
  );
}

async function callerIdentity(sts: STSClient): Promise<string> {
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (out.Arn) return out.Arn;
  } catch (error) {
    throw new ConfigError(
      `cannot tell who you are (STS GetCallerIdentity: ${describeError(error)}); pass --requested-by`,
    );
  }
  throw new ConfigError("STS GetCallerIdentity returned no ARN; pass --requested-by");
}

async function invoke(lambda: LambdaClient, functionName: string, payload: unknown): Promise<RunbookResult> {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
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

export function formatResult(result: RunbookResult): string[] {
  const lines = [
    `${result.action}${result.dryRun ? " (dry run)" : ""} on ${result.key.arn ?? result.key.ref}: ${result.status.toUpperCase()}`,
    `  requested by ${result.requestedBy}: ${result.reason}${result.ticket ? ` [${result.ticket}]` : ""}`,
  ];
  if (result.key.stateBefore || result.key.stateAfter) {
    lines.push(
      `  key state: ${result.key.stateBefore ?? "?"} -> ${result.key.stateAfter ?? result.key.stateBefore ?? "?"}`,
    );
  }
  for (const a of result.actions) lines.push(`  - ${a.type} ${a.target}: ${a.status} (${a.detail})`);
  for (const f of result.findings ?? []) lines.push(`  * [${f.severity}] ${f.reason}: ${f.explanation}`);
  if (result.notificationId) lines.push(`  notification: ${result.notificationId}`);
  if (result.notificationError) lines.push(`  notification FAILED: ${result.notificationError}`);
  return lines;
}

/** Runs the command; returns the exit code (1 when the action failed). */
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
    requestedBy: options.requestedBy ?? "pending",
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
    requestedBy: options.requestedBy ?? (await callerIdentity(clients.sts)),
  });

  const result = options.direct
    ? await runRunbook(payload, { ...clients, config: options.config, topicArn: options.topicArn })
    : await invoke(clients.lambda, options.functionName, payload);
  if (options.json) out(JSON.stringify(result, null, 2));
  else for (const line of formatResult(result)) out(line);
  if (options.direct && !options.topicArn && !options.json) {
    out(
      "  (no notification: pass --topic-arn or set NOTIFICATION_TOPIC_ARN to notify the responders' topic)",
    );
  }
  return result.status === "failed" ? 1 : 0;
}
