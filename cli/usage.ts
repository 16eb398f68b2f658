/**
 * Usage errors in one format: `kms-responder COMMAND: what is wrong` and, on the next line, the
 * command's `--help` hint. Node's argument parser words its errors for programmers ("To specify a
 * positional argument starting with a '-' ..."); they are rewritten here, with a "did you mean"
 * when a misspelt option or command is close to a known one.
 */

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known word closest to `word`, when it is close enough to be a typo (at most a third of its
 * letters wrong, at least one), or one that starts with it (an abbreviation).
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = name.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, name);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** ` (did you mean X?)`, or nothing. */
export function didYouMean(word: string, known: readonly string[]): string {
  const found = closest(word, known);
  return found ? ` (did you mean ${found}?)` : "";
}

/** The long options a help text names (`--json`, `--fail-on`, ...), for suggestions. */
export function optionsIn(help: string): string[] {
  return [...new Set(help.match(/--[a-z][a-z-]*[a-z]/g) ?? [])];
}

/** A `node:util` parseArgs error (a TypeError carrying an `ERR_PARSE_ARGS_*` code). */
export function isParseArgsError(error: unknown): error is TypeError & { code: string } {
  return (
    error instanceof TypeError &&
    "code" in error &&
    typeof error.code === "string" &&
    error.code.startsWith("ERR_PARSE_ARGS_")
  );
}

/** A parseArgs error said plainly; `known` are the command's options. */
export function parseArgsMessage(error: TypeError & { code: string }, known: readonly string[]): string {
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? "";
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted}${didYouMean(quoted.replace(/=.*$/, ""), known)}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const option = /--[a-z][a-z-]*/.exec(error.message)?.[0] ?? quoted;
      return /argument missing/.test(error.message) ? `${option} needs a value` : `${option} takes no value`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${quoted}: this command takes none`;
    default:
      return error.message;
  }
}
