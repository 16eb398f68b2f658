/**
 * The moto shim's CloudTrail history, without moto: LookupEvents by a key with records is answered
 * from them (as the SDK reads CloudTrail's answer), any other request goes on to moto (here an
 * endpoint that answers nothing, so it fails). The rotation period it adds is checked against moto
 * in test/integration/rotation-period.test.ts.
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MotoShim, motoShim } from "../../emulator/moto-shim.js";
import { isObject, type JsonObject } from "../../functions/shared/json.js";
import { loadEvent } from "../helpers/fixtures.js";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/5d6e7f8a-9b0c-4dbe-82f3-a4b5c6d7e8f9";

/** A fixture at another time, with another event id. */
function at(name: string, time: string, id: string): JsonObject {
  const event = structuredClone(loadEvent(name)) as unknown as JsonObject;
  const detail = isObject(event.detail) ? event.detail : event;
  detail.eventTime = time;
  detail.eventID = id;
  return event;
}

function lookup(client: CloudTrailClient, resource: string) {
  return client.send(
    new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: resource }],
    }),
  );
}

describe("the moto shim's LookupEvents", () => {
  let shim: MotoShim;
  let client: CloudTrailClient;
  beforeAll(async () => {
    // Port 1 answers nothing: whatever the shim forwards fails.
    shim = await motoShim("http://127.0.0.1:1");
    client = new CloudTrailClient({
      endpoint: shim.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
  });
  afterAll(() => shim?.stop());

  it("answers a key's lookup from the records added, newest first, as CloudTrail lists them", async () => {
    // Prepare
    shim.reset();
    shim.addToHistory(at("key-rotation-weakened/approved", "2026-11-27T10:00:00Z", "older"));
    shim.addToHistory(at("key-rotation-weakened/lengthened", "2026-11-28T18:41:02Z", "newer"));

    // Act
    const out = await lookup(client, KEY);

    // Assess
    expect(out.NextToken).toBeUndefined();
    expect(out.Events?.map((e) => [e.EventId, e.EventName, e.EventTime?.toISOString()])).toEqual([
      ["newer", "EnableKeyRotation", "2026-11-28T18:41:02.000Z"],
      ["older", "EnableKeyRotation", "2026-11-27T10:00:00.000Z"],
    ]);
    const [newest] = out.Events ?? [];
    expect(newest?.Resources).toEqual([{ ResourceType: "AWS::KMS::Key", ResourceName: KEY }]);
    expect(newest?.Username).toBe("mallory");
    expect(JSON.parse(newest?.CloudTrailEvent ?? "{}")).toMatchObject({
      eventID: "newer",
      requestParameters: { rotationPeriodInDays: 2560 },
    });
  });

  it("sends a lookup of a key without records on to moto, and forgets the history on reset", async () => {
    // Prepare
    shim.reset();
    shim.addToHistory(at("key-rotation-weakened/lengthened", "2026-11-28T18:41:02Z", "only"));
    const other = KEY.replace("5d6e7f8a", "00000000");

    // Act, Assess: forwarded to an endpoint that answers nothing
    await expect(lookup(client, other)).rejects.toThrow();
    shim.reset();
    await expect(lookup(client, KEY)).rejects.toThrow();
  });
});
