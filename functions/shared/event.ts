/**
 * The one place that reads raw CloudTrail JSON. Everything downstream works on `KmsEvent`: the key
 * already parsed (`KeyRef`) and a typed detail per event name. Deciders and notifications never
 * read `requestParameters` or `responseElements`.
 *
 * Real records vary: `requestParameters` can be null, `resources` can be
 * missing or use `arn` instead of `ARN`, `userIdentity.type` can be missing, `eventVersion` ranges
 * from 1.02 to 1.11, `deletionDate` comes in several text formats. Every field is read with a type
 * check and a missing one becomes `undefined`; the normaliser never throws on a JSON object.
 */
import { aliasOf, isKeyId, type KeyRef, keyRefOf, parseKeyArn, partitionOfRegion } from "./arn.js";
import { isObject, type JsonObject, str } from "./json.js";

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
  /**
   * `sessionContext.sourceIdentity`: set by whoever assumed the role (sts:SetSourceIdentity) and
   * fixed for the session and every session chained from it.
   */
  sourceIdentity: string | undefined;
}

/** A grant's encryption-context constraint, as CloudTrail writes it. */
export interface GrantConstraints {
  encryptionContextSubset?: Record<string, string>;
  encryptionContextEquals?: Record<string, string>;
}

/** CreateGrant: the grant as requested, and the id KMS gave it. */
export interface GrantDetail {
  kind: "grant";
  grantee: string | undefined;
  retiringPrincipal: string | undefined;
  operations: string[];
  constraints: GrantConstraints | undefined;
  grantId: string | undefined;
  name: string | undefined;
}

/** ScheduleKeyDeletion: when, and the state KMS answered with. */
export interface DeletionDetail {
  kind: "deletion";
  deletionDate: Date | undefined;
  /** `PendingDeletion`, or `PendingReplicaDeletion` for a multi-Region primary with replicas. */
  keyState: string | undefined;
  pendingWindowInDays: number | undefined;
}

/** PutKeyPolicy, CreateKey or ReplicateKey with a policy. */
export interface PolicyDetail {
  kind: "policy";
  /** The policy text (or object) the call set; undefined when the call set none. */
  policy: unknown;
  bypassLockoutSafetyCheck: boolean;
  /**
   * The key the policy belongs to. ReplicateKey is logged in the primary's Region and the policy
   * belongs to the new replica (`responseElements.replicaKeyMetadata.arn`).
   */
  target: KeyRef | undefined;
}

/**
 * ImportKeyMaterial: whether and when the material expires, and which material it is. A `validTo`
 * without an `expirationModel` expires (KEY_MATERIAL_EXPIRES is the API's default). `importType`
 * is absent in older records and when the caller left it out: KMS then takes the key's first
 * import as NEW_KEY_MATERIAL and later ones as EXISTING_KEY_MATERIAL.
 */
export interface ImportDetail {
  kind: "import";
  expirationModel: string | undefined;
  validTo: Date | undefined;
  /** `NEW_KEY_MATERIAL` | `EXISTING_KEY_MATERIAL` as the record says; undefined when it says nothing. */
  importType: string | undefined;
  /** The material KMS imported (`responseElements.keyMaterialId`). */
  keyMaterialId: string | undefined;
  keyMaterialDescription: string | undefined;
}

/**
 * DeleteImportedKeyMaterial (the material named by the request, else the current one) and
 * DeleteExpiredKeyMaterial (KMS's own, the material in `serviceEventDetails`).
 */
export interface MaterialDeletionDetail {
  kind: "material-deletion";
  /** Undefined when the record names none (older records; the current material was deleted). */
  keyMaterialId: string | undefined;
}

/** EnableKeyRotation: the period it set (undefined: the API's default, 365 days). */
export interface RotationDetail {
  kind: "rotation";
  rotationPeriodInDays: number | undefined;
}

/** UpdateAlias / DeleteAlias. */
export interface AliasDetail {
  kind: "alias";
  aliasName: string | undefined;
  /** UpdateAlias's new target key, when the record names it. */
  targetKey: KeyRef | undefined;
}

export interface NoDetail {
  kind: "none";
}

/**
 * The event details by `kind`. An interface, so an incident that reads its own event fields adds
 * its detail here from its own folder, by declaration merging:
 *
 *     declare module "../shared/event.js" {
 *       interface EventDetails { rotation: RotationDetail }
 *     }
 *
 * and declares the parser that fills it (`Incident.details`). `EventDetail` stays a union
 * discriminated by `kind`, so a decider narrows it as before.
 */
export interface EventDetails {
  grant: GrantDetail;
  deletion: DeletionDetail;
  policy: PolicyDetail;
  import: ImportDetail;
  "material-deletion": MaterialDeletionDetail;
  rotation: RotationDetail;
  alias: AliasDetail;
  none: NoDetail;
}

export type EventDetail = EventDetails[keyof EventDetails];

/** What a detail parser reads: the record's request and response, and the key already found. */
export interface DetailInput {
  eventName: string;
  request: JsonObject;
  response: JsonObject;
  /** `serviceEventDetails` of an AWS service event (RotateKey, DeleteExpiredKeyMaterial); `{}` otherwise. */
  service: JsonObject;
  /** `additionalEventData` (a custom key store's name, ...); `{}` when absent. */
  additional: JsonObject;
  key: KeyRef | undefined;
  /** The record's Region, account and partition (to qualify a key id or alias it names). */
  where: Where;
}

/** An incident's own event fields: parsed from the records of `eventNames` (instead of the shared parse). */
export interface DetailParser {
  eventNames: readonly string[];
  parse(input: DetailInput): EventDetail;
}

export interface KmsEvent {
  eventId: string | undefined;
  eventName: string | undefined;
  eventSource: string | undefined;
  eventTime: string | undefined;
  /** `AwsApiCall`, `AwsServiceEvent`, ... */
  eventType: string | undefined;
  accountId: string | undefined;
  region: string | undefined;
  /** `aws`, `aws-cn`, `aws-us-gov`: from the key ARN, else from the Region. */
  partition: string;
  /**
   * The key the call is about, parsed once. For a failed call whose error names a key (a ReEncrypt
   * fails on its source *or* its destination key), that key.
   */
  key: KeyRef | undefined;
  /** How the record named the key when no ARN could be built (an alias, or an id without a Region). */
  keyHint: string | undefined;
  actor: Actor;
  sourceIp: string | undefined;
  userAgent: string | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  detail: EventDetail;
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

/** `detail.resources[]` entry for the key: `type: AWS::KMS::Key` with `ARN` (older records: `arn`, no type). */
function keyFromResources(resources: unknown): KeyRef | undefined {
  if (!Array.isArray(resources)) return undefined;
  for (const r of resources) {
    if (!isObject(r)) continue;
    const type = str(r.type);
    if (type !== "AWS::KMS::Key" && type !== undefined) continue;
    const key = parseKeyArn(str(r.ARN) ?? str(r.arn));
    if (key) return key;
  }
  return undefined;
}

export interface Where {
  region: string | undefined;
  account: string | undefined;
  partition: string;
}

function keyFromReference(ref: string | undefined, where: Where): KeyRef | undefined {
  const parsed = parseKeyArn(ref);
  if (parsed) return parsed;
  if (isKeyId(ref) && where.region && where.account) {
    return keyRefOf(ref, { region: where.region, account: where.account, partition: where.partition });
  }
  return undefined;
}

/** A failed call's message names the key: `arn:aws:kms:...:key/... is pending deletion.` */
function keyInMessage(message: string | undefined): KeyRef | undefined {
  const m = message ? /arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+/.exec(message) : null;
  return parseKeyArn(m?.[0]);
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
    sourceIdentity: str(session.sourceIdentity),
  };
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** `Dec 5, 2026, 6:31:12 PM`, `Jun 30, 2020 2:34:07 AM`, and AWS's own `Apr 12, 2021 18:58:30 PM`. */
const TEXT_DATE = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?: ?([AP]M))?$/i;

/**
 * Parses a date in the formats CloudTrail records use (`deletionDate`, `validTo`): the text form
 * without a zone (UTC), sometimes with a 24-hour clock and a stray AM/PM (`Apr 12, 2021 18:58:30
 * PM`, from AWS's documentation), ISO 8601, or epoch seconds/milliseconds. Undefined when absent
 * or unreadable.
 */
export function parseRecordDate(value: unknown): Date | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    // Out of Date's range (e.g. 1e20) gives an Invalid Date, whose toISOString() throws.
    const date = new Date(value < 1e12 ? value * 1000 : value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseRecordDate(Number(text));
  const m = TEXT_DATE.exec(text);
  if (m) return parseTextDate(m);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  // An ISO date-time without a zone is UTC too; Date.parse would read it as local time.
  const ms = Date.parse(/[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text.replace(" ", "T")}Z` : text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** The text form matched by `TEXT_DATE`, read as UTC; undefined for a month, day or hour out of range. */
function parseTextDate(m: RegExpExecArray): Date | undefined {
  const [, mon = "", day = "", year = "", h = "", min = "", sec = "", half] = m;
  const month = MONTHS.indexOf(mon.toLowerCase());
  let hour = Number(h);
  // A 12-hour clock only when the hour says so: "18:58:30 PM" is 18:58.
  if (half && hour <= 12) hour = (hour % 12) + (half.toUpperCase() === "PM" ? 12 : 0);
  if (month < 0 || hour > 23 || Number(day) < 1 || Number(day) > 31) return undefined;
  return new Date(Date.UTC(Number(year), month, Number(day), hour, Number(min), Number(sec)));
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

function constraintsOf(value: unknown): GrantConstraints | undefined {
  if (!isObject(value)) return undefined;
  const subset = stringRecord(value.encryptionContextSubset);
  const equals = stringRecord(value.encryptionContextEquals);
  if (!subset && !equals) return undefined;
  return {
    ...(subset && { encryptionContextSubset: subset }),
    ...(equals && { encryptionContextEquals: equals }),
  };
}

/** The detail from the parser declared for the event name, else the shared parse. */
function detailFor(
  parsers: readonly DetailParser[],
  eventName: string | undefined,
  input: Omit<DetailInput, "eventName">,
): EventDetail {
  const own = eventName ? parsers.find((p) => p.eventNames.includes(eventName)) : undefined;
  if (own && eventName) {
    try {
      return own.parse({ ...input, eventName });
    } catch {
      // A record of a shape the incident's parser did not expect never crashes the normaliser.
      return { kind: "none" };
    }
  }
  return detailOf(eventName, input);
}

function importDetail(request: JsonObject, response: JsonObject): ImportDetail {
  const validTo = parseRecordDate(request.validTo);
  return {
    kind: "import",
    expirationModel: str(request.expirationModel) ?? (validTo ? "KEY_MATERIAL_EXPIRES" : undefined),
    validTo,
    importType: str(request.importType),
    keyMaterialId: str(response.keyMaterialId),
    keyMaterialDescription: str(request.keyMaterialDescription),
  };
}

/** PutKeyPolicy, CreateKey and ReplicateKey: the policy set, and on which key. */
function policyDetail(
  eventName: "PutKeyPolicy" | "CreateKey" | "ReplicateKey",
  request: JsonObject,
  response: JsonObject,
  key: DetailInput["key"],
): EventDetail {
  // The replica: from the response, else the primary's id in the requested Region (a replica
  // shares its primary's id), never the primary itself.
  const replicaRegion = str(request.replicaRegion);
  const replica =
    parseKeyArn(str(obj(response.replicaKeyMetadata).arn)) ??
    (key && replicaRegion
      ? keyRefOf(key.id, { region: replicaRegion, account: key.account, partition: key.partition })
      : undefined);
  const policy = request.policy ?? (eventName === "ReplicateKey" ? response.replicaPolicy : undefined);
  return {
    kind: "policy",
    policy: policy === null ? undefined : policy,
    bypassLockoutSafetyCheck: request.bypassPolicyLockoutSafetyCheck === true,
    target: eventName === "ReplicateKey" ? replica : key,
  };
}

function detailOf(eventName: string | undefined, input: Omit<DetailInput, "eventName">): EventDetail {
  const { request, response, key, where, service } = input;
  switch (eventName) {
    case "CreateGrant": {
      const ops = request.operations;
      return {
        kind: "grant",
        grantee: str(request.granteePrincipal),
        retiringPrincipal: str(request.retiringPrincipal),
        operations: Array.isArray(ops) ? ops.filter((o): o is string => typeof o === "string") : [],
        constraints: constraintsOf(request.constraints),
        grantId: str(response.grantId),
        name: str(request.name),
      };
    }
    case "ScheduleKeyDeletion": {
      const window = response.pendingWindowInDays ?? request.pendingWindowInDays;
      return {
        kind: "deletion",
        deletionDate: parseRecordDate(response.deletionDate),
        keyState: str(response.keyState),
        pendingWindowInDays: typeof window === "number" ? window : undefined,
      };
    }
    case "PutKeyPolicy":
    case "CreateKey":
    case "ReplicateKey":
      return policyDetail(eventName, request, response, key);
    case "ImportKeyMaterial":
      return importDetail(request, response);
    case "DeleteImportedKeyMaterial":
    case "DeleteExpiredKeyMaterial":
      return {
        kind: "material-deletion",
        keyMaterialId:
          str(request.keyMaterialId) ?? str(response.keyMaterialId) ?? str(service.keyMaterialId),
      };
    case "EnableKeyRotation": {
      const period = request.rotationPeriodInDays;
      return {
        kind: "rotation",
        rotationPeriodInDays: typeof period === "number" && Number.isFinite(period) ? period : undefined,
      };
    }
    case "UpdateAlias":
    case "DeleteAlias":
      return {
        kind: "alias",
        aliasName: aliasOf(str(request.aliasName)),
        targetKey: keyFromReference(str(request.targetKeyId), where),
      };
    default:
      return { kind: "none" };
  }
}

/**
 * Normalises an EventBridge envelope or a raw CloudTrail record into a `KmsEvent`.
 * Returns undefined when the input is not a CloudTrail record at all (not an object, no event
 * name/source); never throws.
 *
 * The key: for a failed call, the key its error message names (that is the key the failure is
 * about); then `detail.resources`, `responseElements.keyId` (an ARN for most calls),
 * `responseElements.keyMetadata.arn`, then `requestParameters.keyId` qualified with the event's
 * Region and account. An alias alone cannot be resolved offline: `key` stays undefined and
 * `keyHint` holds it.
 */
export function normalise(input: unknown, parsers: readonly DetailParser[] = []): KmsEvent | undefined {
  const record = cloudTrailRecord(input);
  if (!record) return undefined;
  const identity = obj(record.userIdentity);
  const request = obj(record.requestParameters);
  const response = obj(record.responseElements);
  const region = str(record.awsRegion);
  const account = str(record.recipientAccountId) ?? str(identity.accountId);
  const errorCode = str(record.errorCode);
  const errorMessage = str(record.errorMessage);
  const where: Where = { region, account, partition: partitionOfRegion(region) };

  const requestKey = str(request.keyId);
  const found =
    (errorCode ? keyInMessage(errorMessage) : undefined) ??
    keyFromResources(record.resources) ??
    keyFromReference(str(response.keyId), where) ??
    keyFromReference(str(obj(response.keyMetadata).arn), where) ??
    keyFromReference(requestKey, where);
  const alias = aliasOf(requestKey);
  const key = found && alias ? { ...found, alias } : found;
  const eventName = str(record.eventName);

  return {
    eventId: str(record.eventID),
    eventName,
    eventSource: str(record.eventSource),
    eventTime: str(record.eventTime),
    eventType: str(record.eventType),
    accountId: account ?? key?.account,
    region: region ?? key?.region,
    partition: key?.partition ?? where.partition,
    key,
    keyHint: key ? undefined : (alias ?? (isKeyId(requestKey) ? requestKey : undefined)),
    actor: actorOf(identity),
    sourceIp: str(record.sourceIPAddress),
    userAgent: str(record.userAgent),
    errorCode,
    errorMessage,
    detail: detailFor(parsers, eventName, {
      request,
      response,
      service: obj(record.serviceEventDetails),
      additional: obj(record.additionalEventData),
      key,
      where,
    }),
  };
}

/** The principal to judge a call by: the assumed role for sessions, else the caller's ARN. */
export function actorPrincipal(actor: Actor): string | undefined {
  return actor.roleArn ?? actor.arn;
}

/** The best reference to the key in an event: ARN, else the id or alias the record used. */
export function keyLabel(event: KmsEvent): string {
  return event.key?.arn ?? event.keyHint ?? "unknown-key";
}
