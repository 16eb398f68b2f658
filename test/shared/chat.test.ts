/**
 * The chat message against Amazon Q Developer in chat applications' custom notification schema
 * (required fields, types, our size limits), and the publisher's chat failure policy.
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { previewNotification } from "../../cli/preview.js";
import { DETAIL_PARSERS, INCIDENTS } from "../../functions/registry.js";
import { CHAT_LIMITS, type ChatMessage, chatMessage } from "../../functions/shared/chat.js";
import { parseConfig } from "../../functions/shared/config.js";
import { normalise } from "../../functions/shared/event.js";
import type { NotificationDocument } from "../../functions/shared/notify.js";
import { decideAny } from "../../functions/shared/route.js";
import { coldStart, fakeKey, TOPIC_ARN } from "../handlers/harness.js";
import { loadEvent } from "../helpers/fixtures.js";

const CHAT_TOPIC = "arn:aws:sns:us-east-1:111122223333:kms-responder-chat";
const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/5d6e7f8a-9b0c-4dbe-82f3-a4b5c6d7e8f9";

/** The custom notification schema: what the chat service accepts; anything else it drops. */
function schemaProblems(value: unknown): string[] {
  const problems: string[] = [];
  const m = value as Partial<ChatMessage> & Record<string, unknown>;
  const allowedTop = new Set(["version", "source", "id", "content", "metadata"]);
  for (const k of Object.keys(m)) if (!allowedTop.has(k)) problems.push(`unknown field ${k}`);
  if (m.version !== "1.0") problems.push("version must be 1.0");
  if (m.source !== "custom") problems.push("source must be custom");
  if (m.id !== undefined && typeof m.id !== "string") problems.push("id must be a string");
  const c = m.content;
  if (!c || typeof c !== "object") return [...problems, "content is required"];
  problems.push(...contentProblems(c));
  if (m.metadata !== undefined) {
    for (const k of Object.keys(m.metadata)) {
      if (k !== "threadId" && k !== "summary") problems.push(`unknown metadata ${k}`);
    }
  }
  return problems;
}

/** The schema's rules for `content`. */
function contentProblems(c: Partial<ChatMessage["content"]>): string[] {
  const problems: string[] = [];
  if (c.textType !== "client-markdown") problems.push("textType must be client-markdown");
  if (typeof c.description !== "string" || c.description.length === 0)
    problems.push("description is required");
  if (typeof c.title !== "string") problems.push("title must be a string");
  if ((c.title ?? "").length > CHAT_LIMITS.title) problems.push("title too long");
  if ((c.description ?? "").length > CHAT_LIMITS.description) problems.push("description too long");
  const strings = (list: unknown, max: number, count: number, name: string) => {
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string"))
      problems.push(`${name} must be strings`);
    else if (list.length > count || list.some((s: string) => s.length > max))
      problems.push(`${name} too long`);
  };
  strings(c.nextSteps, CHAT_LIMITS.nextStep, CHAT_LIMITS.nextSteps, "nextSteps");
  strings(c.keywords, CHAT_LIMITS.keyword, CHAT_LIMITS.keywords, "keywords");
  return problems;
}

function documentOf(
  variant: string,
  config = parseConfig({ mode: "enforce" }),
): {
  subject: string;
  document: NotificationDocument;
} {
  const event = normalise(loadEvent(variant), DETAIL_PARSERS);
  if (!event) throw new Error("fixture did not normalise");
  const decision = decideAny(INCIDENTS, event, config);
  if (decision.kind !== "finding") throw new Error(decision.why);
  const n = previewNotification(decision, config.accountNames);
  return { subject: n.subject, document: n.document };
}

describe("chat message", () => {
  it("follows the custom notification schema: title with severity and named account, undo and console links as next steps", () => {
    // Prepare
    const config = parseConfig({ mode: "enforce", accountNames: { "111122223333": "payments-prod" } });
    const { subject, document } = documentOf("rogue-grant/external-grantee", config);

    // Act
    const message = chatMessage(subject, document);

    // Assess
    expect(schemaProblems(JSON.parse(JSON.stringify(message)))).toEqual([]);
    expect(message.content.title).toBe("CRITICAL Rogue KMS grant in 111122223333 (payments-prod)/us-east-1");
    expect(message.content.description).toContain("*What was done:*");
    expect(message.content.description).toContain("revoke-grant");
    expect(message.content.nextSteps[0]).toMatch(/^Undo \(.*\): aws kms create-grant /);
    expect(message.content.nextSteps.at(-2)).toMatch(/^Key in the KMS console: https:\/\/us-east-1\.console/);
    expect(message.content.nextSteps.at(-1)).toMatch(/^CloudTrail event: https:\/\//);
    expect(message.content.keywords).toEqual([
      "critical",
      "rogue-grant",
      "remediated",
      "payments-prod",
      "us-east-1",
    ]);
    expect(message.metadata).toEqual({ summary: subject, threadId: document.key.arn });
  });

  it("stays within the limits for huge free text and many undo steps, keeping the console links", () => {
    // Prepare
    const { subject, document } = documentOf("rogue-grant/external-grantee");
    const step = { action: "revoke-grant" as const, when: "w".repeat(3000), command: "aws kms x" };
    const big: NotificationDocument = {
      ...document,
      title: "t ".repeat(400),
      summary: "s ".repeat(5000),
      undoSteps: Array.from({ length: 30 }, () => step),
    };

    // Act
    const message = chatMessage(subject, big);

    // Assess
    expect(schemaProblems(message)).toEqual([]);
    expect(message.content.nextSteps).toHaveLength(CHAT_LIMITS.nextSteps);
    expect(message.content.nextSteps.at(-1)).toMatch(/^CloudTrail event: /);
  });

  it("escapes markdown in free text so a key description cannot format or link", () => {
    // Prepare
    const { subject, document } = documentOf("rogue-grant/external-grantee");

    // Act
    const message = chatMessage(subject, { ...document, summary: "*bold* [x](http://evil) `code`\nline" });

    // Assess
    expect(message.content.description).toContain("\\*bold\\* \\[x\\](http://evil) \\`code\\`\\\\nline");
  });
});

describe("the publisher with a chat topic", () => {
  const kms = mockClient(KMSClient);
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    kms.reset();
    sns.reset();
  });
  afterEach(() => vi.unstubAllEnvs());

  it("publishes the notification to the main topic, then the chat message to the chat topic", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, rotation: false });
    sns.on(PublishCommand).resolves({ MessageId: "m" });
    vi.stubEnv("CHAT_TOPIC_ARN", CHAT_TOPIC);
    const handler = await coldStart("key-rotation-disabled");

    // Act
    const result = await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    const calls = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.TopicArn)).toEqual([TOPIC_ARN, CHAT_TOPIC]);
    expect(calls[1]?.MessageStructure).toBeUndefined();
    expect(schemaProblems(JSON.parse(calls[1]?.Message ?? "{}"))).toEqual([]);
    expect(result.outcome).toBe("remediated");
  });

  it("a failed chat publish neither fails the invocation nor holds back the notification or the action", async () => {
    // Prepare
    const key = fakeKey(kms, { arn: KEY_ARN, rotation: false });
    sns.on(PublishCommand).resolves({ MessageId: "m" });
    sns.on(PublishCommand, { TopicArn: CHAT_TOPIC }).rejects(new Error("chat topic gone"));
    vi.stubEnv("CHAT_TOPIC_ARN", CHAT_TOPIC);
    const handler = await coldStart("key-rotation-disabled");

    // Act
    const result = await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    expect(key.rotation).toBe(true);
    expect(result).toMatchObject({ outcome: "remediated", notificationId: "m" });
    expect(sns.commandCalls(PublishCommand, { TopicArn: TOPIC_ARN })).toHaveLength(1);
  });

  it("without a chat topic, only the main topic gets a message", async () => {
    // Prepare
    fakeKey(kms, { arn: KEY_ARN, rotation: false });
    sns.on(PublishCommand).resolves({ MessageId: "m" });
    const handler = await coldStart("key-rotation-disabled");

    // Act
    await handler(loadEvent("key-rotation-disabled/disable-rotation"));

    // Assess
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual([TOPIC_ARN]);
  });
});

describe("config chat", () => {
  it.each([
    [{ slack: { workspaceId: "T0123ABCD", channelId: "C0123ABCD" } }],
    [
      {
        teams: {
          teamId: "a1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d",
          tenantId: "b1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d",
          channelId: "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
        },
      },
    ],
  ])("accepts %j", (chat) => {
    expect(parseConfig({ chat }).chat).toEqual(chat);
  });

  it.each([
    [{ slack: { workspaceId: "t-lower", channelId: "C1" } }, "chat.slack.workspaceId"],
    [{ slack: { workspaceId: "T1", channelId: "#general" } }, "chat.slack.channelId"],
    [
      {
        teams: {
          teamId: "x",
          tenantId: "b1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d",
          channelId: "19:a@thread.tacv2",
        },
      },
      "chat.teams.teamId",
    ],
    [{}, "chat: must name exactly one"],
    [{ slack: { workspaceId: "T1", channelId: "C1" }, teams: {} }, "chat.teams.teamId"],
  ])("refuses %j naming %s", (chat, named) => {
    expect(() => parseConfig({ chat })).toThrow(named);
  });
});
