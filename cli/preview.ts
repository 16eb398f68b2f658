/**
 * `kms-responder preview EVENT...`: what subscribers would receive for recorded events, offline.
 * The same `decideAny` as triage and the same `formatNotification` as the handlers, with every
 * planned action assumed to succeed (a held action keeps its hold status, as the pipeline reports
 * it, and a record whose accounts disagree holds every action, as the handler does). What only AWS
 * knows (the key's aliases and description, its state now) is left out, so the notification shows
 * it as unknown.
 */
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DETAIL_PARSERS, INCIDENTS } from "../functions/registry.js";
import { type ActionResult, base } from "../functions/shared/actions/action.js";
import { chatMessage } from "../functions/shared/chat.js";
import type { Finding, PlannedAction } from "../functions/shared/decision.js";
import { normalise } from "../functions/shared/event.js";
import { formatNotification, type Notification, oneLine } from "../functions/shared/notify.js";
import { heldFinding, inconsistentRecordHold } from "../functions/shared/provenance.js";
import { decideAny } from "../functions/shared/route.js";
import { loadConfigFile } from "./config-file.js";
import { type CliIo, UsageError } from "./io.js";
import { type RecordEntry, readRecords } from "./read-records.js";

export const PREVIEW_BANNER =
  "Preview: what subscribers would receive if every planned action succeeded (offline; what only AWS knows is shown as unknown).";

/** The result the pipeline would report for an action that worked (or its hold, for a held one). */
export function assumedResult(action: PlannedAction): ActionResult {
  if (action.hold) {
    const held: ActionResult = { ...base(action), status: action.hold.status, detail: action.hold.why };
    return action.hold.status === "failed" ? { ...held, error: action.hold.why } : held;
  }
  const result: ActionResult = {
    ...base(action),
    status: "succeeded",
    detail: "(assumed: a preview performs nothing)",
  };
  if (action.previousPolicy !== undefined) result.previousPolicy = action.previousPolicy;
  if (action.grant !== undefined) result.grant = action.grant;
  return result;
}

/** The notification a finding would produce if its actions succeeded. */
export function previewNotification(
  finding: Finding,
  accountNames: Readonly<Record<string, string>> = {},
): Notification {
  return formatNotification({ finding, results: finding.actions.map(assumedResult), accountNames });
}

type Preview = { source: string; notification: Notification } | { source: string; none: string };

function sourceOf(entry: RecordEntry): string {
  return entry.index >= 0 ? `${entry.file}#${entry.index}` : entry.file;
}

function previewEntry(entry: RecordEntry, config: Parameters<typeof decideAny>[2]): Preview {
  const source = sourceOf(entry);
  if (entry.error !== undefined) return { source, none: `unreadable: ${entry.error}` };
  const event = normalise(entry.value, DETAIL_PARSERS);
  if (!event) return { source, none: "not a CloudTrail record or EventBridge event" };
  const decision = decideAny(INCIDENTS, event, config);
  if (decision.kind === "ignore") return { source, none: `${decision.skipped}: ${decision.why}` };
  // As the handler does: a record whose accounts disagree notifies with every action held.
  const finding = heldFinding(decision, inconsistentRecordHold(entry.value, event));
  return { source, notification: previewNotification(finding, config.accountNames) };
}

function human(p: Preview): string[] {
  // The text body is already one line per entry, control characters shown escaped (oneLine); the
  // file name and reason are neutralised here, so nothing read can drive the terminal.
  if ("none" in p) return [oneLine(`=== ${p.source}: no notification (${p.none})`), ""];
  const n = p.notification;
  const attributes = Object.entries(n.attributes)
    .map(([k, v]) => `${k}=${v.StringValue}`)
    .join(" ");
  return [
    oneLine(`=== ${p.source}`),
    `Subject: ${n.subject}`,
    `Message attributes: ${attributes}`,
    "",
    "--- text (email and default subscribers) ---",
    n.text,
    "",
    "--- JSON document (sqs, lambda and https subscribers) ---",
    JSON.stringify(n.document, null, 2),
    "",
  ];
}

type PreviewFormat = "text" | "json" | "chat";

function formatOf(values: { json?: boolean; format?: string }): PreviewFormat {
  const format = values.format ?? (values.json ? "json" : "text");
  if (format !== "text" && format !== "json" && format !== "chat") {
    throw new UsageError(`--format must be text, json or chat, not "${format}"`);
  }
  if (values.json && format !== "json") throw new UsageError(`--json and --format ${format} disagree`);
  return format;
}

function jsonLine(p: Preview): string {
  return JSON.stringify(
    "none" in p
      ? { source: p.source, notification: null, why: p.none }
      : {
          source: p.source,
          subject: p.notification.subject,
          text: p.notification.text,
          document: p.notification.document,
          attributes: Object.fromEntries(
            Object.entries(p.notification.attributes).map(([k, v]) => [k, v.StringValue]),
          ),
        },
  );
}

/**
 * The chat format: stdout is only the chat messages, one JSON document a line, exactly what the
 * chat topic receives; a record without a notification is said on stderr.
 */
function chatOutput(p: Preview, io: CliIo): void {
  if ("none" in p) io.err(oneLine(`${p.source}: no notification (${p.none})`));
  else io.out(JSON.stringify(chatMessage(p.notification.subject, p.notification.document)));
}

function output(p: Preview, format: PreviewFormat, io: CliIo): void {
  if (format === "chat") chatOutput(p, io);
  else if (format === "json") io.out(jsonLine(p));
  else for (const line of human(p)) io.out(line);
}

/** The `preview` command. Exit 0; 2 for a missing path or when not one record could be read. */
export async function previewCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      format: { type: "string" },
      config: { type: "string" },
    },
  });
  const format = formatOf(values);
  if (positionals.length === 0) throw new UsageError("preview needs at least one EVENT file");
  const config = await loadConfigFile(values.config);
  for (const p of positionals) {
    try {
      await access(p);
    } catch {
      throw new UsageError(`cannot read ${p}: no such file or directory, or not readable`);
    }
  }
  if (format === "text") io.out(PREVIEW_BANNER);
  let readable = 0;
  for await (const entry of readRecords(positionals)) {
    const p = previewEntry(entry, config);
    if (!("none" in p) || !p.none.startsWith("unreadable")) readable++;
    output(p, format, io);
  }
  if (readable === 0) {
    io.err(`kms-responder preview: no record could be read from the ${positionals.length} inputs given`);
    return 2;
  }
  return 0;
}
