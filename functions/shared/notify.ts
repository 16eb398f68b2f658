/**
 * Notifications: one SNS message per finding, published after the actions ran.
 *
 * - Subject: printable ASCII, at most 99 characters, severity first (SNS rejects longer ones).
 * - `MessageStructure: "json"`: readable text for `default`/`email`, a versioned JSON document
 *   for `sqs`/`lambda`/`https`.
 * - Message attributes `severity`, `incident`, `outcome` for subscription filter policies.
 * - The whole message stays under SNS's 256 KB: long fields (policies, raw values) are cut
 *   deliberately and the document says so (`truncated: true`).
 */
import type { ActionResult, UndoWhere } from "./actions/action.js";
import { ACTIONS } from "./actions/index.js";
import { partitionOfRegion } from "./arn.js";
import type { Finding } from "./decision.js";
import { actorPrincipal } from "./event.js";
import { remediationActivity } from "./ocsf.js";
import type { ActionType, Severity } from "./types.js";

export const NOTIFICATION_SCHEMA = "kms-responder/notification/v1";
export const MAX_SUBJECT = 99;
/** SNS's limit is 262,144 bytes for the message; keep a margin for attributes and the subject. */
export const MAX_MESSAGE_BYTES = 250_000;

export type Outcome =
  | "remediated"
  | "already-remediated"
  | "failed"
  | "pending-approval"
  | "dry-run"
  | "skipped"
  | "notified";

/**
 * Who asked for a manual (runbook) action, and why. `executedBy` is the identity SSM recorded for
 * the automation execution (trusted); `statedBy` is what the caller typed (shown as "stated by").
 */
export interface ManualRequest {
  /** When the request was run (ISO 8601). */
  at?: string;
  executedBy?: string;
  statedBy?: string;
  reason: string;
  ticket?: string;
}

/** What the responder read about the key for the reader (after acting); unknown offline. */
export interface KeyInfo {
  aliases?: string[];
  description?: string;
}

export interface NotificationInput {
  finding: Finding;
  results: readonly ActionResult[];
  /** The key's aliases and description, when read. */
  keyInfo?: KeyInfo;
  request?: ManualRequest;
  /** Extra facts for the JSON document (e.g. offending policy statements); truncated to fit. */
  extra?: Record<string, unknown>;
  /** Account id -> name (config `accountNames`, or the organisation's), shown beside the id. */
  accountNames?: Readonly<Record<string, string>>;
}

/** The account a finding is about: its key's, else its custom key store's, else the caller's. */
export function findingAccount(finding: Finding): string | undefined {
  return finding.key?.account ?? finding.store?.account ?? finding.event?.accountId;
}

/** `111122223333 (payments-prod)`, or the id alone when it has no name. */
export function accountLabel(
  account: string | undefined,
  names: Readonly<Record<string, string>> = {},
): string {
  if (!account) return "?";
  const name = names[account];
  return name ? `${account} (${name})` : account;
}

export interface NotificationDocument {
  schema: typeof NOTIFICATION_SCHEMA;
  incident: string;
  severity: Severity;
  reasons: string[];
  title: string;
  summary: string;
  outcome: Outcome;
  key: {
    arn?: string;
    id?: string;
    alias?: string;
    aliases?: string[];
    description?: string;
    account?: string;
    /** The account's name (config `accountNames`, or the organisation's), when it has one. */
    accountName?: string;
    region?: string;
  };
  actor: { type?: string; arn?: string; principal?: string; invokedBy?: string; mfaAuthenticated?: boolean };
  event: {
    id?: string;
    name?: string;
    time?: string;
    sourceIp?: string;
    userAgent?: string;
    errorCode?: string;
    errorMessage?: string;
  };
  details: string[];
  actions: Array<Omit<ActionResult, "keyRef">>;
  /** The undo commands, in the order to run them (also in `undoSteps` with when each applies). */
  undo: string[];
  /** Each undo command with the condition under which it applies, in a safe order. */
  undoSteps: UndoStep[];
  links: { key?: string; store?: string; cloudTrail?: string };
  /** The custom key store the finding is about, when it is about a store rather than a key. */
  customKeyStore?: { id: string; name?: string };
  /** The responder's own resource the finding is about (a tampering finding), rather than a key. */
  resource?: { kind: string; name: string };
  request?: ManualRequest;
  /** How the current state compared with the event's claim (codes such as `grant-gone`). */
  verdicts?: string[];
  extra?: Record<string, unknown>;
  /** Each action taken, as an OCSF Remediation Activity (class 7001), for Security Lake and the like. */
  ocsf?: Record<string, unknown>[];
  truncated: boolean;
}

export interface Notification {
  subject: string;
  text: string;
  document: NotificationDocument;
  /** The SNS `Message` with `MessageStructure: "json"`. */
  message: string;
  attributes: Record<"severity" | "incident" | "outcome", { DataType: "String"; StringValue: string }>;
}

export function outcomeOf(results: readonly ActionResult[]): Outcome {
  const has = (s: ActionResult["status"]) => results.some((r) => r.status === s);
  if (has("failed")) return "failed";
  if (has("pending-approval")) return "pending-approval";
  if (has("succeeded")) return "remediated";
  if (has("already-done")) return "already-remediated";
  if (has("dry-run")) return "dry-run";
  if (has("skipped")) return "skipped";
  return "notified";
}

function outcomePhrase(outcome: Outcome, results: readonly ActionResult[]): string {
  const first = results.find((r) => r.status === "succeeded" || r.status === "already-done");
  switch (outcome) {
    case "failed":
      return "ACTION FAILED";
    case "remediated":
      return first ? ACTIONS[first.type].done : "remediated";
    case "already-remediated":
      return "already remediated";
    case "pending-approval":
      return "approval requested";
    case "dry-run":
      return "dry run, no change";
    case "skipped":
      return "no automatic action";
    case "notified":
      return "for review";
  }
}

/** Printable ASCII, one line. */
function asciiLine(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]/g, "?")
    .replace(/\s+/g, " ")
    .trim();
}

/** Cuts at a word boundary to at most `max` characters, marking the cut with "...". */
export function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = text.slice(0, Math.max(0, max - 3));
  // When the cut falls just before a space, the last word fits whole: keep it.
  const space = text[room.length] === " " ? room.length : room.lastIndexOf(" ");
  const cut = space > max / 3 ? room.slice(0, space) : room;
  return `${cut.replace(/[\s,;:.-]+$/, "")}...`;
}

/** Printable ASCII only (SNS subject rule), no line breaks, at most 99 characters, cut between words. */
export function sanitiseSubject(text: string): string {
  return cutAtWord(asciiLine(text), MAX_SUBJECT);
}

/** The shortest a title is cut to before the subject gives up the account's name. */
const MIN_TITLE = 16;

function subjectOf(
  finding: Finding,
  outcome: Outcome,
  results: readonly ActionResult[],
  names: Readonly<Record<string, string>> = {},
): string {
  const event = finding.event;
  const keyId = finding.key?.id;
  const store = finding.store;
  // A custom key store's events name the store, no key: the subject names the store instead.
  const changed = finding.resource;
  const shortKey = store
    ? `store ${asciiLine(store.id).slice(0, 24)}`
    : changed
      ? asciiLine(`${changed.kind} ${changed.short ?? changed.name}`).slice(0, 27)
      : `key ${asciiLine(keyId ? keyId.slice(0, 8) : (event?.keyHint ?? "unknown")).slice(0, 24)}`;
  const account = finding.key?.account ?? store?.account ?? event?.accountId;
  const region = finding.key?.region ?? store?.region ?? event?.region ?? "?";
  // Severity, what was done, the key, its account and its Region always stay: on call for many
  // accounts, "where" decides who is paged. When the subject is too long, the title (the incident's
  // description, which the body has) is cut first, between words; then the account's name goes;
  // the account id and the Region go only when even a cut title cannot make room.
  const severity = `[${finding.severity.toUpperCase()}]`;
  const done = asciiLine(outcomePhrase(outcome, results));
  const title = asciiLine(finding.title);
  const tails = [
    `: ${shortKey} in ${asciiLine(accountLabel(account, names))}/${region}`,
    `: ${shortKey} in ${account ?? "?"}/${region}`,
    `: ${shortKey}`,
  ];
  for (const tail of tails) {
    const room = MAX_SUBJECT - `${severity} , ${done}${tail}`.length;
    if (title.length <= room) return sanitiseSubject(`${severity} ${title}, ${done}${tail}`);
    if (room >= MIN_TITLE) return sanitiseSubject(`${severity} ${cutAtWord(title, room)}, ${done}${tail}`);
  }
  const short = tails[2] ?? "";
  const room = MAX_SUBJECT - `${severity} , ${done}${short}`.length;
  return sanitiseSubject(`${severity} ${cutAtWord(title, Math.max(room, 4))}, ${done}${short}`);
}

/** Where the undo commands run: the key's Region (else the event's) as a `--region` argument. */
function undoWhere(finding: Finding): UndoWhere {
  const region = finding.key?.region ?? finding.event?.region;
  return { finding, region: region ? ` --region ${region}` : "" };
}

/** The CLI command that undoes what an action did, or undefined when there is nothing to undo. */
export function undoCommand(result: ActionResult, finding: Finding): string | undefined {
  if (result.status !== "succeeded") return undefined;
  return ACTIONS[result.type].undo?.command(result, undoWhere(finding));
}

/** One undo command and when it applies. */
export interface UndoStep {
  /** The action it undoes, or `manual` for what the event did that no action could undo. */
  action: ActionType | "manual";
  when: string;
  command: string;
}

/**
 * The undo commands in a safe order, each with the condition under which it applies. The least
 * disruptive steps come first; a key disabled for its policy is re-enabled only after the policy
 * is fixed (re-enabling it as it is re-exposes it); a deletion is scheduled again only last.
 */
export function undoSteps(results: readonly ActionResult[], finding: Finding): UndoStep[] {
  const where = undoWhere(finding);
  const steps = results.flatMap((result) => {
    const undo = ACTIONS[result.type].undo;
    const drafts = undo ? undo.steps(result, where, undoCommand(result, finding)) : [];
    return drafts.map((d) => ({ action: result.type, ...d }));
  });
  const sorted = steps.sort((a, b) => a.order - b.order).map(({ order: _o, ...step }): UndoStep => step);
  return [...sorted, ...(finding.undo ?? []).map((u): UndoStep => ({ action: "manual", ...u }))];
}

/** The AWS console's host for a Region, by partition. */
function consoleHost(region: string): string {
  const partition = partitionOfRegion(region);
  if (partition === "aws-cn") return `https://${region}.console.amazonaws.cn`;
  if (partition === "aws-us-gov") return "https://console.amazonaws-us-gov.com";
  return `https://${region}.console.aws.amazon.com`;
}

function links(finding: Finding): NotificationDocument["links"] {
  const event = finding.event;
  const region = finding.key?.region ?? event?.region;
  if (!region) return {};
  const out: NotificationDocument["links"] = {};
  const keyId = finding.key?.id;
  if (keyId) out.key = `${consoleHost(region)}/kms/home?region=${region}#/kms/keys/${keyId}`;
  if (finding.store) out.store = `${consoleHost(region)}/kms/home?region=${region}#/kms/custom-key-stores`;
  // The event is in the Region where the call was made (a replica's key may live elsewhere).
  const trail = event?.region ?? region;
  if (event?.eventId)
    out.cloudTrail = `${consoleHost(trail)}/cloudtrailv2/home?region=${trail}#/events/${event.eventId}`;
  return out;
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function documentOf(input: NotificationInput): NotificationDocument {
  const { finding, results } = input;
  const call = finding.event;
  const key = finding.key;
  const doc: NotificationDocument = {
    schema: NOTIFICATION_SCHEMA,
    incident: finding.incident,
    severity: finding.severity,
    reasons: finding.reasons,
    title: finding.title,
    summary: finding.summary,
    outcome: outcomeOf(results),
    key: compact({
      arn: key?.arn,
      id: key?.id,
      alias: key?.alias ?? (call?.keyHint?.startsWith("alias/") ? call.keyHint : undefined),
      account: findingAccount(finding),
      accountName: input.accountNames?.[findingAccount(finding) ?? ""],
      region: key?.region ?? finding.store?.region ?? call?.region,
      aliases: input.keyInfo?.aliases,
      description: input.keyInfo?.description,
    }),
    actor: call
      ? compact({
          type: call.actor.type,
          arn: call.actor.arn,
          principal: actorPrincipal(call.actor),
          invokedBy: call.actor.invokedBy,
          mfaAuthenticated: call.actor.mfaAuthenticated,
        })
      : compact({ type: "Runbook", arn: input.request?.executedBy, principal: input.request?.executedBy }),
    event: call
      ? compact({
          id: call.eventId,
          name: call.eventName,
          time: call.eventTime,
          sourceIp: call.sourceIp,
          userAgent: call.userAgent,
          errorCode: call.errorCode,
          errorMessage: call.errorMessage,
        })
      : compact({ name: finding.title, time: input.request?.at }),
    details: finding.details,
    actions: results.map(({ keyRef: _keyRef, ...rest }) => rest),
    undo: [],
    undoSteps: [],
    links: links(finding),
    truncated: false,
  };
  doc.undoSteps = undoSteps(results, finding);
  doc.undo = doc.undoSteps.map((s) => s.command);
  if (finding.store) doc.customKeyStore = compact({ id: finding.store.id, name: finding.store.name });
  if (finding.resource) doc.resource = { kind: finding.resource.kind, name: finding.resource.name };
  if (input.request) doc.request = input.request;
  if (finding.verdicts?.length) doc.verdicts = finding.verdicts;
  if (input.extra) doc.extra = input.extra;
  if (results.length) doc.ocsf = ocsfActions(input, doc);
  return doc;
}

/** The actions as OCSF Remediation Activities, timed now (when they ended). */
function ocsfActions(input: NotificationInput, doc: NotificationDocument): Record<string, unknown>[] {
  const finding = {
    uid: input.finding.event?.eventId ?? doc.key.arn ?? doc.key.id ?? "unknown",
    incident: doc.incident,
    severity: doc.severity,
    account: doc.key.account,
    accountName: doc.key.accountName,
    region: doc.key.region,
  };
  const now = Date.now();
  return input.results.map((r) => remediationActivity(r, finding, now));
}

/**
 * The user agent as a person reads it: the first product token (`aws-cli/2.22.4`, `Boto3/1.35.0`,
 * `console.amazonaws.com`) and the CLI command when the agent names one (`md/command#kms.create-grant`);
 * the rest (OS, language, retry mode, ...) is in the JSON document. At most 80 characters.
 */
export function shortUserAgent(userAgent: string): string {
  const trimmed = userAgent.trim().replace(/^\[(.*)\]$/, "$1");
  const first = trimmed.split(/\s+/, 1)[0] ?? "";
  const command = /\bmd\/command#([\w.-]+)/.exec(trimmed)?.[1];
  const short = command ? `${first} ${command}` : first;
  return short.length > 80 ? `${short.slice(0, 79)}…` : short;
}

/** The readable text body (`default`/`email`) of a notification's document. */
export function notificationText(subject: string, doc: NotificationDocument): string {
  const lines: string[] = [
    subject,
    "",
    `What happened: ${doc.summary}.`,
    `Incident: ${doc.incident}   Severity: ${doc.severity}   Reasons: ${doc.reasons.join(", ")}`,
    ...requestLines(doc),
    "",
    ...keyLines(doc),
    ...eventLines(doc),
  ];
  if (doc.details.length) lines.push("", "Details:", ...doc.details.map((d) => `  - ${d}`));
  lines.push("", "What was done:", ...actionLines(doc), `Outcome: ${doc.outcome}`);
  lines.push(...undoLines(doc), ...linkLines(doc));
  if (doc.truncated) lines.push("", "(Some fields were shortened to fit the 256 KB SNS limit.)");
  // Each entry is one line by construction; free text inside it (a key description, an alias, a
  // user agent, a grantee) must not start a line of its own ("Outcome: remediated").
  return lines.map(oneLine).join("\n");
}

/** Who asked for a manual request, and why; nothing for an automatic response. */
function requestLines(doc: NotificationDocument): string[] {
  const r = doc.request;
  if (!r) return [];
  const lines = [`Run by: ${r.executedBy ?? "unknown (not run through SSM Automation)"}`];
  if (r.statedBy) lines.push(`Stated by: ${r.statedBy} (as typed by the caller, not verified)`);
  lines.push(`Reason: ${r.reason}${r.ticket ? `   Ticket: ${r.ticket}` : ""}`);
  return lines;
}

function keyLines(doc: NotificationDocument): string[] {
  const aliases = doc.key.aliases ?? (doc.key.alias ? [doc.key.alias] : []);
  const account = doc.key.accountName
    ? `${doc.key.account} (${doc.key.accountName})`
    : (doc.key.account ?? "?");
  const store = doc.customKeyStore;
  const subject = store
    ? [`Custom key store: ${store.id}${store.name ? ` (${store.name})` : ""}`]
    : doc.resource
      ? [`Resource changed: the responder's ${doc.resource.kind} ${doc.resource.name}`]
      : [
          `Key: ${doc.key.arn ?? doc.key.id ?? doc.key.alias ?? "unknown"}${aliases.length ? ` (${aliases.join(", ")})` : ""}`,
          `Description: ${doc.key.description === undefined ? "(unknown)" : doc.key.description || "(none)"}`,
        ];
  return [...subject, `Account/Region: ${account} / ${doc.key.region ?? "?"}`];
}

/** Who called, from where, when, and the event (with its error, if the call failed). */
function eventLines(doc: NotificationDocument): string[] {
  const lines = [
    `Who: ${doc.actor.arn ?? doc.actor.principal ?? "unknown"}${doc.actor.type ? ` (${doc.actor.type})` : ""}${doc.actor.invokedBy ? ` via ${doc.actor.invokedBy}` : ""}`,
    `From: ${doc.event.sourceIp ?? "unknown"}${doc.event.userAgent ? ` (${shortUserAgent(doc.event.userAgent)})` : ""}`,
    `When: ${doc.event.time ?? "unknown"}`,
    `Event: ${doc.event.name ?? "?"} ${doc.event.id ?? ""}`.trimEnd(),
  ];
  if (doc.event.errorCode) lines.push(`Error: ${doc.event.errorCode}: ${doc.event.errorMessage ?? ""}`);
  return lines;
}

function actionLines(doc: NotificationDocument): string[] {
  if (doc.actions.length === 0) return ["  - nothing (notification only)"];
  return doc.actions.flatMap((a) => {
    const verified = a.verified === true ? ", verified" : a.verified === false ? ", NOT verified yet" : "";
    // A detail in parentheses qualifies the status ("(assumed: ...)"), it is not a sentence of its own.
    const detail = a.detail.startsWith("(") ? ` ${a.detail}` : a.detail ? `. ${a.detail}` : "";
    const line = `  - ${a.type} on ${a.target}: ${a.status.toUpperCase()}${verified}${detail}`;
    const impact =
      a.status === "succeeded" || a.status === "already-done" ? ACTIONS[a.type].impact : undefined;
    return impact ? [line, `    Impact: ${impact}`] : [line];
  });
}

function undoLines(doc: NotificationDocument): string[] {
  if (!doc.undoSteps.length) return [];
  return [
    "",
    "How to undo (in this order, each only when its condition holds):",
    ...doc.undoSteps.flatMap((step, i) => [`  ${i + 1}. ${step.when}:`, `     ${step.command}`]),
  ];
}

function linkLines(doc: NotificationDocument): string[] {
  if (!doc.links.key && !doc.links.store && !doc.links.cloudTrail) return [];
  const lines = ["", "Links:"];
  if (doc.links.key) lines.push(`  Key in the KMS console: ${doc.links.key}`);
  if (doc.links.store) lines.push(`  Custom key stores in the KMS console: ${doc.links.store}`);
  if (doc.links.cloudTrail) lines.push(`  CloudTrail event: ${doc.links.cloudTrail}`);
  return lines;
}

/**
 * One line of text as a reader sees it: line breaks and other control characters (C0, DEL, C1,
 * the Unicode line and paragraph separators) are shown as `\n`, `\u001b`... so free text cannot
 * forge lines or drive a terminal.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === "\n"
      ? "\\n"
      : c === "\r"
        ? "\\r"
        : c === "\t"
          ? " "
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Cuts every string longer than `max` characters, deeply, and long arrays and wide objects (an
 * encryption context, a parsed policy) to a number of entries that shrinks with `max`. Objects
 * keep at least 64 keys, so the document's own small objects (key, actor, actions) stay whole.
 * Keys are cut too: a policy statement or encryption context can carry a key of any length, and
 * an uncut one would keep the message over SNS's limit however short the values get.
 */
function truncateStrings(value: unknown, max: number): unknown {
  if (typeof value === "string") {
    return value.length > max ? `${value.slice(0, max)}... [truncated ${value.length - max} chars]` : value;
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, Math.max(8, max / 16)).map((v) => truncateStrings(v, max));
    if (value.length > items.length) items.push(`... [${value.length - items.length} more items truncated]`);
    return items;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    const kept = entries
      .slice(0, Math.max(64, max / 16))
      .map(([k, v], i) => [
        k.length > max ? `${k.slice(0, max)}... [truncated key #${i}]` : k,
        truncateStrings(v, max),
      ]);
    if (entries.length > kept.length)
      kept.push(["...", `[${entries.length - kept.length} more keys truncated]`]);
    return Object.fromEntries(kept);
  }
  return value;
}

function messageOf(text: string, doc: NotificationDocument): string {
  const json = JSON.stringify(doc);
  return JSON.stringify({ default: text, email: text, sqs: json, lambda: json, https: json });
}

/**
 * Builds the notification. Pure: the same input always gives the same output.
 * Oversized inputs are cut field by field (halving the longest string allowed) until the
 * message fits MAX_MESSAGE_BYTES; the facts that matter (incident, key, actor, outcome) are short
 * and survive.
 */
export function formatNotification(input: NotificationInput): Notification {
  let doc = documentOf(input);
  const subject = subjectOf(input.finding, doc.outcome, input.results, input.accountNames);
  let text = notificationText(subject, doc);
  let message = messageOf(text, doc);
  for (
    let max = 16_384;
    Buffer.byteLength(message, "utf8") > MAX_MESSAGE_BYTES && max >= 16;
    max = Math.floor(max / 2)
  ) {
    const cut = truncateStrings(
      { ...doc, schema: undefined, truncated: undefined },
      max,
    ) as Partial<NotificationDocument>;
    doc = { ...doc, ...cut, schema: NOTIFICATION_SCHEMA, truncated: true };
    text = notificationText(subject, doc);
    message = messageOf(text, doc);
  }
  return {
    subject,
    text,
    document: doc,
    message,
    attributes: {
      severity: { DataType: "String", StringValue: doc.severity },
      incident: { DataType: "String", StringValue: doc.incident },
      outcome: { DataType: "String", StringValue: doc.outcome },
    },
  };
}
