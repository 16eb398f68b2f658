/**
 * A fake AWS at the HTTP layer, for the reliability tests: KMS, SNS and CloudTrail answer the
 * requests the real SDK clients send, so the SDK's own middleware (signing, deserialisation, the
 * standard retry strategy with its backoff and retry quota) runs exactly as in Lambda.
 * aws-sdk-client-mock cannot do this: it replaces `Client#send`, so no retry ever happens under it.
 *
 * It keeps state (key states, grants, tags, history, published messages), injects faults per
 * service and operation (throttling, timeouts, 5xx, access denied), applies quota-like token
 * buckets (kms-facts.md "Default request quotas") and a simulated service latency. Time comes
 * from `Date.now()` and `setTimeout`, so vitest's fake timers drive it.
 */

export type Service = "kms" | "sns" | "cloudtrail";
export type FaultKind = "throttle" | "timeout" | "5xx" | "access-denied";

export interface FakeKey {
  id: string;
  arn: string;
  state: "Enabled" | "Disabled" | "PendingDeletion" | "PendingReplicaDeletion";
  tags: Record<string, string>;
  grants: Set<string>;
  rotation: boolean;
  /** Newest first, as LookupEvents answers: the key's DisableKey/EnableKey history. */
  history: Array<{ name: "DisableKey" | "EnableKey"; time: Date }>;
}

/** One HTTP attempt the fake answered. */
export interface Attempt {
  service: Service;
  operation: string;
  /** From the SDK's `amz-sdk-request: attempt=N; max=M` header. */
  attempt: number;
  maxAttempts: number;
  /** `Date.now()` when the request arrived (simulated time under fake timers). */
  at: number;
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
export interface FakeRequestHandler {
  handle(request: HttpRequestLike): Promise<HttpAnswer>;
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

class ModelledError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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

/** The answer to an injected fault, the way each service words it. */
function faultAnswer(service: Service, kind: Exclude<FaultKind, "timeout">, operation: string): HttpAnswer {
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

export class FakeAws {
  readonly keys = new Map<string, FakeKey>();
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

  addKey(id: string, init: Partial<Omit<FakeKey, "id" | "arn">> = {}): FakeKey {
    const key: FakeKey = {
      id,
      arn: keyArnOf(id),
      state: "Enabled",
      tags: {},
      grants: new Set(),
      rotation: false,
      history: [],
      ...init,
    };
    this.keys.set(id, key);
    return key;
  }

  /** Answers the next `times` requests to `service:operation` with a fault (default: every one). */
  fail(service: Service, operation: string, kind: FaultKind, times = Number.POSITIVE_INFINITY): void {
    this.rules.push({ service, operation, kind, remaining: times });
  }

  clearFaults(): void {
    this.rules = [];
  }

  attemptsOf(service: Service, operation: string): Attempt[] {
    return this.attempts.filter((a) => a.service === service && a.operation === operation);
  }

  handler(service: Service): FakeRequestHandler {
    return {
      handle: (request) => this.answer(service, request),
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
      destroy: () => undefined,
    };
  }

  /** Points one SDK client at this fake (its `requestHandler`), keeping everything else real. */
  attach(client: unknown, service: Service): void {
    // The client's resolved config is a plain mutable object; `requestHandler` is read on every send.
    (client as { config: { requestHandler: unknown } }).config.requestHandler = this.handler(service);
  }

  /** Points the module-scope clients (functions/shared/clients.ts) at this fake. */
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
    const sdkRequest = /attempt=(\d+); max=(\d+)/.exec(request.headers["amz-sdk-request"] ?? "");
    const attempt: Attempt = {
      service,
      operation,
      attempt: Number(sdkRequest?.[1] ?? 1),
      maxAttempts: Number(sdkRequest?.[2] ?? 1),
      at: Date.now(),
      answer: "ok",
      input,
    };
    this.attempts.push(attempt);

    const rule = this.rules.find(
      (r) => r.service === service && r.operation === operation && r.remaining > 0,
    );
    const latency = this.latencyMs[service];
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    if (rule) {
      rule.remaining--;
      attempt.answer = rule.kind;
      if (rule.kind === "timeout") throw timeoutError();
      return faultAnswer(service, rule.kind, operation);
    }
    if (!this.takeToken(`${service}:${operation}`)) {
      attempt.answer = "quota";
      return faultAnswer(service, "throttle", operation);
    }
    try {
      if (service === "kms") return json(200, this.kms(operation, input));
      if (service === "cloudtrail") return json(200, this.cloudTrail(operation, input));
      return this.sns(operation, input);
    } catch (error) {
      if (!(error instanceof ModelledError)) throw error;
      attempt.answer = error.code;
      return jsonError(400, error.code, error.message);
    }
  }

  private key(ref: unknown): FakeKey {
    const text = str(ref) ?? "";
    const id = text.split("/").pop() ?? "";
    const key = this.keys.get(id);
    if (!key) throw new ModelledError("NotFoundException", `Key '${text}' does not exist`);
    return key;
  }

  private kms(operation: string, input: Record<string, unknown>): unknown {
    const key = this.key(input.KeyId);
    const pending = key.state === "PendingDeletion" || key.state === "PendingReplicaDeletion";
    switch (operation) {
      case "DescribeKey":
        return {
          KeyMetadata: {
            KeyId: key.id,
            Arn: key.arn,
            AWSAccountId: ACCOUNT,
            KeyState: key.state,
            Enabled: key.state === "Enabled",
            KeyManager: "CUSTOMER",
          },
        };
      case "ListResourceTags":
        return {
          Tags: Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
          Truncated: false,
        };
      case "RevokeGrant": {
        const grantId = str(input.GrantId) ?? "";
        if (!key.grants.delete(grantId)) {
          throw new ModelledError("NotFoundException", `Grant ID ${grantId} not found`);
        }
        return {};
      }
      case "ListGrants":
        return {
          Grants: [...key.grants]
            .filter((g) => input.GrantId === undefined || g === input.GrantId)
            .map((GrantId) => ({ GrantId, KeyId: key.arn })),
          Truncated: false,
        };
      case "CancelKeyDeletion":
        if (!pending)
          throw new ModelledError("KMSInvalidStateException", `${key.arn} is not pending deletion.`);
        key.state = "Disabled";
        return { KeyId: key.arn };
      case "EnableKey":
        if (pending) throw new ModelledError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
        key.state = "Enabled";
        return {};
      case "DisableKey":
        if (pending) throw new ModelledError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
        key.state = "Disabled";
        return {};
      case "EnableKeyRotation":
        key.rotation = true;
        return {};
      case "GetKeyRotationStatus":
        return { KeyRotationEnabled: key.rotation };
      default:
        throw new ModelledError("UnsupportedOperationException", `the fake does not model ${operation}`);
    }
  }

  private cloudTrail(operation: string, input: Record<string, unknown>): unknown {
    if (operation !== "LookupEvents") {
      throw new ModelledError("UnsupportedOperationException", `the fake does not model ${operation}`);
    }
    const attributes = Array.isArray(input.LookupAttributes) ? input.LookupAttributes : [];
    const first: unknown = attributes[0];
    const arn =
      typeof first === "object" && first !== null
        ? str((first as Record<string, unknown>).AttributeValue)
        : "";
    const key = [...this.keys.values()].find((k) => k.arn === arn);
    return {
      Events: (key?.history ?? []).map((h) => ({
        EventName: h.name,
        EventTime: h.time.getTime() / 1000,
        CloudTrailEvent: JSON.stringify({ eventName: h.name, eventTime: h.time.toISOString() }),
      })),
    };
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
