/**
 * The one place that reads raw CloudTrail JSON. Everything downstream works on `KmsApiCall`.
 *
 * Real records vary (kms-facts.md "Events"): `requestParameters` can be null, `resources` can be
 * missing or use `arn` instead of `ARN`, `userIdentity.type` can be missing, `eventVersion` ranges
 * from 1.02 to 1.11. Every field is read with a type check and a missing one becomes `undefined`;
 * the normaliser never throws on a JSON object.
 */

export type JsonObject = Record<string, unknown>;

export interface Actor {
  /** `IAMUser`, `AssumedRole`, `Root`, `AWSService`, `FederatedUser`, ... (undefined when absent). */
  type: string | undefined;
  /** The caller's ARN (for assumed roles the `assumed-role/...` session ARN). */
  arn: string | undefined;
  /** For role sessions, the role that was assumed (`sessionContext.sessionIssuer.arn`). */
  roleArn: string | undefined;
  accountId: string | undefined;
  principalId: string | undefined;
  /** `sessionContext.attributes.mfaAuthenticated`; undefined when the record does not say. */
  mfaAuthenticated: boolean | undefined;
  /** The AWS service that made the call on the principal's behalf (`ec2.amazonaws.com`, `AWS Internal`). */
  invokedBy: string | undefined;
}

export interface KmsApiCall {
  eventId: string | undefined;
  eventName: string | undefined;
  eventSource: string | undefined;
  eventTime: string | undefined;
  /** `AwsApiCall`, `AwsServiceEvent`, ... */
  eventType: string | undefined;
  accountId: string | undefined;
  region: string | undefined;
  /** The key the call acted on, as an ARN when it can be known. */
  keyArn: string | undefined;
  /** The key id (UUID, or `mrk-...`) when it can be known. */
  keyId: string | undefined;
  /** An alias the caller used to name the key (`alias/payments`), if any. */
  keyAlias: string | undefined;
  actor: Actor;
  sourceIp: string | undefined;
  userAgent: string | undefined;
  request: JsonObject;
  response: JsonObject;
  additionalData: JsonObject;
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function obj(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

/**
 * Returns the CloudTrail record inside an EventBridge envelope, the record itself when given a
 * raw record, or undefined when the value is neither.
 */
export function cloudTrailRecord(input: unknown): JsonObject | undefined {
  if (!isObject(input)) return undefined;
  // An EventBridge envelope carries the record in `detail` and has `detail-type`.
  if (isObject(input.detail) && ("detail-type" in input || "source" in input)) return input.detail;
  if ("eventName" in input || "eventSource" in input || "eventID" in input) return input;
  return undefined;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(alias\/.+)$/;
const KEY_ID = /^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export interface ParsedKeyArn {
  region: string;
  accountId: string;
  keyId: string;
}

export function parseKeyArn(arn: string | undefined): ParsedKeyArn | undefined {
  const m = arn ? KEY_ARN.exec(arn) : null;
  if (!m) return undefined;
  const [, region = "", accountId = "", keyId = ""] = m;
  return { region, accountId, keyId };
}

export function isKeyId(value: string | undefined): boolean {
  return value !== undefined && KEY_ID.test(value);
}

/** `detail.resources[]` entry for the key: `type: AWS::KMS::Key` with `ARN` (older records: `arn`, no type). */
function keyArnFromResources(resources: unknown): string | undefined {
  if (!Array.isArray(resources)) return undefined;
  for (const r of resources) {
    if (!isObject(r)) continue;
    const arn = str(r.ARN) ?? str(r.arn);
    const type = str(r.type);
    if (arn && (type === "AWS::KMS::Key" || type === undefined) && parseKeyArn(arn)) return arn;
  }
  return undefined;
}

function keyArnFromReference(
  ref: string | undefined,
  region: string | undefined,
  account: string | undefined,
): string | undefined {
  if (!ref) return undefined;
  if (parseKeyArn(ref)) return ref;
  if (isKeyId(ref) && region && account) return `arn:aws:kms:${region}:${account}:key/${ref}`;
  return undefined;
}

/** A failed call's message names the key: `arn:aws:kms:...:key/... is pending deletion.` */
function keyArnInMessage(message: string | undefined): string | undefined {
  const m = message ? /arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+/.exec(message) : null;
  return m?.[0];
}

function aliasFromReference(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  if (ref.startsWith("alias/")) return ref;
  return ALIAS_ARN.exec(ref)?.[1];
}

/** The caller of a record, from its `userIdentity`. */
export function actorOf(identity: JsonObject): Actor {
  const session = obj(identity.sessionContext);
  const issuer = obj(session.sessionIssuer);
  const mfa = obj(session.attributes).mfaAuthenticated;
  return {
    type: str(identity.type),
    arn: str(identity.arn),
    roleArn: str(issuer.arn),
    accountId: str(identity.accountId) ?? str(issuer.accountId),
    principalId: str(identity.principalId),
    mfaAuthenticated:
      mfa === true || mfa === "true" ? true : mfa === false || mfa === "false" ? false : undefined,
    invokedBy: str(identity.invokedBy),
  };
}

/**
 * Normalises an EventBridge envelope or a raw CloudTrail record into a `KmsApiCall`.
 * Returns undefined when the input is not a CloudTrail record at all (not an object, no event
 * name/source); never throws.
 *
 * The key ARN comes from `detail.resources` first, then `responseElements.keyId` (an ARN for
 * most calls), then `requestParameters.keyId` qualified with the event's region and account.
 * An alias alone cannot be resolved offline: `keyArn` stays undefined and `keyAlias` is set.
 */
export function normalise(input: unknown): KmsApiCall | undefined {
  const record = cloudTrailRecord(input);
  if (!record) return undefined;
  const identity = obj(record.userIdentity);
  const request = obj(record.requestParameters);
  const response = obj(record.responseElements);
  const region = str(record.awsRegion);
  const accountId = str(record.recipientAccountId) ?? str(identity.accountId);
  const keyMetadata = obj(response.keyMetadata);

  const requestKey = str(request.keyId);
  const keyArn =
    keyArnFromResources(record.resources) ??
    keyArnFromReference(str(response.keyId), region, accountId) ??
    keyArnFromReference(str(keyMetadata.arn), region, accountId) ??
    keyArnFromReference(requestKey, region, accountId) ??
    keyArnInMessage(str(record.errorMessage));

  return {
    eventId: str(record.eventID),
    eventName: str(record.eventName),
    eventSource: str(record.eventSource),
    eventTime: str(record.eventTime),
    eventType: str(record.eventType),
    accountId: accountId ?? parseKeyArn(keyArn)?.accountId,
    region: region ?? parseKeyArn(keyArn)?.region,
    keyArn,
    keyId: parseKeyArn(keyArn)?.keyId ?? (isKeyId(requestKey) ? requestKey : undefined),
    keyAlias: aliasFromReference(requestKey),
    actor: actorOf(identity),
    sourceIp: str(record.sourceIPAddress),
    userAgent: str(record.userAgent),
    request,
    response,
    additionalData: obj(record.additionalEventData),
    errorCode: str(record.errorCode),
    errorMessage: str(record.errorMessage),
  };
}

/** The principal to judge a call by: the assumed role for sessions, else the caller's ARN. */
export function actorPrincipal(actor: Actor): string | undefined {
  return actor.roleArn ?? actor.arn;
}
