/**
 * The key's DisableKey/EnableKey history from CloudTrail: the state before the event (the newest
 * change at or before it) and a DisableKey made since (only when it is the newest change after
 * the event). Failed calls changed nothing; a busy or unreadable history answers `unknown`.
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cloudTrailHistory } from "../../functions/shared/history.js";
import { readKeyHistory } from "../../functions/shared/history-cloudtrail.js";

const cloudTrailMock = mockClient(CloudTrailClient);
const cloudTrail = new CloudTrailClient({ region: "us-east-1" });

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const SCHEDULED_AT = "2026-11-28T18:31:12Z";

/** A LookupEvents entry; `errorCode` goes where CloudTrail puts it, in the CloudTrailEvent JSON. */
function entry(name: string, time: string, errorCode?: string) {
  return {
    EventName: name,
    EventTime: new Date(time),
    CloudTrailEvent: JSON.stringify({
      eventName: name,
      eventTime: time,
      ...(errorCode ? { errorCode } : {}),
    }),
  };
}

beforeEach(() => {
  cloudTrailMock.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("readKeyHistory: the state before the event", () => {
  it("looks the key up by ResourceName, 50 events a page, newest first (no EndTime: later changes count too)", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: [] });

    // Act
    await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(cloudTrailMock).toHaveReceivedCommandExactlyOnceWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: KEY_ARN }],
      MaxResults: 50,
    });
    expect(cloudTrailMock.commandCalls(LookupEventsCommand)[0]?.args[0].input.EndTime).toBeUndefined();
  });

  it("the newest of DisableKey/EnableKey at or before the event wins (events come newest first)", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("ScheduleKeyDeletion", SCHEDULED_AT),
        entry("DisableKey", "2026-11-27T00:00:00Z"),
        entry("EnableKey", "2026-11-20T00:00:00Z"),
      ],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({
      prior: {
        state: "disabled",
        detail: "the key was disabled before the event (DisableKey at 2026-11-27T00:00:00.000Z)",
      },
    });
  });

  it("a change at exactly the event's time is before it", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [entry("EnableKey", SCHEDULED_AT), entry("DisableKey", "2026-11-27T00:00:00Z")],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history.prior.state).toBe("enabled");
    expect(history).not.toHaveProperty("disabledSince");
  });

  it("without an event time (or an unreadable one) every change up to now is before it", async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-28T20:00:00Z"));
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolves({ Events: [entry("DisableKey", "2026-11-28T19:00:00Z")] });

    // Act
    const none = await readKeyHistory(cloudTrail, KEY_ARN, undefined);
    const unreadable = await readKeyHistory(cloudTrail, KEY_ARN, "not a date");

    // Assess
    for (const history of [none, unreadable]) {
      expect(history.prior.state).toBe("disabled");
      expect(history).not.toHaveProperty("disabledSince");
    }
  });

  it("reads further pages until it finds one, passing NextToken on", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [entry("Encrypt", "2026-11-28T10:00:00Z")], NextToken: "page-2" })
      .resolvesOnce({ Events: [entry("Decrypt", "2026-11-27T10:00:00Z")], NextToken: "page-3" })
      .resolvesOnce({ Events: [entry("EnableKey", "2026-11-26T10:00:00Z")], NextToken: "page-4" });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history.prior.state).toBe("enabled");
    const tokens = cloudTrailMock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input.NextToken);
    expect(tokens).toEqual([undefined, "page-2", "page-3"]);
  });

  it("skips failed calls (errorCode in the CloudTrailEvent JSON): a denied DisableKey changed nothing", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("DisableKey", "2026-11-27T00:00:00Z", "AccessDenied"),
        entry("EnableKey", "2026-11-20T00:00:00Z"),
      ],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history.prior.state).toBe("enabled");
  });

  it("counts an entry whose CloudTrailEvent is unreadable by its event name", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        {
          EventName: "DisableKey",
          EventTime: new Date("2026-11-27T00:00:00Z"),
          CloudTrailEvent: "{not json",
        },
      ],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history.prior.state).toBe("disabled");
  });

  it("no DisableKey/EnableKey in the whole history: the key was enabled (a new key starts Enabled)", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: [entry("CreateKey", "2026-10-01T00:00:00Z")] });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({
      prior: { state: "enabled", detail: expect.stringContaining("no DisableKey or EnableKey") },
    });
  });

  it("stops after 5 pages of a busy key and answers unknown", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolves({ Events: [entry("Decrypt", "2026-11-28T10:00:00Z")], NextToken: "more" });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 5);
    expect(history).toEqual({
      prior: { state: "unknown", detail: expect.stringContaining("newest 250 history events") },
    });
  });

  it("a history that cannot be read answers unknown with the error", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).rejects(new Error("AccessDeniedException: not authorized"));

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({
      prior: { state: "unknown", detail: expect.stringContaining("CloudTrail history could not be read") },
    });
    expect(history.prior.detail).toContain("not authorized");
  });

  it("an error on a later page also answers unknown, never a half-read prior", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [entry("Decrypt", "2026-11-28T10:00:00Z")], NextToken: "page-2" })
      .rejectsOnce(new Error("ThrottlingException: Rate exceeded"));

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({
      prior: { state: "unknown", detail: expect.stringContaining("Rate exceeded") },
    });
  });
});

describe("readKeyHistory: a DisableKey after the event", () => {
  it("the newest change after the event is a DisableKey: disabledSince, and the prior from before", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("DisableKey", "2026-11-29T09:00:00Z"),
        entry("EnableKey", "2026-11-29T08:00:00Z"),
        entry("ScheduleKeyDeletion", SCHEDULED_AT),
        entry("EnableKey", "2026-11-20T00:00:00Z"),
      ],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({
      prior: expect.objectContaining({ state: "enabled" }),
      disabledSince: "the key was disabled after the event (DisableKey at 2026-11-29T09:00:00.000Z)",
    });
  });

  it("an EnableKey newer than the DisableKey after the event: no disabledSince (the key was re-enabled)", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("EnableKey", "2026-11-29T10:00:00Z"),
        entry("DisableKey", "2026-11-29T09:00:00Z"),
        entry("DisableKey", "2026-11-20T00:00:00Z"),
      ],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({ prior: expect.objectContaining({ state: "disabled" }) });
  });

  it("a failed DisableKey after the event is ignored: the older EnableKey after it is the newest change", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("DisableKey", "2026-11-29T10:00:00Z", "AccessDeniedException"),
        entry("EnableKey", "2026-11-29T09:00:00Z"),
        entry("DisableKey", "2026-11-29T08:00:00Z"),
      ],
    });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).not.toHaveProperty("disabledSince");
    expect(history.prior.state).toBe("enabled");
  });

  it("a DisableKey after the event with nothing before it: prior enabled (no history) and disabledSince", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolves({ Events: [entry("DisableKey", "2026-11-29T09:00:00Z")] });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(history).toEqual({
      prior: expect.objectContaining({ state: "enabled" }),
      disabledSince: expect.stringContaining("2026-11-29T09:00:00.000Z"),
    });
  });

  it("a DisableKey after the event on the first page is kept when the prior is unknown after 5 pages", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [entry("DisableKey", "2026-11-29T09:00:00Z")], NextToken: "more" })
      .resolves({ Events: [entry("Decrypt", "2026-11-28T10:00:00Z")], NextToken: "more" });

    // Act
    const history = await readKeyHistory(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 5);
    expect(history).toEqual({
      prior: expect.objectContaining({ state: "unknown" }),
      disabledSince: expect.stringContaining("2026-11-29T09:00:00.000Z"),
    });
  });
});

describe("cloudTrailHistory: where the history is read", () => {
  const history = [entry("DisableKey", "2026-11-27T00:00:00Z")];
  const WEST_KEY = "arn:aws:kms:us-west-2:111122223333:key/mrk-6c7d8e9f0a1b4c69bde4f5a6b7c8d9e0";
  const MEMBER_KEY = "arn:aws:kms:us-east-1:444455556666:key/0b0b0b0b-1111-4222-8333-444444444444";
  const credentials = { accessKeyId: "ASIAMEMBER", secretAccessKey: "secret", sessionToken: "token" };

  it("reads a key of the client's own Region with the given client", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: history });
    const reader = cloudTrailHistory(cloudTrail);

    // Act
    const result = await reader.read(KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(result.prior.state).toBe("disabled");
    expect(cloudTrailMock.commandCalls(LookupEventsCommand)[0]?.thisValue).toBe(cloudTrail);
  });

  it("reads a key of another Region with a client of that Region, made once and reused", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: history });
    const reader = cloudTrailHistory(cloudTrail);

    // Act
    await reader.read(WEST_KEY, SCHEDULED_AT);
    await reader.read(WEST_KEY, SCHEDULED_AT);

    // Assess
    const [first, second] = cloudTrailMock.commandCalls(LookupEventsCommand).map((c) => c.thisValue);
    expect(first).not.toBe(cloudTrail);
    expect(second).toBe(first);
    expect(await (first as CloudTrailClient).config.region()).toBe("us-west-2");
    expect(cloudTrailMock).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: WEST_KEY }],
    });
  });

  it("reads a key of another account with the member role's credentials, in the key's Region", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: history });
    const reader = cloudTrailHistory(cloudTrail);

    // Act
    await reader.read(MEMBER_KEY, SCHEDULED_AT, credentials);

    // Assess: CloudTrail history is kept per account: the responder's own client would read the wrong one
    const client = cloudTrailMock.commandCalls(LookupEventsCommand)[0]?.thisValue as CloudTrailClient;
    expect(client).not.toBe(cloudTrail);
    expect(await client.config.region()).toBe("us-east-1");
    expect(await client.config.credentials()).toMatchObject(credentials);
  });

  it("a client without a configured Region serves every key itself", async () => {
    // Prepare
    const missing = (): Promise<string> => Promise.reject(new Error("Region is missing"));
    const noRegion = new CloudTrailClient({ region: missing });
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: history });

    // Act
    await cloudTrailHistory(noRegion).read(WEST_KEY, SCHEDULED_AT);

    // Assess
    expect(cloudTrailMock.commandCalls(LookupEventsCommand)[0]?.thisValue).toBe(noRegion);
  });
});
