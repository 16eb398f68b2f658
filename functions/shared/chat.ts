/**
 * The chat message: what Amazon Q Developer in chat applications (formerly AWS Chatbot) posts to
 * Slack or Microsoft Teams. It renders only its own formats and silently drops anything else
 * (our JSON notification document included), so the chat topic receives its custom notification
 * schema: `version: "1.0"`, `source: "custom"`, `content` (`textType: "client-markdown"`, `title`,
 * a markdown `description`, `nextSteps`, `keywords`) and optional `metadata` (`threadId`,
 * `summary`).
 *
 * Limits are ours, chosen to stay well inside what both chat clients show without folding the
 * message: a title of 250 characters, a description of 3,000 (a Slack text block's limit), at most
 * 10 next steps of 1,000 characters and 10 keywords of 50. Longer text is cut between words.
 */
import type { NotificationDocument } from "./notify.js";
import { cutAtWord, oneLine } from "./notify.js";

export const CHAT_LIMITS = {
  title: 250,
  description: 3_000,
  nextSteps: 10,
  nextStep: 1_000,
  keywords: 10,
  keyword: 50,
  summary: 250,
} as const;

export interface ChatMessage {
  version: "1.0";
  source: "custom";
  id?: string;
  content: {
    textType: "client-markdown";
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata?: { threadId?: string; summary?: string };
}

/** Markdown's active characters in free text (an alias, a description) are shown as typed. */
function plain(text: string): string {
  return oneLine(text).replace(/[\\`*_~<>[\]|]/g, (c) => `\\${c}`);
}

function accountOf(doc: NotificationDocument): string {
  const id = doc.key.account ?? "?";
  return doc.key.accountName ? `${id} (${doc.key.accountName})` : id;
}

function descriptionOf(doc: NotificationDocument): string {
  const key = doc.key.arn ?? doc.key.id ?? doc.key.alias ?? "unknown";
  const aliases = doc.key.aliases ?? (doc.key.alias ? [doc.key.alias] : []);
  const lines = [
    `*What happened:* ${plain(doc.summary)}.`,
    `*Key:* \`${oneLine(key)}\`${aliases.length ? ` (${plain(aliases.join(", "))})` : ""}`,
    `*Account/Region:* ${plain(accountOf(doc))} / ${doc.key.region ?? "?"}`,
    `*Who:* ${plain(doc.actor.arn ?? doc.actor.principal ?? "unknown")}`,
    `*Event:* ${plain(doc.event.name ?? "?")} at ${doc.event.time ?? "unknown"}`,
    "*What was done:*",
  ];
  if (doc.actions.length === 0) lines.push("• nothing (notification only)");
  for (const a of doc.actions) lines.push(`• ${a.type} on ${plain(a.target)}: *${a.status.toUpperCase()}*`);
  lines.push(`*Outcome:* ${doc.outcome}`);
  return cutAtWord(lines.join("\n"), CHAT_LIMITS.description);
}

function nextStepsOf(doc: NotificationDocument): string[] {
  const undo = doc.undoSteps.map((s) => `Undo (${oneLine(s.when)}): ${oneLine(s.command)}`);
  const links: string[] = [];
  if (doc.links.key) links.push(`Key in the KMS console: ${doc.links.key}`);
  if (doc.links.cloudTrail) links.push(`CloudTrail event: ${doc.links.cloudTrail}`);
  // The console links come last and must survive: the undo steps are cut first when there are many
  // (the whole ordered list is in the email and JSON notification).
  const room = Math.max(0, CHAT_LIMITS.nextSteps - links.length);
  return [...undo.slice(0, room), ...links].map((s) => cutAtWord(s, CHAT_LIMITS.nextStep));
}

function keywordsOf(doc: NotificationDocument): string[] {
  const words = [
    doc.severity,
    doc.incident,
    doc.outcome,
    doc.key.accountName ?? doc.key.account,
    doc.key.region,
  ];
  return [...new Set(words.filter((w): w is string => Boolean(w)))]
    .slice(0, CHAT_LIMITS.keywords)
    .map((w) => cutAtWord(oneLine(w), CHAT_LIMITS.keyword));
}

/**
 * The chat message of a notification: the title has the severity and the account (with its name),
 * the description says what happened and what was done, the next steps are the undo commands and
 * the console links. Pure.
 */
export function chatMessage(subject: string, doc: NotificationDocument): ChatMessage {
  const title = `${doc.severity.toUpperCase()} ${doc.title} in ${accountOf(doc)}/${doc.key.region ?? "?"}`;
  const message: ChatMessage = {
    version: "1.0",
    source: "custom",
    content: {
      textType: "client-markdown",
      title: cutAtWord(oneLine(title), CHAT_LIMITS.title),
      description: descriptionOf(doc),
      nextSteps: nextStepsOf(doc),
      keywords: keywordsOf(doc),
    },
    metadata: { summary: cutAtWord(oneLine(subject), CHAT_LIMITS.summary) },
  };
  // One thread per key: later messages about the same key gather under the first.
  const thread = doc.key.arn ?? doc.key.id;
  if (thread && message.metadata) message.metadata.threadId = thread;
  if (doc.event.id) message.id = doc.event.id;
  return message;
}
