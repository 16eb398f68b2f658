/**
 * IAM's `StringLike` operator (`*` any run of characters, `:` and `/` included, `?` exactly one),
 * for action names and condition values. Principal patterns in the config use the field-by-field
 * `arnLike` (functions/shared/arn-pattern.ts) instead: a different operator, its own matcher. Policies are attacker-controlled input, so this never builds a RegExp from
 * them: a pattern is compiled once (lower-cased, runs of `*` collapsed) and matched with the
 * classic iterative two-pointer algorithm.
 */

const STAR = 42; // "*"
const QUESTION = 63; // "?"

/** A pattern ready for {@link stringLikeMatch}: lower-cased, with no `**` runs. */
export type CompiledGlob = string & { readonly __compiledGlob: unique symbol };

/** True when the text contains a `*` or `?` wildcard. */
export function hasWildcard(text: string): boolean {
  return text.includes("*") || text.includes("?");
}

/**
 * Compiles a pattern for matching against texts of at most `maxTextLength` characters.
 * Returns `undefined` when the pattern cannot match any such text (it has more literal
 * characters than the longest text), so a 100 KB pattern costs one linear pass and nothing more.
 */
export function compileGlob(pattern: string, maxTextLength: number): CompiledGlob | undefined {
  let literals = 0;
  let out = "";
  let previousStar = false;
  for (let i = 0; i < pattern.length; i++) {
    const code = pattern.charCodeAt(i);
    if (code === STAR) {
      if (!previousStar) out += "*";
      previousStar = true;
      continue;
    }
    previousStar = false;
    literals++;
    if (literals > maxTextLength) return undefined;
    out += pattern[i];
  }
  return out.toLowerCase() as CompiledGlob;
}

/**
 * Case-insensitive when `text` is lower-case (the pattern is lower-cased by {@link compileGlob}).
 * Worst case O(|pattern| x |text|); both are bounded by the compile step.
 */
export function stringLikeMatch(pattern: CompiledGlob, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const pc = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (pc === QUESTION || (pc !== STAR && pc !== -1 && pc === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (pc === STAR) {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}
