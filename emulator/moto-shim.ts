/**
 * A shim in front of moto that adds two things moto 5 lacks, for the drill and the integration
 * tests; everything else goes to moto unchanged. What it adds is faked, test side only:
 *
 * - The rotation period. moto accepts `RotationPeriodInDays` on EnableKeyRotation but neither
 *   stores nor returns it. The shim remembers the period of each EnableKeyRotation moto accepted
 *   (365 days when the call named none, as KMS sets then) and adds it to GetKeyRotationStatus
 *   answers while rotation is on. Keys are told apart by key id or key ARN; an alias is not
 *   resolved (the handlers name keys by ARN).
 * - A CloudTrail event history. moto has no LookupEvents. The shim answers LookupEvents by
 *   `ResourceName` from the records its user added with `addToHistory`, for the keys that have
 *   some, newest first, in one page; a lookup of any other key goes to moto as before (which
 *   answers with an error: the history reads as unreadable).
 */
import type { IncomingMessage, Server } from "node:http";
import { isObject, type JsonObject, str } from "../functions/shared/json.js";
import { closeProxy, forwardingProxy, type OwnAnswer, operationOf } from "./proxy.js";

/** EnableKeyRotation without `RotationPeriodInDays` sets this period. */
const DEFAULT_PERIOD_DAYS = 365;
const JSON_TYPE = "application/x-amz-json-1.1";
/** A CloudTrail `resources` entry's type for a KMS key. */
const KEY_TYPE = "AWS::KMS::Key";

/** One EnableKeyRotation request that went through the shim, as it was sent. */
export interface EnableKeyRotationRequest {
  keyId: string;
  rotationPeriodInDays?: number;
}

export interface MotoShim {
  /** Where to send requests (in place of moto's endpoint). */
  endpoint: string;
  /** Every EnableKeyRotation request sent through the shim since the last reset, in order. */
  readonly enableKeyRotationRequests: readonly EnableKeyRotationRequest[];
  /** Adds a CloudTrail record (an EventBridge event or its `detail`) to the history of the keys it names. */
  addToHistory(event: JsonObject): void;
  /** Forgets the periods, the requests and the history (after moto is reset). */
  reset(): void;
  stop(): Promise<void>;
}

function jsonOf(body: Buffer): JsonObject {
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8") || "{}");
    return isObject(parsed) ? parsed : {};
  } catch {
    // Not JSON: nothing for the shim to read; moto answers it.
    return {};
  }
}

/** The key id of a key id or key ARN (an alias stays as given). */
function keyIdOf(ref: string): string {
  return /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/.exec(ref)?.[1] ?? ref;
}

/** The key ARNs a CloudTrail record names in its `resources`. */
function keyArnsOf(detail: JsonObject): string[] {
  const resources = Array.isArray(detail.resources) ? detail.resources.filter(isObject) : [];
  return resources.flatMap((r) => {
    const arn = str(r.ARN);
    return arn && r.type === KEY_TYPE ? [arn] : [];
  });
}

/** A record as LookupEvents lists it: the summary fields and the whole record as a string. */
function lookupEntry(detail: JsonObject): JsonObject {
  const who = isObject(detail.userIdentity) ? detail.userIdentity : {};
  const time = Date.parse(str(detail.eventTime) ?? "");
  return {
    EventId: str(detail.eventID) ?? "",
    EventName: str(detail.eventName) ?? "",
    ReadOnly: String(detail.readOnly === true),
    ...(str(who.accessKeyId) && { AccessKeyId: str(who.accessKeyId) }),
    EventTime: Number.isNaN(time) ? 0 : time / 1000,
    EventSource: str(detail.eventSource) ?? "",
    ...(str(who.userName) && { Username: str(who.userName) }),
    Resources: keyArnsOf(detail).map((arn) => ({ ResourceType: KEY_TYPE, ResourceName: arn })),
    CloudTrailEvent: JSON.stringify(detail),
  };
}

/** The `ResourceName` a LookupEvents request looks up, if any. */
function resourceNameOf(request: JsonObject): string | undefined {
  const attributes = Array.isArray(request.LookupAttributes) ? request.LookupAttributes.filter(isObject) : [];
  return str(attributes.find((a) => a.AttributeKey === "ResourceName")?.AttributeValue);
}

class ShimState {
  readonly periods = new Map<string, number>();
  readonly requests: EnableKeyRotationRequest[] = [];
  /** Records by key ARN, oldest first. */
  readonly history = new Map<string, JsonObject[]>();

  received(req: IncomingMessage, body: Buffer): void {
    if (operationOf(req, body) !== "EnableKeyRotation") return;
    const request = jsonOf(body);
    const period = request.RotationPeriodInDays;
    this.requests.push({
      keyId: str(request.KeyId) ?? "",
      ...(typeof period === "number" && { rotationPeriodInDays: period }),
    });
  }

  answer(req: IncomingMessage, body: Buffer): OwnAnswer | undefined {
    if (operationOf(req, body) !== "LookupEvents") return undefined;
    const name = resourceNameOf(jsonOf(body));
    const records = name === undefined ? undefined : this.history.get(name);
    if (!records) return undefined;
    const newestFirst = [...records].sort(
      (a, b) => Date.parse(str(b.eventTime) ?? "") - Date.parse(str(a.eventTime) ?? ""),
    );
    return { status: 200, type: JSON_TYPE, body: JSON.stringify({ Events: newestFirst.map(lookupEntry) }) };
  }

  amends(req: IncomingMessage, body: Buffer): boolean {
    const operation = operationOf(req, body);
    return operation === "EnableKeyRotation" || operation === "GetKeyRotationStatus";
  }

  amend(req: IncomingMessage, body: Buffer, status: number, answer: Buffer): string | undefined {
    if (status !== 200) return undefined;
    const request = jsonOf(body);
    const key = keyIdOf(str(request.KeyId) ?? "");
    if (operationOf(req, body) === "EnableKeyRotation") {
      const period = request.RotationPeriodInDays;
      this.periods.set(key, typeof period === "number" ? period : DEFAULT_PERIOD_DAYS);
      return undefined;
    }
    const rotation = jsonOf(answer);
    if (rotation.KeyRotationEnabled !== true || rotation.RotationPeriodInDays !== undefined) return undefined;
    return JSON.stringify({
      ...rotation,
      RotationPeriodInDays: this.periods.get(key) ?? DEFAULT_PERIOD_DAYS,
    });
  }

  add(event: JsonObject): void {
    const detail = isObject(event.detail) ? event.detail : event;
    for (const arn of keyArnsOf(detail)) this.history.set(arn, [...(this.history.get(arn) ?? []), detail]);
  }

  reset(): void {
    this.periods.clear();
    this.requests.length = 0;
    this.history.clear();
  }
}

/** Starts the shim on a free 127.0.0.1 port in front of moto's `endpoint`. */
export async function motoShim(endpoint: string): Promise<MotoShim> {
  const state = new ShimState();
  const proxy: { endpoint: string; server: Server } = await forwardingProxy(endpoint, {
    received: (req, body) => state.received(req, body),
    answer: (req, body) => state.answer(req, body),
    amends: (req, body) => state.amends(req, body),
    amend: (req, body, status, answer) => state.amend(req, body, status, answer),
  });
  // A shim kept for the process's life (the drill keeps one per emulator) does not keep it alive.
  proxy.server.unref();
  return {
    endpoint: proxy.endpoint,
    enableKeyRotationRequests: state.requests,
    addToHistory: (event) => state.add(event),
    reset: () => state.reset(),
    stop: () => closeProxy(proxy.server),
  };
}
