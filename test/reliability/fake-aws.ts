/**
 * A fake AWS at the HTTP layer, for the reliability tests: KMS, SNS and CloudTrail answer the
 * requests the real SDK clients send, so the SDK's own middleware (signing, deserialisation, the
 * standard retry strategy with its backoff and retry quota) runs exactly as in Lambda.
 * aws-sdk-client-mock cannot do this: it replaces `Client#send`, so no retry ever happens under it.
 *
 * KMS and CloudTrail history are the shared stateful fake (test/helpers/fake-kms.ts), the same
 * model the handler and runbook tests use; this file is only its HTTP transport, plus SNS. It
 * keeps the published messages, injects transport faults per
 * service and operation (throttling, timeouts, 5xx with a JSON body or a proxy's HTML page, access
 * denied, and a malformed answer: the request was applied but its response body arrived cut off),
 * applies quota-like token
 * buckets (KMS's default request quotas) and a simulated service latency. Time comes
 * from `Date.now()` and `setTimeout`, so vitest's fake timers drive it.
 */

import { type FakeKeyInit, FakeKms, type FakeKmsKey } from "../helpers/fake-kms.js";

export type Service = "kms" | "sns" | "cloudtrail";
export type FaultKind = "throttle" | "timeout" | "5xx" | "bad-gateway" | "access-denied" | "malformed";

/** One HTTP attempt the fake answered. */
export interface Attempt {
  service: Service;
  operation: string;
  /** From the SDK's `amz-sdk-request: attempt=N; max=M` header. */
  attempt: number;
  /** `ok`, an injected fault, `quota` (throttled by a token bucket) or the modelled error name. */
  answer: "ok" | FaultKind | "quota" | string;
  input: Record<string, unknown>;
}

export interface PublishedMessage {
  subject: string;
  attributes: Record<string, string>;
  /** The `sqs` JSON document of the notification. */
  doc: {
    incident: string;
    outcome: string;
    severity: string;
    actions: Array<{ type: string; status: string; detail: string; error?: string; verified?: boolean }>;
    details: string[];
    verdicts?: string[];
  };
  text: string;
}

export interface FakeAwsOptions {
  /** Simulated service latency per request, in ms (0: answer at once), for all services or per service. */
  latencyMs?: number | Partial<Record<Service, number>>;
  /** Requests per second per `service:Operation` (a token bucket holding one second's worth). */
  quotas?: Readonly<Record<string, number>>;
}

interface Rule {
  service: Service;
  operation: string;
  kind: FaultKind;
  /** Matching requests still answered normally before the fault starts. */
  skip: number;
  remaining: number;
}

interface Bucket {
  rate: number;
  tokens: number;
  last: number;
}

interface HttpRequestLike {
  headers: Record<string, string>;
  body?: unknown;
}

interface HttpAnswer {
  response: { statusCode: number; headers: Record<string, string>; body: Buffer };
}

/** The request handler shape the SDK clients call (only `handle` is used on the request path). */
interface FakeRequestHandler {
  handle(request: HttpRequestLike): Promise<HttpAnswer>;
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

const ACCOUNT = "111122223333";
const REGION = "us-east-1";

export function keyArnOf(id: string): string {
  return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
}

function json(statusCode: number, body: unknown): HttpAnswer {
  return {
    response: {
      statusCode,
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: Buffer.from(JSON.stringify(body)),
    },
  };
}

function xml(statusCode: number, body: string): HttpAnswer {
  return { response: { statusCode, headers: { "content-type": "text/xml" }, body: Buffer.from(body) } };
}

function snsError(statusCode: number, code: string, message: string): HttpAnswer {
  return xml(
    statusCode,
    `<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${statusCode >= 500 ? "Receiver" : "Sender"}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
  );
}

function jsonError(statusCode: number, type: string, message: string): HttpAnswer {
  return json(statusCode, { __type: type, message });
}

/** What a load balancer or proxy in the way answers: an HTML page, not the service's JSON or XML. */
function badGateway(): HttpAnswer {
  const page = "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>";
  return { response: { statusCode: 502, headers: { "content-type": "text/html" }, body: Buffer.from(page) } };
}

/** The answer with its body cut in half: the request was applied, the answer lost on the way back. */
function cutOff(answer: HttpAnswer): HttpAnswer {
  const body = answer.response.body;
  return { response: { ...answer.response, body: body.subarray(0, Math.floor(body.length / 2)) } };
}

/** The answer to an injected fault, the way each service words it. */
function faultAnswer(
  service: Service,
  kind: "throttle" | "5xx" | "access-denied",
  operation: string,
): HttpAnswer {
  if (service === "sns") {
    if (kind === "throttle") return snsError(400, "Throttled", "Rate exceeded");
    if (kind === "5xx") return snsError(500, "InternalError", "Internal error");
    return snsError(403, "AuthorizationError", `not authorized to perform: SNS:${operation}`);
  }
  if (kind === "throttle") return jsonError(400, "ThrottlingException", "Rate exceeded");
  if (kind === "5xx") {
    return service === "kms"
      ? jsonError(500, "KMSInternalException", "Internal failure")
      : jsonError(500, "InternalServerError", "Internal failure");
  }
  const prefix = service === "kms" ? "kms" : "cloudtrail";
  return jsonError(
    400,
    "AccessDeniedException",
    `User: arn:aws:sts::${ACCOUNT}:assumed-role/kms-responder/fn is not authorized to perform: ${prefix}:${operation}`,
  );
}

/** The error NodeHttpHandler raises when a request times out (the SDK retries it as transient). */
function timeoutError(): Error {
  const error = new Error("Connection timed out after 3000 ms");
  error.name = "TimeoutError";
  return error;
}

/** The request body as text: the SDK hands over a string or bytes depending on the protocol. */
function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return "";
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The JSON protocol writes timestamps as epoch seconds. */
function wire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(wire);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wire(v)]));
  }
  return value;
}

export class FakeAws {
  /** The shared fake KMS model (keys, grants, policies, history, command log). */
  readonly kms = new FakeKms(REGION);
  readonly attempts: Attempt[] = [];
  readonly published: PublishedMessage[] = [];
  private rules: Rule[] = [];
  private readonly buckets = new Map<string, Bucket>();
  private readonly latencyMs: Record<Service, number>;
  private messageId = 0;

  constructor(options: FakeAwsOptions = {}) {
    const latency = options.latencyMs ?? 0;
    this.latencyMs =
      typeof latency === "number"
        ? { kms: latency, sns: latency, cloudtrail: latency }
        : { kms: latency.kms ?? 0, sns: latency.sns ?? 0, cloudtrail: latency.cloudtrail ?? 0 };
    for (const [name, rate] of Object.entries(options.quotas ?? {})) {
      this.buckets.set(name, { rate, tokens: rate, last: Date.now() });
    }
  }

  /** The keys, oldest first. */
  get keys(): readonly FakeKmsKey[] {
    return this.kms.keys;
  }

  addKey(id: string, init: Omit<FakeKeyInit, "arn"> = {}): FakeKmsKey {
    return this.kms.addKey({ ...init, arn: keyArnOf(id) });
  }

  /**
   * Answers the next `times` requests to `service:operation` with a fault (default: every one),
   * after answering `after` of them normally (a read that works once and fails when read again).
   */
  fail(
    service: Service,
    operation: string,
    kind: FaultKind,
    times = Number.POSITIVE_INFINITY,
    after = 0,
  ): void {
    this.rules.push({ service, operation, kind, skip: after, remaining: times });
  }

  clearFaults(): void {
    this.rules = [];
  }

  attemptsOf(service: Service, operation: string): Attempt[] {
    return this.attempts.filter((a) => a.service === service && a.operation === operation);
  }

  private handler(service: Service): FakeRequestHandler {
    return {
      handle: (request) => this.answer(service, request),
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
      destroy: () => undefined,
    };
  }

  /** Points one SDK client at this fake (its `requestHandler`), keeping everything else real. */
  private attach(client: unknown, service: Service): void {
    // The client's resolved config is a plain mutable object; `requestHandler` is read on every send.
    (client as { config: { requestHandler: unknown } }).config.requestHandler = this.handler(service);
  }

  /** Points clients (the module-scope ones of functions/shared/clients/, or an environment's own) at this fake. */
  install(clients: { kms: unknown; sns: unknown; cloudTrail: unknown }): void {
    this.attach(clients.kms, "kms");
    this.attach(clients.sns, "sns");
    this.attach(clients.cloudTrail, "cloudtrail");
  }

  private takeToken(name: string): boolean {
    const bucket = this.buckets.get(name);
    if (!bucket) return true;
    const now = Date.now();
    bucket.tokens = Math.min(bucket.rate, bucket.tokens + ((now - bucket.last) / 1000) * bucket.rate);
    bucket.last = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private async answer(service: Service, request: HttpRequestLike): Promise<HttpAnswer> {
    const body = bodyText(request.body);
    let operation: string;
    let input: Record<string, unknown>;
    if (service === "sns") {
      const params = new URLSearchParams(body);
      operation = params.get("Action") ?? "";
      input = Object.fromEntries(params.entries());
    } else {
      operation = (request.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
      input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    }
    const sdkRequest = /attempt=(\d+)/.exec(request.headers["amz-sdk-request"] ?? "");
    const attempt: Attempt = {
      service,
      operation,
      attempt: Number(sdkRequest?.[1] ?? 1),
      answer: "ok",
      input,
    };
    this.attempts.push(attempt);

    const latency = this.latencyMs[service];
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const rule = this.rules.find(
      (r) => r.service === service && r.operation === operation && r.remaining > 0,
    );
    if (rule && rule.skip > 0) rule.skip--;
    else if (rule) {
      rule.remaining--;
      attempt.answer = rule.kind;
      if (rule.kind === "timeout") throw timeoutError();
      if (rule.kind === "bad-gateway") return badGateway();
      if (rule.kind === "malformed") return cutOff(this.serve(service, operation, input, attempt));
      return faultAnswer(service, rule.kind, operation);
    }
    if (!this.takeToken(`${service}:${operation}`)) {
      attempt.answer = "quota";
      return faultAnswer(service, "throttle", operation);
    }
    return this.serve(service, operation, input, attempt);
  }

  /** The service's own answer, from the model. */
  private serve(
    service: Service,
    operation: string,
    input: Record<string, unknown>,
    attempt: Attempt,
  ): HttpAnswer {
    if (service === "sns") return this.sns(operation, input);
    try {
      return json(200, wire(this.kms.call(service, operation, input, REGION)));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      if (attempt.answer === "ok") attempt.answer = error.name;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 400;
      return jsonError(status, error.name, error.message);
    }
  }

  private sns(operation: string, input: Record<string, unknown>): HttpAnswer {
    if (operation !== "Publish") return snsError(400, "InvalidAction", `not modelled: ${operation}`);
    const message = JSON.parse(str(input.Message) ?? "{}") as Record<string, string>;
    const attributes: Record<string, string> = {};
    for (let i = 1; input[`MessageAttributes.entry.${i}.Name`] !== undefined; i++) {
      const name = str(input[`MessageAttributes.entry.${i}.Name`]) ?? "";
      attributes[name] = str(input[`MessageAttributes.entry.${i}.Value.StringValue`]) ?? "";
    }
    this.published.push({
      subject: str(input.Subject) ?? "",
      attributes,
      doc: JSON.parse(message.sqs ?? "{}") as PublishedMessage["doc"],
      text: message.default ?? "",
    });
    const id = `msg-${++this.messageId}`;
    return xml(
      200,
      `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}
