/**
 * Reading a statement's `Condition` block: does it pin the caller to an account or organisation,
 * and does it confine a grant to AWS services? Operators and keys are compared case-insensitively.
 */

import { hasWildcard } from "./glob.js";
import { isRecord, parseArn, stringList } from "./principals.js";

export interface Trust {
  keyAccount: string;
  accounts: ReadonlySet<string>;
  organizations: ReadonlySet<string>;
}

/**
 * What a condition does to a statement that allows everyone:
 * - `none`: nothing pins the caller (no pinning key, or only wildcards, or only `kms:ViaService`);
 * - `trusted`: the caller must belong to the key's account, a trusted account or organisation;
 * - `untrusted`: the caller is pinned, but to accounts/organisations we do not trust (`names`).
 */
export type PinVerdict = { kind: "none" } | { kind: "trusted" } | { kind: "untrusted"; names: string[] };

type PinKind = "account" | "org" | "org-path" | "arn";

/** The condition keys that pin the caller (kms-facts.md, "Key policies"), lower-cased. */
const PIN_KEYS: ReadonlyMap<string, PinKind> = new Map([
  ["aws:principalaccount", "account"],
  ["kms:calleraccount", "account"],
  ["aws:sourceaccount", "account"],
  ["aws:principalorgid", "org"],
  ["aws:sourceorgid", "org"],
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
        if (stringList(value).length > 0) found = true;
      }
    } else if (key === "kms:grantisforawsresource" && operator.base === "bool" && !operator.ifExists) {
      const values = Array.isArray(value) ? value : [value];
      if (
        values.length > 0 &&
        values.every((v) => v === true || (typeof v === "string" && v.toLowerCase() === "true"))
      ) {
        found = true;
      }
    }
  });
  return found;
}

/** Pinning operators. ArnEquals honours wildcards exactly like ArnLike; StringEquals does not. */
const LITERAL_OPERATORS: ReadonlySet<string> = new Set(["stringequals", "stringequalsignorecase"]);
const WILDCARD_OPERATORS: ReadonlySet<string> = new Set(["stringlike", "arnequals", "arnlike"]);

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

function pinOfValue(kind: PinKind, value: string, wildcards: boolean): ValuePin {
  const variable =
    value.startsWith("${") && value.endsWith("}")
      ? RESOURCE_VARIABLES.get(value.slice(2, -1).toLowerCase())
      : undefined;
  if (variable !== undefined) return { kind: "entity", entity: variable, id: "" };
  if (value.includes("${")) return { kind: "open" }; // another variable: cannot be judged as a pin
  let identity: string;
  let entity: "account" | "org";
  switch (kind) {
    case "account":
      identity = value;
      entity = "account";
      break;
    case "org":
      identity = value;
      entity = "org";
      break;
    case "org-path":
      identity = value.split("/", 1)[0] ?? "";
      entity = "org";
      break;
    case "arn": {
      const arn = parseArn(value);
      if (arn === undefined) return wildcards && hasWildcard(value) ? { kind: "open" } : { kind: "nobody" };
      if (arn.account === "") {
        // An ARN without an account (an S3 bucket): pins a resource, not an account we can judge.
        return wildcards && hasWildcard(value) ? { kind: "open" } : { kind: "nobody" };
      }
      identity = arn.account;
      entity = "account";
      break;
    }
  }
  if (hasWildcard(identity)) return wildcards ? { kind: "open" } : { kind: "nobody" };
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
 * pair the values are an OR, so one wildcard value (`*`, `arn:aws:iam::*:role/x`, `o-*` under
 * StringLike/ArnLike/ArnEquals, which all honour wildcards) opens it to anyone.
 */
export function pinVerdict(condition: unknown, trust: Trust): PinVerdict {
  let trusted = false;
  const untrusted: string[] = [];
  forEachCondition(condition, (operator, key, value) => {
    const pinKind = PIN_KEYS.get(key);
    if (pinKind === undefined) return;
    const wildcards = WILDCARD_OPERATORS.has(operator.base);
    if (!wildcards && !LITERAL_OPERATORS.has(operator.base)) return;
    if ((operator.ifExists || operator.forAll) && !ALWAYS_PRESENT.has(key)) return;
    const values = stringList(value);
    if (values.length === 0) return;
    const names: string[] = [];
    for (const text of values) {
      const pin = pinOfValue(pinKind, text, wildcards);
      if (pin.kind === "open") return;
      if (pin.kind === "entity" && !isTrusted(pin.entity, pin.id, trust)) names.push(pin.id);
    }
    if (names.length === 0) trusted = true;
    else for (const name of names) untrusted.push(name);
  });
  if (trusted) return { kind: "trusted" };
  if (untrusted.length > 0) return { kind: "untrusted", names: untrusted };
  return { kind: "none" };
}
