/**
 * Watches the AWS calls a handler makes, without touching the handler: Node publishes every
 * outgoing HTTP request on `diagnostics_channel`; the SigV4 credential scope names the service and
 * JSON-protocol requests name their operation in `X-Amz-Target` (`TrentService.RevokeGrant`). This
 * gives the drill the time at which the remediating call finished, measured from the delivery.
 */
import diagnostics from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";
import { FORWARDED_HEADER } from "../../emulator/proxy.js";

export interface ObservedCall {
  operation: string;
  /** Milliseconds since the recorder started. */
  startMs: number;
  endMs?: number;
  status?: number;
}

/** KMS calls that change a key: the end of the last successful one is the end of the remediation. */
export const MUTATING_KMS_CALLS: ReadonlySet<string> = new Set([
  "RevokeGrant",
  "CancelKeyDeletion",
  "EnableKey",
  "DisableKey",
  "EnableKeyRotation",
  "PutKeyPolicy",
]);

export interface CallRecorder {
  calls: ObservedCall[];
  /** Milliseconds since the recorder started. */
  now(): number;
  stop(): void;
}

/**
 * `RevokeGrant` for KMS (the JSON protocol names the operation in `X-Amz-Target`), `service:Operation`
 * for other JSON services (`cloudtrail:LookupEvents`), the service alone for query-protocol services
 * such as SNS (the operation is in the body), read from the SigV4 credential scope.
 */
function operationOf(request: ClientRequest): string | undefined {
  const auth = request.getHeader("authorization");
  const service =
    typeof auth === "string" ? /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] : undefined;
  const target = request.getHeader("x-amz-target");
  const operation = typeof target === "string" ? target.split(".").pop() : undefined;
  if (service === "kms" && operation) return operation;
  if (service && operation) return `${service}:${operation}`;
  return service;
}

/** Records every AWS call made in this process until `stop()`. */
export function recordCalls(): CallRecorder {
  const origin = performance.now();
  const calls: ObservedCall[] = [];
  const open = new WeakMap<ClientRequest, ObservedCall>();
  const onStart = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    // The moto proxy's own request, forwarding a call already recorded: not a call of the handler.
    if (request?.hasHeader(FORWARDED_HEADER)) return;
    const operation = request && operationOf(request);
    if (!request || !operation) return;
    const call: ObservedCall = { operation, startMs: performance.now() - origin };
    open.set(request, call);
    calls.push(call);
  };
  const onFinish = (message: unknown) => {
    const { request, response } = message as { request?: ClientRequest; response?: IncomingMessage };
    const call = request && open.get(request);
    if (!call) return;
    call.endMs = performance.now() - origin;
    if (response?.statusCode !== undefined) call.status = response.statusCode;
  };
  diagnostics.subscribe("http.client.request.start", onStart);
  diagnostics.subscribe("http.client.response.finish", onFinish);
  return {
    calls,
    now: () => performance.now() - origin,
    stop() {
      diagnostics.unsubscribe("http.client.request.start", onStart);
      diagnostics.unsubscribe("http.client.response.finish", onFinish);
    },
  };
}
