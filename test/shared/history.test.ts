import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { priorKeyState } from "../../functions/shared/history.js";

const cloudTrailMock = mockClient(CloudTrailClient);
const cloudTrail = new CloudTrailClient({});

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

describe("priorKeyState", () => {
  it("looks the key up by ResourceName, ending at the triggering event's time", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: [] });

    // Act
    await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(cloudTrailMock).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: KEY_ARN }],
      EndTime: new Date(SCHEDULED_AT),
    });
  });

  it("without an event time (or an unreadable one) ends the lookup now", async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-28T20:00:00Z"));
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: [] });

    // Act
    await priorKeyState(cloudTrail, KEY_ARN, undefined);
    await priorKeyState(cloudTrail, KEY_ARN, "not a date");

    // Assess
    const ends = cloudTrailMock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input.EndTime);
    expect(ends).toEqual([new Date("2026-11-28T20:00:00Z"), new Date("2026-11-28T20:00:00Z")]);
  });

  it("the newest of DisableKey/EnableKey wins (events come newest first)", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({
      Events: [
        entry("ScheduleKeyDeletion", SCHEDULED_AT),
        entry("DisableKey", "2026-11-27T00:00:00Z"),
        entry("EnableKey", "2026-11-20T00:00:00Z"),
      ],
    });

    // Act
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(prior.state).toBe("disabled");
    expect(prior.detail).toContain("2026-11-27T00:00:00.000Z");
  });

  it("reads further pages until it finds one, passing NextToken on", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [entry("Encrypt", "2026-11-28T10:00:00Z")], NextToken: "page-2" })
      .resolvesOnce({ Events: [entry("Decrypt", "2026-11-27T10:00:00Z")], NextToken: "page-3" })
      .resolvesOnce({ Events: [entry("EnableKey", "2026-11-26T10:00:00Z")], NextToken: "page-4" });

    // Act
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(prior.state).toBe("enabled");
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
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(prior.state).toBe("enabled");
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
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(prior.state).toBe("disabled");
  });

  it("no DisableKey/EnableKey in the whole history: the key was enabled (a new key starts Enabled)", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).resolves({ Events: [entry("CreateKey", "2026-10-01T00:00:00Z")] });

    // Act
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(prior.state).toBe("enabled");
  });

  it("stops after MAX_PAGES (5) pages of a busy key and answers unknown", async () => {
    // Prepare
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolves({ Events: [entry("Decrypt", "2026-11-28T10:00:00Z")], NextToken: "more" });

    // Act
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 5);
    expect(prior).toMatchObject({
      state: "unknown",
      detail: expect.stringContaining("re-enabled by default"),
    });
  });

  it("a history that cannot be read answers unknown with the error", async () => {
    // Prepare
    cloudTrailMock.on(LookupEventsCommand).rejects(new Error("AccessDeniedException: not authorized"));

    // Act
    const prior = await priorKeyState(cloudTrail, KEY_ARN, SCHEDULED_AT);

    // Assess
    expect(prior).toMatchObject({
      state: "unknown",
      detail: expect.stringContaining("CloudTrail history could not be read"),
    });
    expect(prior.detail).toContain("not authorized");
  });
});
