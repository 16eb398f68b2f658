/**
 * A small EventBridge pattern matcher for the operators our rules use, so the drill and the tests
 * can check events against the very patterns the stack deploys (each incident's `pattern`),
 * offline. It is an emulator of EventBridge, not part of the product. Semantics follow AWS's
 * matcher (event-ruler), including the parts that surprise people:
 *
 * - fields in a pattern are ANDed, the values in a field's array are ORed; `$or` ORs sub-patterns;
 * - an array in the event matches when any of its elements matches (arrays of objects too);
 * - a field that is absent (or an object, or an empty array: no leaf value) matches only
 *   `{"exists": false}`: `anything-but` does NOT match an absent field.
 *
 * Supported: exact values (string, number, boolean, null), `prefix`, `anything-but` (a value, a
 * list, or one `prefix` / `suffix`), `exists`, `wildcard` and `$or`. Any other operator throws, so a pattern that uses one
 * cannot pass a test by accident.
 */

import { isObject } from "../functions/shared/json.js";
import type { EventPattern, Json } from "../functions/shared/rule.js";

export type { EventPattern, Json };

type Leaf = string | number | boolean | null;

/** Whether `event` matches `pattern`. @throws Error on an operator this matcher does not implement. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function isPattern(value: Json | undefined): value is EventPattern {
  return isObject(value);
}

function matchObject(pattern: EventPattern, value: unknown): boolean {
  // An array of objects matches when one element matches the whole sub-pattern.
  if (Array.isArray(value)) return value.some((element) => matchObject(pattern, element));
  const event = isObject(value) ? value : {};
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === "$or") return matchOr(rule, event);
    if (Array.isArray(rule)) return matchLeaf(rule, leaves(event[field]));
    if (isPattern(rule)) return matchObject(rule, event[field]);
    throw new Error(`pattern field "${field}" must be an array or an object`);
  });
}

function matchOr(rule: Json, event: Record<string, unknown>): boolean {
  const subPatterns = Array.isArray(rule) ? rule.filter(isPattern) : [];
  if (!Array.isArray(rule) || subPatterns.length !== rule.length || subPatterns.length < 2) {
    throw new Error('"$or" must be an array of at least two patterns');
  }
  return subPatterns.some((sub) => matchObject(sub, event));
}

/** The leaf values of an event field: scalars, flattened out of arrays. Objects are not leaves. */
function leaves(value: unknown): Leaf[] {
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value === undefined || isObject(value)) return [];
  if (
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean" ||
    value === null
  ) {
    return [value];
  }
  return [];
}

function matchLeaf(matchers: Json[], values: Leaf[]): boolean {
  return matchers.some((matcher) => {
    if (isPattern(matcher)) return matchOperator(matcher, values);
    if (Array.isArray(matcher)) throw new Error("nested arrays are not valid in a pattern");
    return values.some((v) => v === matcher);
  });
}

function matchOperator(matcher: EventPattern, values: Leaf[]): boolean {
  const [operator, ...extra] = Object.keys(matcher);
  if (operator === undefined || extra.length)
    throw new Error(`one operator per matcher: ${JSON.stringify(matcher)}`);
  const arg = matcher[operator];
  switch (operator) {
    case "exists":
      if (typeof arg !== "boolean") throw new Error("exists takes true or false");
      // Present means at least one leaf value (null counts as present).
      return arg === values.length > 0;
    case "prefix":
      return typeof arg === "string" && values.some((v) => typeof v === "string" && v.startsWith(arg));
    case "anything-but": {
      if (isPattern(arg)) return matchAnythingButAffix(arg, values);
      const excluded = Array.isArray(arg) ? arg : [arg];
      if (excluded.some((e) => isPattern(e) || Array.isArray(e)))
        throw new Error("only value lists, prefix, suffix and wildcard are supported in anything-but");
      return values.some((v) => !excluded.includes(v));
    }
    case "wildcard":
      return typeof arg === "string" && values.some((v) => typeof v === "string" && wildcardMatch(arg, v));
    default:
      throw new Error(`unsupported pattern operator "${operator}"`);
  }
}

/**
 * `{"anything-but": {"prefix": "x"}}` / `{"anything-but": {"suffix": "x"}}` /
 * `{"anything-but": {"wildcard": "x*"}}`: a string value that does not start (end) with `x`, or
 * does not match the wildcard. Like every anything-but, an absent field does not match; values
 * that are not strings do not match either (event-ruler compares strings only here).
 */
function matchAnythingButAffix(arg: EventPattern, values: Leaf[]): boolean {
  const [affix, ...extra] = Object.keys(arg);
  const text = affix === undefined ? undefined : arg[affix];
  if (
    extra.length ||
    typeof text !== "string" ||
    (affix !== "prefix" && affix !== "suffix" && affix !== "wildcard")
  ) {
    throw new Error(
      `only one prefix, suffix or wildcard is supported in anything-but: ${JSON.stringify(arg)}`,
    );
  }
  const has = (v: string) =>
    affix === "prefix" ? v.startsWith(text) : affix === "suffix" ? v.endsWith(text) : wildcardMatch(text, v);
  return values.some((v) => typeof v === "string" && !has(v));
}

const STAR = Symbol("star");

/** The pattern as characters and stars, escapes resolved; throws on an escape of anything else. */
function wildcardTokens(pattern: string): Array<string | typeof STAR> {
  const tokens: Array<string | typeof STAR> = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[++i];
      if (next !== "*" && next !== "\\") throw new Error(`invalid escape in wildcard "${pattern}"`);
      tokens.push(next);
    } else if (c === "*") {
      tokens.push(STAR);
    } else if (c !== undefined) {
      tokens.push(c);
    }
  }
  return tokens;
}

/**
 * EventBridge wildcard: `*` matches any run of characters, `\*` a literal star, `\\` a backslash.
 * EventBridge's own operator: not IAM's `StringLike` (functions/shared/policy/glob.ts), which has
 * no escapes, nor the config's field-by-field `arnLike`; each operator keeps its own matcher.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  const tokens = wildcardTokens(pattern);
  // Iterative glob match with backtracking to the last star: linear in practice.
  let t = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    const token = tokens[t];
    if (token !== undefined && token !== STAR && token === value[v]) {
      t++;
      v++;
    } else if (token === STAR) {
      star = t++;
      mark = v;
    } else if (star !== -1) {
      t = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (tokens[t] === STAR) t++;
  return t === tokens.length;
}
