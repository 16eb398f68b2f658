/**
 * Reading a statement's `Condition` block: does it pin the caller to an account or organisation,
 * and does it confine a grant to AWS services? Operators and keys are compared case-insensitively.
 */

import { hasWildcard } from "./glob.js";
import { isRecord, parseArn } from "./principals.js";

export interface Trust {
  keyAccount: string;
  accounts: ReadonlySet<string>;
  /** Trusted organisation ids, the key's own organisation included when it is known. */
  organizations: ReadonlySet<string>;
}

/**
 * What a condition does to a statement that allows everyone:
 * - `none`: nothing pins the caller (no pinning key, or only wildcards, or only `kms:ViaService`);
 * - `trusted`: the caller must belong to the key's account, a trusted account or organisation;
 * - `untrusted`: the caller is pinned, but to accounts/organisations we do not trust.
 */
export type PinVerdict =
  | { kind: "none" }
  | { kind: "trusted" }
  | { kind: "untrusted"; accounts: string[]; organizations: string[] };

type PinKind = "account" | "org" | "org-path" | "arn";

/** The condition keys that pin the caller to known principals or accounts, lower-cased. */
const PIN_KEYS: ReadonlyMap<string, PinKind> = new Map([
  ["aws:principalaccount", "account"],
  ["kms:calleraccount", "account"],
  ["aws:sourceaccount", "account"],
  ["aws:principalorgid", "org"],
  ["aws:sourceorgid", "org"],
  ["aws:sourceorgpaths", "org-path"],
  ["aws:principalorgpaths", "org-path"],
  ["aws:principalarn", "arn"],
  ["aws:sourcearn", "arn"],
]);

/**
 * Keys present in every signed request (IAM User Guide, global condition context keys:
 * aws:PrincipalAccount and aws:PrincipalArn have no availability restriction; KMS sets
 * kms:CallerAccount on every call). For these, `...IfExists` and `ForAllValues:` still pin.
 * aws:PrincipalOrgID/OrgPaths exist "only if the principal is a member of an organization" and
 * aws:Source* only on service-to-service calls: `StringEqualsIfExists` on them lets a caller from
 * a standalone account straight through, so those weak forms do not pin.
 */
const ALWAYS_PRESENT: ReadonlySet<string> = new Set([
  "aws:principalaccount",
  "kms:calleraccount",
  "aws:principalarn",
]);

interface Operator {
  /** `stringequals`, `stringlike`, `bool`, ... without set prefix or IfExists suffix. */
  base: string;
  forAll: boolean;
  ifExists: boolean;
}

function parseOperator(raw: string): Operator {
  let text = raw.toLowerCase();
  let forAll = false;
  if (text.startsWith("foranyvalue:")) text = text.slice("foranyvalue:".length);
  else if (text.startsWith("forallvalues:")) {
    text = text.slice("forallvalues:".length);
    forAll = true;
  }
  const ifExists = text.endsWith("ifexists");
  if (ifExists) text = text.slice(0, -"ifexists".length);
  return { base: text, forAll, ifExists };
}

/** Calls `visit` for each operator/key pair of a Condition block; malformed parts are skipped. */
function forEachCondition(
  condition: unknown,
  visit: (operator: Operator, key: string, value: unknown) => void,
): void {
  if (!isRecord(condition)) return;
  for (const rawOperator of Object.keys(condition)) {
    const block = condition[rawOperator];
    if (!isRecord(block)) continue;
    const operator = parseOperator(rawOperator);
    for (const key of Object.keys(block)) visit(operator, key.toLowerCase(), block[key]);
  }
}

/**
 * The values of one condition key as IAM reads them: a string or a list, where JSON numbers and
 * booleans count as their text (`"kms:CallerAccount": 111122223333` pins like the string).
 * Other element types (objects, null) are skipped.
 */
export function conditionValues(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item === "string") out.push(item);
    else if (typeof item === "number" && Number.isFinite(item)) out.push(String(item));
    else if (typeof item === "boolean") out.push(String(item));
  }
  return out;
}

/** True when the statement has no condition at all (absent, or an empty object). */
export function isUnconditioned(condition: unknown): boolean {
  return condition === undefined || (isRecord(condition) && Object.keys(condition).length === 0);
}

/** True when the condition mentions `kms:ViaService` under any operator. */
export function mentionsViaService(condition: unknown): boolean {
  let found = false;
  forEachCondition(condition, (_operator, key) => {
    if (key === "kms:viaservice") found = true;
  });
  return found;
}

const STRING_MATCH = new Set(["stringequals", "stringlike", "stringequalsignorecase"]);

/**
 * True when a CreateGrant permission is confined to AWS services: `kms:ViaService` matched with a
 * positive string operator (not IfExists / ForAllValues, which pass when the key is absent, i.e.
 * on a direct call), or `Bool` `kms:GrantIsForAWSResource` true (`true` or `"true"`).
 */
export function hasServiceCondition(condition: unknown): boolean {
  let found = false;
  forEachCondition(condition, (operator, key, value) => {
    if (key === "kms:viaservice") {
      if (STRING_MATCH.has(operator.base) && !operator.ifExists && !operator.forAll) {
        if (conditionValues(value).length > 0) found = true;
      }
    } else if (key === "kms:grantisforawsresource" && operator.base === "bool" && !operator.ifExists) {
      const values = Array.isArray(value) ? value : [value];
      const texts = conditionValues(values);
      if (
        texts.length > 0 &&
        texts.length === values.length &&
        texts.every((v) => v.toLowerCase() === "true")
      ) {
        found = true;
      }
    }
  });
  return found;
}

/**
 * How an operator compares a pin's values:
 * - `literal` (StringEquals, StringEqualsIgnoreCase): the whole text, wildcards are plain characters;
 * - `string-like` (StringLike): the whole text, `*` matching any run of characters, `:` included,
 *   so an ARN pattern pins an account only when its account field comes before the first wildcard
 *   (role paths may contain `:`, so `arn:*:iam::111122223333:role/x` also matches
 *   `arn:aws:iam::999988887777:role/:iam::111122223333:role/x`);
 * - `arn-like` (ArnLike, and ArnEquals, which honours wildcards exactly like it): field by field,
 *   a wildcard never leaving its field, so only a wildcard in the account field opens it.
 */
type Matching = "literal" | "string-like" | "arn-like";

const MATCHING: ReadonlyMap<string, Matching> = new Map([
  ["stringequals", "literal"],
  ["stringequalsignorecase", "literal"],
  ["stringlike", "string-like"],
  ["arnequals", "arn-like"],
  ["arnlike", "arn-like"],
]);

/** One condition value: it lets anyone in, names an entity, or can match nobody real. */
type ValuePin =
  | { kind: "open" }
  | { kind: "nobody" }
  | { kind: "entity"; entity: "account" | "org"; id: string };

/** Policy variables (`${aws:ResourceAccount}`) a pin may use that still name the key's own account or organisation. */
const RESOURCE_VARIABLES: ReadonlyMap<string, "account" | "org"> = new Map([
  ["aws:resourceaccount", "account"],
  ["aws:resourceorgid", "org"],
]);

/** The text before the first `*` or `?`: what every match of a StringLike pattern starts with. */
function literalPrefix(value: string): string {
  let end = value.length;
  const star = value.indexOf("*");
  const question = value.indexOf("?");
  if (star !== -1) end = star;
  if (question !== -1 && question < end) end = question;
  return value.slice(0, end);
}

const ACCOUNT_ID = /^\d{12}$/;

/** The account an ARN pin confines callers to, as the operator reads the value. */
function arnPin(value: string, matching: Matching): ValuePin {
  const wildcards = matching !== "literal";
  if (matching === "string-like" && hasWildcard(value)) {
    // Every match starts with the literal prefix: the account is pinned only if the prefix holds
    // the whole account field (five colons, or four and a complete 12-digit account).
    const prefix = literalPrefix(value);
    const arn = parseArn(prefix);
    if (arn !== undefined && arn.account !== "")
      return { kind: "entity", entity: "account", id: arn.account };
    const colons = prefix.split(":").length - 1;
    const accountField = prefix.slice(prefix.lastIndexOf(":") + 1);
    if (prefix.startsWith("arn:") && colons === 4 && ACCOUNT_ID.test(accountField)) {
      return { kind: "entity", entity: "account", id: accountField };
    }
    return { kind: "open" };
  }
  const arn = parseArn(value);
  if (arn === undefined || arn.account === "") {
    // Not an ARN, or one without an account (an S3 bucket): pins no account we can judge.
    return wildcards && hasWildcard(value) ? { kind: "open" } : { kind: "nobody" };
  }
  if (hasWildcard(arn.account)) return wildcards ? { kind: "open" } : { kind: "nobody" };
  return { kind: "entity", entity: "account", id: arn.account };
}

function pinOfValue(kind: PinKind, value: string, matching: Matching): ValuePin {
  const variable =
    value.startsWith("${") && value.endsWith("}")
      ? RESOURCE_VARIABLES.get(value.slice(2, -1).toLowerCase())
      : undefined;
  if (variable !== undefined) return { kind: "entity", entity: variable, id: "" };
  if (value.includes("${")) return { kind: "open" }; // another variable: cannot be judged as a pin
  if (kind === "arn") return arnPin(value, matching);
  const identity = kind === "org-path" ? (value.split("/", 1)[0] ?? "") : value;
  const entity = kind === "account" ? "account" : "org";
  if (hasWildcard(identity)) return matching === "literal" ? { kind: "nobody" } : { kind: "open" };
  if (identity === "") return { kind: "nobody" };
  return { kind: "entity", entity, id: identity };
}

function isTrusted(entity: "account" | "org", id: string, trust: Trust): boolean {
  if (id === "") return true; // ${aws:ResourceAccount} / ${aws:ResourceOrgID}: the key's own
  return entity === "account"
    ? id === trust.keyAccount || trust.accounts.has(id)
    : trust.organizations.has(id);
}

/**
 * Does the condition pin the caller of a statement whose principal is `*` (or a NotPrincipal)?
 * Each operator/key pair is an AND, so one pair pinning to trusted entities is enough; within a
 * pair the values are an OR, so one value that lets anyone in (`*`, `arn:aws:iam::*:role/x`,
 * `o-*`, or under StringLike any wildcard before the account field) opens the pair.
 */
export function pinVerdict(condition: unknown, trust: Trust): PinVerdict {
  let trusted = false;
  const accounts: string[] = [];
  const organizations: string[] = [];
  forEachCondition(condition, (operator, key, value) => {
    const names = untrustedPins(operator, key, value, trust);
    if (names === undefined) return;
    if (names.length === 0) trusted = true;
    for (const name of names) (name.entity === "account" ? accounts : organizations).push(name.id);
  });
  if (trusted) return { kind: "trusted" };
  if (accounts.length > 0 || organizations.length > 0) return { kind: "untrusted", accounts, organizations };
  return { kind: "none" };
}

/**
 * The untrusted accounts and organisations one operator/key pair pins the caller to: empty when
 * it pins to trusted entities only, undefined when it pins nothing (not a pin key, an operator
 * that does not match, an absent-key escape, or one value that lets anyone in).
 */
function untrustedPins(
  operator: Operator,
  key: string,
  value: unknown,
  trust: Trust,
): Array<{ entity: "account" | "org"; id: string }> | undefined {
  const pinKind = PIN_KEYS.get(key);
  if (pinKind === undefined) return undefined;
  const matching = MATCHING.get(operator.base);
  if (matching === undefined) return undefined;
  if ((operator.ifExists || operator.forAll) && !ALWAYS_PRESENT.has(key)) return undefined;
  const values = conditionValues(value);
  if (values.length === 0) return undefined;
  const names: Array<{ entity: "account" | "org"; id: string }> = [];
  for (const text of values) {
    const pin = pinOfValue(pinKind, text, matching);
    if (pin.kind === "open") return undefined;
    if (pin.kind === "entity" && !isTrusted(pin.entity, pin.id, trust)) names.push(pin);
  }
  return names;
}

/** The keys that confine what an AWS service acts for, lower-cased. */
const SOURCE_KEYS: ReadonlyMap<string, PinKind> = new Map([
  ["aws:sourceaccount", "account"],
  ["aws:sourcearn", "arn"],
  ["aws:sourceorgid", "org"],
  ["aws:sourceorgpaths", "org-path"],
]);

/**
 * True when a statement for an AWS service principal confines the service to acting for known
 * resources (the confused-deputy guard AWS documents for CloudTrail, SNS, CloudWatch Logs...):
 * `aws:SourceAccount`, `aws:SourceArn`, `aws:SourceOrgID` or `aws:SourceOrgPaths`, or an
 * encryption-context key AWS services set to their resource's ARN
 * (`kms:EncryptionContext:aws:logs:arn`, `...:aws:cloudtrail:arn`), matched positively with no
 * value that lets any account in. These ARNs are written by the service about its own resource
 * (a trail, a topic), never an IAM path a caller chose, so a StringLike wildcard in the Region
 * field (`arn:aws:cloudtrail:*:111122223333:trail/*`, AWS's own example) is read field by field.
 */
export function hasSourceCondition(condition: unknown): boolean {
  let found = false;
  forEachCondition(condition, (operator, key, value) => {
    const kind =
      SOURCE_KEYS.get(key) ??
      (key.startsWith("kms:encryptioncontext:aws:") && key.endsWith(":arn") ? "arn" : undefined);
    if (kind === undefined) return;
    const matching = MATCHING.get(operator.base);
    if (matching === undefined || operator.ifExists || operator.forAll) return;
    const values = conditionValues(value);
    const fieldwise = matching === "string-like" ? "arn-like" : matching;
    if (values.length > 0 && values.every((text) => pinOfValue(kind, text, fieldwise).kind !== "open")) {
      found = true;
    }
  });
  return found;
}

/**
 * True when some operator/key pair of the condition confines callers to the key's own account
 * exactly (`aws:PrincipalAccount`, `kms:CallerAccount` or `aws:PrincipalArn` naming it, or
 * `${aws:ResourceAccount}`): everyone in that account, and nobody else, gets the statement.
 */
export function pinsKeyAccountOnly(condition: unknown, trust: Trust): boolean {
  let found = false;
  forEachCondition(condition, (operator, key, value) => {
    const pinKind = PIN_KEYS.get(key);
    const matching = MATCHING.get(operator.base);
    if (pinKind !== "account" || matching === undefined) return;
    if ((operator.ifExists || operator.forAll) && !ALWAYS_PRESENT.has(key)) return;
    const values = conditionValues(value);
    const own = (text: string) => {
      const pin = pinOfValue(pinKind, text, matching);
      return (
        pin.kind === "entity" && pin.entity === "account" && (pin.id === "" || pin.id === trust.keyAccount)
      );
    };
    if (values.length > 0 && values.every(own)) found = true;
  });
  return found;
}

/** Negated string operators: the Deny applies to callers whose value is *not* listed (or absent). */
const NEGATED = new Set(["stringnotequals", "stringnotequalsignorecase"]);
/** Keys a data perimeter may add to its Deny to spare AWS services acting for the account. */
const SERVICE_EXEMPTIONS = new Set(["aws:principalisawsservice", "aws:viaawsservice"]);
const PERIMETER_KEYS: ReadonlyMap<string, "account" | "org"> = new Map([
  ["aws:principalorgid", "org"],
  ["aws:principalaccount", "account"],
  ["kms:calleraccount", "account"],
]);

/**
 * True when a `Deny` to everyone with this condition is a data perimeter: it denies every caller
 * whose organisation (`aws:PrincipalOrgID`) or account is not one we trust, e.g.
 * `StringNotEquals: {"aws:PrincipalOrgID": "o-ours"}`. A negated operator also matches a caller
 * without the key (outside any organisation), so the outsider is denied either way. The only
 * other conditions allowed spare AWS services (`aws:PrincipalIsAWSService`), which act for the
 * account itself; any other condition would narrow the Deny in ways not judged here.
 */
export function isPerimeterDeny(condition: unknown, trust: Trust): boolean {
  let perimeter = false;
  let other = false;
  forEachCondition(condition, (operator, key, value) => {
    if (SERVICE_EXEMPTIONS.has(key)) return;
    const entity = PERIMETER_KEYS.get(key);
    const values = conditionValues(value);
    if (entity === undefined || !NEGATED.has(operator.base) || operator.forAll || values.length === 0) {
      other = true;
      return;
    }
    const trusted = values.every((text) => {
      // Literal: under StringNotEquals a wildcard is a plain character, so it lets nobody in.
      const pin = pinOfValue(entity, text, "literal");
      return pin.kind === "entity" && isTrusted(pin.entity, pin.id, trust);
    });
    if (trusted) perimeter = true;
    else other = true;
  });
  return perimeter && !other;
}
