import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, grantClaimedBy, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);

/** The key of events/rogue-grant/external-grantee.json (recorded 2026-11-28T18:22:41Z). */
const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34";
const RECORDED = new Date("2026-11-28T18:22:41Z");

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  fakeKey(kms, { arn: KEY_ARN, grants: [grantClaimedBy(loadEvent("rogue-grant/external-grantee"))] });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** Runs the rogue-grant handler on the external-grantee fixture, changed by `edit`, `minutesLater` after it was recorded. */
async function deliver(
  config: object,
  minutesLater: number,
  edit: (event: ReturnType<typeof loadEvent>) => void = () => {},
) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(RECORDED.getTime() + minutesLater * 60_000));
  const handler = await coldStart("rogue-grant", config);
  const event = loadEvent("rogue-grant/external-grantee");
  edit(event);
  return handler(event);
}

describe("delivery: replays, old events and inconsistent records are reported, not acted on", () => {
  it("acts on a fresh event", async () => {
    // Act
    const result = await deliver({ maxEventAgeMinutes: 60 }, 5);

    // Assess
    expect(result.outcome).toBe("remediated");
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 1);
  });

  it("holds an event older than maxEventAgeMinutes (default 60)", async () => {
    // Act
    const result = await deliver({ maxEventAgeMinutes: 60 }, 61);

    // Assess
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result.verdicts).toContain("stale-event");
    expect(result.actions?.[0]).toMatchObject({ type: "revoke-grant", status: "skipped" });
    expect(onlyNotification(sns).text).toContain("older than maxEventAgeMinutes (60)");
  });

  it("holds a replay from an EventBridge archive unless actOnReplays is set", async () => {
    // Prepare
    const replayed = (event: ReturnType<typeof loadEvent>) => {
      Object.assign(event, { "replay-name": "kms-replay-1" });
    };

    // Act
    const held = await deliver({}, 1, replayed);
    const allowed = await deliver({ actOnReplays: true }, 1, replayed);

    // Assess
    expect(held.verdicts).toContain("replayed");
    expect(allowed.outcome).toBe("remediated");
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 1);
  });

  it("holds a record whose envelope account and recipient account disagree", async () => {
    // Act: member B's bus sends a record claiming to be A's.
    const result = await deliver({}, 1, (event) => {
      event.account = "444455556666";
    });

    // Assess
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result.verdicts).toContain("inconsistent-record");
  });

  it("holds a record delivered to an account that is neither the key's nor the caller's", async () => {
    // Act
    const result = await deliver({}, 1, (event) => {
      event.account = "444455556666";
      event.detail.recipientAccountId = "444455556666";
    });

    // Assess
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result.verdicts).toContain("inconsistent-record");
  });
});
