/**
 * The CloudTrail log-file parser: a file small enough is parsed whole by JSON.parse, a larger one
 * scanned as it streams; both give the same records, and what JSON.parse refuses is read by the
 * scanner, record by record.
 */
import { describe, expect, it } from "vitest";
import {
  LogScanner,
  logFileBatches,
  PARSE_WHOLE_BYTES,
  type RecordEntry,
  type ScannedRecord,
} from "../../cli/sources/log-stream.js";

const KMS_RECORD = {
  eventVersion: "1.11",
  eventSource: "kms.amazonaws.com",
  eventName: "CreateGrant",
  eventID: "kms-1",
  requestParameters: { keyId: "1234abcd", granteePrincipal: "arn:aws:iam::444455556666:root" },
};
const S3_RECORD = {
  eventVersion: "1.11",
  eventSource: "s3.amazonaws.com",
  eventName: "GetObject",
  eventID: "s3-\u00e9-1",
  requestParameters: { bucketName: "b", key: 'a "quoted" key\\' },
};
const NO_SOURCE = { eventName: "Odd", eventID: "odd-1", detail: [1, 2, { x: "}" }] };

async function entries(chunks: Iterable<Buffer | string>): Promise<RecordEntry[]> {
  const out: RecordEntry[] = [];
  for await (const batch of logFileBatches("f.json", chunks)) out.push(...batch);
  return out;
}

/** What the scanner alone reads of the text. */
function scanned(text: string): ScannedRecord[] {
  const out: ScannedRecord[] = [];
  const scanner = new LogScanner();
  scanner.push(text, (r) => out.push(r));
  return out;
}

/** The fields every reader of a record reads, whole record or summary. */
function summary(value: unknown): unknown {
  const v = value as Record<string, unknown>;
  return v.eventSource === "kms.amazonaws.com" || v.eventSource === undefined
    ? v
    : { eventSource: v.eventSource, eventName: v.eventName, eventID: v.eventID };
}

describe("logFileBatches", () => {
  const records = [KMS_RECORD, S3_RECORD, NO_SOURCE, S3_RECORD, KMS_RECORD];
  const text = JSON.stringify({ Records: records });

  it("parses a small file whole and gives the records the scanner gives, in order", async () => {
    // Act
    const whole = await entries([Buffer.from(text)]);

    // Assert
    const byScanner = scanned(text);
    expect(whole.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    expect(whole.map((e) => summary(e.value))).toEqual(
      byScanner.map((r) => summary("value" in r && r.value)),
    );
    expect(whole.map((e) => e.value)).toEqual(records);
  });

  it("scans a file larger than PARSE_WHOLE_BYTES as it streams: the same records, bare array alike", async () => {
    // Arrange: enough S3 records to pass the threshold, the KMS records among them.
    const many = Array.from(
      { length: Math.ceil(PARSE_WHOLE_BYTES / JSON.stringify(S3_RECORD).length) + 10 },
      (_, i) => (i % 1000 === 0 ? { ...KMS_RECORD, eventID: `kms-${i}` } : S3_RECORD),
    );
    const big = JSON.stringify(many);
    const pieces = Array.from({ length: Math.ceil(big.length / 65_536) }, (_, i) =>
      Buffer.from(big.slice(i * 65_536, (i + 1) * 65_536)),
    );

    // Act
    const streamed = await entries(pieces);

    // Assert: others summarised (never held whole), KMS records whole.
    expect(streamed).toHaveLength(many.length);
    expect(streamed[1]?.value).toEqual({
      eventSource: "s3.amazonaws.com",
      eventName: "GetObject",
      eventID: "s3-\u00e9-1",
    });
    expect(streamed[1000]?.value).toEqual({ ...KMS_RECORD, eventID: "kms-1000" });
    expect(streamed.every((e) => e.error === undefined)).toBe(true);
  });

  it("a character split between two chunks of bytes is read whole", async () => {
    // Arrange: cut the bytes inside the two-byte "\u00e9" of the S3 record's id.
    const bytes = Buffer.from(text);
    const at = bytes.indexOf(Buffer.from("\u00e9")) + 1;

    // Act
    const got = await entries([bytes.subarray(0, at), bytes.subarray(at)]);

    // Assert
    expect(got.map((e) => e.value)).toEqual(records);
  });

  it("a file JSON.parse refuses is read by the scanner: the records around a broken one survive", async () => {
    // Arrange: a KMS record that is not JSON (a stray comma) between good ones.
    const broken = `{"Records":[${JSON.stringify(S3_RECORD)},{"eventSource":"kms.amazonaws.com","eventID":"bad",},${JSON.stringify(KMS_RECORD)}]}`;

    // Act
    const got = await entries([broken]);

    // Assert
    expect(got.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(got[1]?.error).toMatch(/^record 1 is not JSON/);
    expect(got[2]?.value).toEqual(KMS_RECORD);
  });

  it("a truncated small file: the records before the cut, then the damage the caller names", async () => {
    const cut = text.slice(0, text.lastIndexOf("{"));

    const got = await entries([cut]);

    expect(got.slice(0, -1).map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(got.at(-1)).toEqual({
      file: "f.json",
      index: -1,
      error: "the file ends inside its records (truncated)",
    });
  });

  it("a whole file with damage the caller knows of (a bad gzip trailer) still reports it after the records", async () => {
    const got: RecordEntry[] = [];
    for await (const batch of logFileBatches("f.json", [text], { records: 0 }, "damaged gzip data (bad CRC)"))
      got.push(...batch);

    expect(got).toHaveLength(6);
    expect(got.at(-1)).toEqual({ file: "f.json", index: -1, error: "damaged gzip data (bad CRC)" });
  });
});
