/**
 * A plain-text table that fits a width (120 columns by default) without cutting a word: cells wrap
 * at spaces and after separators (`,` `/` `_` `#`), columns shrink down to their longest word, and
 * when that is still too wide the lowest-priority columns are left out (and the caller is told
 * which). Nothing is ever shortened with `~` or `...`: a value shown is shown whole.
 */

export interface Column {
  header: string;
  /** Lower is kept longer; columns are dropped highest priority number first. */
  priority: number;
  /** A column that must stay even when the table is too wide (then only wrapping helps). */
  required?: boolean;
  /** Characters a cell may wrap after besides spaces (default `,/_#`); a path may add `-` and `.`. */
  breakAfter?: string;
}

export interface Table {
  lines: string[];
  /** Headers of the columns left out to fit the width. */
  dropped: string[];
}

const GAP = "  ";

const DEFAULT_BREAKS = ",/_#";

/** The word pattern of each set of separators, built once: a table asks for every cell twice. */
const WORD_PATTERNS = new Map<string, RegExp>();

/** The pieces a cell may wrap between: after a space, or after a separator that keeps the piece readable. */
export function words(text: string, breakAfter = DEFAULT_BREAKS): string[] {
  let pattern = WORD_PATTERNS.get(breakAfter);
  if (!pattern) {
    const set = breakAfter.replace(/[\\\]^-]/g, "\\$&");
    pattern = new RegExp(`[^\\s${set}]*[${set}]+|[^\\s${set}]+`, "g");
    WORD_PATTERNS.set(breakAfter, pattern);
  }
  // A global pattern's match() starts from 0 and leaves no state behind.
  return text.match(pattern) ?? [];
}

function longestWord(text: string, breakAfter?: string): number {
  return words(text, breakAfter).reduce((max, w) => Math.max(max, w.length), 0);
}

/**
 * Wraps text to `width` at word boundaries. A piece that ends in a separator joins the next one
 * without a space (a path or a list breaks where its separators are); a single word longer than
 * the width stays whole on its own line (never cut).
 */
export function wrap(text: string, width: number, breakAfter?: string): string[] {
  const lines: string[] = [];
  let line = "";
  const tokens = text.split(/\s+/).filter((t) => t !== "");
  for (const token of tokens) {
    const pieces = words(token, breakAfter);
    for (const [i, piece] of pieces.entries()) {
      const joiner = line === "" || i > 0 ? "" : " ";
      if (line !== "" && line.length + joiner.length + piece.length > width) {
        lines.push(line.trimEnd());
        line = piece;
      } else line += joiner + piece;
    }
  }
  if (line !== "" || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/**
 * Lays out rows of cells under the columns to fit `width`. Widths start at each column's longest
 * line; the widest shrinkable column gives up space first (down to its longest word); then
 * columns are dropped by priority until the rest fit.
 */
export function renderTable(columns: readonly Column[], rows: readonly string[][], width = 120): Table {
  let shown = columns.map((_, i) => i);
  const natural = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const minimal = columns.map((c, i) =>
    Math.max(longestWord(c.header), ...rows.map((r) => longestWord(r[i] ?? "", c.breakAfter))),
  );
  const total = (widths: number[]) =>
    shown.reduce((sum, i) => sum + (widths[i] ?? 0), 0) + GAP.length * (shown.length - 1);
  const dropped: string[] = [];
  let widths = [...natural];
  for (;;) {
    widths = [...natural];
    // Shrink the widest column that can still give up space, one column at a time.
    while (total(widths) > width) {
      const candidates = shown.filter((i) => (widths[i] ?? 0) > (minimal[i] ?? 0));
      const widest = candidates.sort((a, b) => (widths[b] ?? 0) - (widths[a] ?? 0))[0];
      if (widest === undefined) break;
      const excess = total(widths) - width;
      const next = shown.filter((i) => i !== widest).reduce((m, i) => Math.max(m, widths[i] ?? 0), 0);
      const floor = Math.max(minimal[widest] ?? 0, Math.min(next, (widths[widest] ?? 0) - 1));
      widths[widest] = Math.max(floor, (widths[widest] ?? 0) - excess);
    }
    if (total(widths) <= width) break;
    const victim = shown
      .filter((i) => !columns[i]?.required)
      .sort((a, b) => (columns[b]?.priority ?? 0) - (columns[a]?.priority ?? 0))[0];
    if (victim === undefined) break;
    dropped.push(columns[victim]?.header ?? "");
    shown = shown.filter((i) => i !== victim);
  }
  const renderRow = (cells: readonly string[]): string[] => {
    const wrapped = shown.map((i) => wrap(cells[i] ?? "", widths[i] ?? 0, columns[i]?.breakAfter));
    const height = Math.max(...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let line = 0; line < height; line++) {
      const parts = shown.map((i, k) => (wrapped[k]?.[line] ?? "").padEnd(widths[i] ?? 0));
      out.push(parts.join(GAP).trimEnd());
    }
    return out;
  };
  const lines = [...renderRow(columns.map((c) => c.header)), ...rows.flatMap(renderRow)];
  return { lines, dropped };
}
