/**
 * The one matcher for principal patterns in the config (trusted grantees, approved principals):
 * field by field, as IAM's `ArnLike` reads an ARN.
 *
 * - An ARN pattern is split into `arn:partition:service:region:account:resource`; each of the
 *   first five fields is matched on its own, so a `*` there never crosses `:`.
 * - The resource part is split into segments at `/` and `:` (role paths may contain `:`); a `*`
 *   or `?` stays inside one segment, and the separators must be the same. A segment that is
 *   exactly `**` matches any number of whole segments (zero included): depth is said explicitly.
 * - A pattern that is not an ARN (a service principal such as `*.amazonaws.com`) is one segment:
 *   its `*` never crosses `:` or `/`.
 * - Matching is case-sensitive, like ArnLike. Nothing here builds a RegExp from a pattern.
 *
 * So `arn:aws:iam::*:role/KeyAdmin` matches `KeyAdmin` at the root path of any account, but not a
 * user at path `/x:role/`; `arn:aws:iam::111122223333:role/app-*` does not match
 * `role/app-team/ci-exfil`; `arn:aws:iam::111122223333:role/**` matches every role at any path.
 */

import { parseArn } from "./arn.js";

/** `*` any run of characters, `?` exactly one, inside one field or segment. Iterative, no RegExp. */
function segmentMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc !== undefined && pc !== "*" && (pc === "?" || pc === text[t])) {
      p++;
      t++;
    } else if (pc === "*") {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

interface Segments {
  parts: string[];
  /** `separators[i]` follows `parts[i]`: `/` or `:`. */
  separators: string[];
}

function splitSegments(text: string): Segments {
  const parts: string[] = [];
  const separators: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "/" || c === ":") {
      parts.push(text.slice(start, i));
      separators.push(c);
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return { parts, separators };
}

/**
 * Segment-wise match with `**` spanning whole segments. Dynamic programming over (pattern segment,
 * text segment): at most |pattern| x |text| steps, whatever the pattern holds.
 */
function resourceMatch(pattern: string, text: string): boolean {
  const p = splitSegments(pattern);
  const t = splitSegments(text);
  const memo = new Map<number, boolean>();
  const width = t.parts.length + 1;
  const match = (i: number, j: number): boolean => {
    const id = i * width + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    const result = step(i, j);
    memo.set(id, result);
    return result;
  };
  // Zero segments: the next pattern segment matches here; one more: consume text segment j.
  const doubleStar = (i: number, j: number): boolean => {
    if (i + 1 < p.parts.length && match(i + 1, j)) return true;
    if (i + 1 === p.parts.length) return j < t.parts.length;
    return j < t.parts.length && match(i, j + 1);
  };
  const step = (i: number, j: number): boolean => {
    const part = p.parts[i];
    if (part === undefined) return j === t.parts.length;
    if (part === "**") return doubleStar(i, j);
    const text = t.parts[j];
    if (text === undefined || !segmentMatch(part, text)) return false;
    const last = i === p.parts.length - 1;
    if (last) return j === t.parts.length - 1;
    if (p.parts[i + 1] === "**") return j + 1 < t.parts.length && match(i + 1, j + 1);
    return p.separators[i] === t.separators[j] && match(i + 1, j + 1);
  };
  return match(0, 0);
}

/** Whether `value` matches the principal pattern `pattern`, field by field (see the module comment). */
export function arnLike(pattern: string, value: string): boolean {
  const p = parseArn(pattern);
  if (p === undefined)
    return !pattern.startsWith("arn:") && segmentMatch(pattern, value) && !/[:/]/.test(value);
  const v = parseArn(value);
  if (v === undefined) return false;
  return (
    segmentMatch(p.partition, v.partition) &&
    segmentMatch(p.service, v.service) &&
    segmentMatch(p.region, v.region) &&
    segmentMatch(p.account, v.account) &&
    resourceMatch(p.resource, v.resource)
  );
}

/** Whether any pattern matches the value; false for no patterns and an undefined value. */
export function matchesAnyArn(patterns: readonly string[], value: string | undefined): boolean {
  return value !== undefined && patterns.some((pattern) => arnLike(pattern, value));
}

const ONLY_WILDCARDS = /^[*?/:]*$/;

/**
 * Why a principal pattern is refused, or undefined when it is fine: a pattern whose resource part
 * (or, for a non-ARN pattern, whole text) holds no literal character would match every principal
 * of an account, or of every account.
 */
export function patternProblem(pattern: string): string | undefined {
  const arn = parseArn(pattern);
  if (arn === undefined && pattern.startsWith("arn:")) {
    return "must be an ARN pattern like arn:aws:iam::111122223333:role/Name (arn:partition:service:region:account:resource)";
  }
  const rest = arn === undefined ? pattern : arn.resource;
  if (ONLY_WILDCARDS.test(rest)) {
    return "matches a whole account (its resource part is only wildcards): name the roles or users, e.g. role/KeyAdmin or role/team/*";
  }
  return undefined;
}
