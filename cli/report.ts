/**
 * `triage --report FILE.html`: the findings as one self-contained page for an incident review.
 * Inline CSS and script, an inline SVG timeline, no external URL of any kind; a Content Security
 * Policy forbids every fetch, so the page works offline and leaks nothing when opened.
 *
 * Every value from a record is HTML-escaped where it is written; the rows are HTML, not data a
 * script turns into HTML, so a hostile principal name (`<script>...`) stays text.
 */
import { writeFile } from "node:fs/promises";
import { SEVERITIES, type Severity, severityRank } from "../functions/shared/types.js";
import type { NotKmsRow, TriageRow } from "./triage.js";

/** What the report shows of a finding (a triage row with a severity). */
export type ReportRow = Pick<
  TriageRow,
  | "eventId"
  | "eventName"
  | "eventTime"
  | "source"
  | "incident"
  | "severity"
  | "reasons"
  | "actions"
  | "key"
  | "account"
  | "accountName"
  | "region"
  | "actor"
  | "summary"
>;

export interface ReportMeta {
  /** What was triaged: paths, s3:// locations, an Athena table. */
  inputs: readonly string[];
  generatedAt: Date;
  /** Records read in all (findings are a few of them). */
  records?: number;
  /** The page's heading (default: the triage report's). */
  title?: string;
  /** What the findings are, under the heading (default: triage's dry run). */
  note?: string;
}

const COLORS: Record<Severity, string> = {
  critical: "#8b0000",
  high: "#d9480f",
  medium: "#e8a317",
  low: "#2f7ebc",
  info: "#7a869a",
};

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Keeps the findings of triage's rows, for the report (triage calls `add` with every row). */
export function reportCollector(): { add: (row: TriageRow | NotKmsRow) => void; rows: ReportRow[] } {
  const rows: ReportRow[] = [];
  return {
    rows,
    add(row) {
      if ("severity" in row && row.severity) rows.push(row);
    },
  };
}

function dayOf(time: string | null): string | undefined {
  const m = time ? /^(\d{4}-\d{2}-\d{2})/.exec(time) : null;
  return m?.[1];
}

/** Findings per day and severity, days in order. */
export function timeline(
  rows: readonly ReportRow[],
): Array<{ day: string; counts: Record<Severity, number> }> {
  const days = new Map<string, Record<Severity, number>>();
  for (const row of rows) {
    const day = dayOf(row.eventTime);
    if (!day || !row.severity) continue;
    let counts = days.get(day);
    if (!counts) {
      counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
      days.set(day, counts);
    }
    counts[row.severity]++;
  }
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, counts]) => ({ day, counts }));
}

function timelineSvg(rows: readonly ReportRow[]): string {
  const days = timeline(rows);
  if (days.length === 0) return '<p class="muted">No finding has a time: no timeline.</p>';
  const barWidth = Math.max(8, Math.min(40, Math.floor(900 / days.length) - 4));
  const height = 160;
  const max = Math.max(...days.map((d) => SEVERITIES.reduce((n, s) => n + d.counts[s], 0)));
  const width = days.length * (barWidth + 4) + 40;
  const bars = days.map((d, i) => {
    const x = 30 + i * (barWidth + 4);
    let y = height;
    const total = SEVERITIES.reduce((n, s) => n + d.counts[s], 0);
    const rects = SEVERITIES.filter((s) => d.counts[s] > 0).map((s) => {
      const h = Math.max(1, Math.round((d.counts[s] / max) * (height - 10)));
      y -= h;
      return `<rect x="${x}" y="${y}" width="${barWidth}" height="${h}" fill="${COLORS[s]}" data-severity="${s}" data-count="${d.counts[s]}"><title>${escapeHtml(d.day)}: ${d.counts[s]} ${s}</title></rect>`;
    });
    const label =
      days.length <= 31 || i % Math.ceil(days.length / 31) === 0
        ? `<text x="${x + barWidth / 2}" y="${height + 14}" text-anchor="middle" class="axis">${escapeHtml(d.day.slice(5))}</text>`
        : "";
    return `<g class="bar" data-day="${escapeHtml(d.day)}" data-total="${total}">${rects.join("")}${label}</g>`;
  });
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 22}" role="img" aria-label="Findings per day by severity">
<line x1="28" y1="${height}" x2="${width}" y2="${height}" stroke="#999"/>
<text x="2" y="12" class="axis">${max}</text>
${bars.join("\n")}
</svg>`;
}

function wouldDo(row: ReportRow): string {
  if (row.actions.length === 0) return "notify";
  return row.actions.map((a) => (a.hold ? `${a.type} (held: ${a.hold})` : a.type)).join(", ");
}

/** The account id, with its name (config `accountNames` or the organisation's) beside it. */
function accountCell(row: ReportRow): string {
  if (!row.account) return "-";
  const name = row.accountName ? ` <span class="muted">${escapeHtml(row.accountName)}</span>` : "";
  return `<span class="mono">${escapeHtml(row.account)}</span>${name}`;
}

function tableRow(row: ReportRow, order: number): string {
  const severity = row.severity ?? "info";
  const cells = [
    `<td><span class="sev sev-${severity}">${severity.toUpperCase()}</span></td>`,
    `<td>${escapeHtml(row.incident ?? "-")}</td>`,
    `<td class="mono">${escapeHtml(row.key ?? "-")}</td>`,
    `<td>${accountCell(row)}</td>`,
    `<td class="mono">${escapeHtml(row.region ?? "-")}</td>`,
    `<td class="mono">${escapeHtml(row.actor ?? "-")}</td>`,
    `<td class="mono">${escapeHtml(row.eventTime ?? "-")}</td>`,
    `<td>${escapeHtml(row.eventName ?? "-")}</td>`,
    `<td>${escapeHtml(wouldDo(row))}</td>`,
    `<td>${escapeHtml(row.reasons.join(", ") || "-")}<div class="muted">${escapeHtml(row.summary ?? "")}</div></td>`,
    `<td class="mono small">${escapeHtml(`${row.source.file}#${row.source.index}`)}</td>`,
  ];
  const data = [
    `data-order="${order}"`,
    `data-severity="${SEVERITIES.indexOf(severity)}"`,
    `data-key="${escapeHtml(row.key ?? "")}"`,
    `data-actor="${escapeHtml(row.actor ?? "")}"`,
    `data-time="${escapeHtml(row.eventTime ?? "")}"`,
  ];
  return `<tr ${data.join(" ")}>${cells.join("")}</tr>`;
}

/** Sorting by a clicked header: severity, key, actor or time; a second click reverses it. */
const SCRIPT = `(() => {
  const body = document.querySelector("#findings tbody");
  let current = "", ascending = true;
  for (const th of document.querySelectorAll("#findings th[data-sort]")) {
    th.addEventListener("click", () => {
      const field = th.dataset.sort;
      ascending = field === current ? !ascending : true;
      current = field;
      const rows = [...body.rows];
      const value = (r) => r.dataset[field] ?? "";
      rows.sort((a, b) => {
        const x = value(a), y = value(b);
        const c = field === "severity" ? Number(x) - Number(y) : x.localeCompare(y);
        return (ascending ? c : -c) || Number(a.dataset.order) - Number(b.dataset.order);
      });
      for (const r of rows) body.appendChild(r);
      for (const h of document.querySelectorAll("#findings th[data-sort]"))
        h.setAttribute("aria-sort", h === th ? (ascending ? "ascending" : "descending") : "none");
    });
  }
})();`;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330}
h1{font-size:20px;margin:0 0 4px}.muted{color:#667085;font-size:12px}
table{border-collapse:collapse;width:100%;margin-top:12px}th,td{border-bottom:1px solid #e4e7ec;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f7;position:sticky;top:0}th[data-sort]{cursor:pointer;text-decoration:underline dotted}
.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}.small{font-size:11px}
.sev{color:#fff;border-radius:3px;padding:1px 6px;font-size:11px;font-weight:600}
${SEVERITIES.map((s) => `.sev-${s}{background:${COLORS[s]}}`).join("")}
.axis{font-size:10px;fill:#667085}.legend span{margin-right:12px}`;

/** The report page. */
export function renderReport(rows: readonly ReportRow[], meta: ReportMeta): string {
  const ordered = [...rows].sort(
    (a, b) =>
      severityRank(a.severity ?? "info") - severityRank(b.severity ?? "info") ||
      (a.eventTime ?? "").localeCompare(b.eventTime ?? ""),
  );
  const counts = SEVERITIES.map((s) => [s, rows.filter((r) => r.severity === s).length] as const).filter(
    ([, n]) => n > 0,
  );
  const title = meta.title ?? "kms-responder triage report";
  const summary = counts.length ? counts.map(([s, n]) => `${n} ${s}`).join(", ") : "no findings";
  const legend = SEVERITIES.map(
    (s) =>
      `<span><svg width="10" height="10"><rect width="10" height="10" fill="${COLORS[s]}"/></svg> ${s}</span>`,
  ).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Generated ${escapeHtml(meta.generatedAt.toISOString())} from ${escapeHtml(meta.inputs.join(", "))}${meta.records !== undefined ? ` (${meta.records} records read)` : ""}. ${escapeHtml(meta.note ?? "A dry run: what the responders would have done; nothing was called on AWS.")}</p>
<p id="summary"><strong>${rows.length} finding${rows.length === 1 ? "" : "s"}</strong>: ${escapeHtml(summary)}</p>
<h2>Findings per day</h2>
<div class="legend muted">${legend}</div>
${timelineSvg(rows)}
<h2>Findings</h2>
<table id="findings">
<thead><tr><th data-sort="severity" aria-sort="none">Severity</th><th>Incident</th><th data-sort="key" aria-sort="none">Key</th><th>Account</th><th>Region</th><th data-sort="actor" aria-sort="none">Actor</th><th data-sort="time" aria-sort="none">Time (UTC)</th><th>Event</th><th>Would do</th><th>Reasons</th><th>Source</th></tr></thead>
<tbody>
${ordered.map((r, i) => tableRow(r, i)).join("\n")}
</tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Writes the report. @throws when the file cannot be written (the caller reports it). */
export async function writeReport(file: string, rows: readonly ReportRow[], meta: ReportMeta): Promise<void> {
  await writeFile(file, renderReport(rows, meta), "utf8");
}
