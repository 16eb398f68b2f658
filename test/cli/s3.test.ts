import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import type { RecordEntry } from "../../cli/read-records.js";
import { openCheckpoint } from "../../cli/sources/checkpoint.js";
import { parseFilter } from "../../cli/sources/filter.js";
import { LogScanner, type ScannedRecord } from "../../cli/sources/log-stream.js";
import { levelOf, listTrailObjects, parseS3Uri, readObject, s3Records } from "../../cli/sources/s3.js";
import { fileInput, runTriage } from "../../cli/triage.js";
import { DEFAULT_CONFIG } from "../../functions/shared/config.js";
import {
  ACCOUNTS,
  archiveObjects,
  bucketClient,
  DAYS,
  logKey,
  ORG,
  REGIONS,
  recordsFor,
} from "./archive-fixture.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function bucket(objects = archiveObjects(), pageSize = 1000) {
  const b = bucketClient(objects, pageSize);
  cleanups.push(b.restore);
  return b;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kms-responder-s3-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function collect(
  records: AsyncIterable<RecordEntry[]>,
  limit = Number.POSITIVE_INFINITY,
): Promise<RecordEntry[]> {
  const out: RecordEntry[] = [];
  for await (const batch of records) {
    out.push(...batch);
    if (out.length >= limit) break;
  }
  return out;
}

function scan(text: string, size: number): { records: ScannedRecord[]; end: string | undefined } {
  const scanner = new LogScanner();
  const records: ScannedRecord[] = [];
  for (let i = 0; i < text.length; i += size) scanner.push(text.slice(i, i + size), (r) => records.push(r));
  return { records, end: scanner.end() };
}

describe("parseS3Uri and levelOf", () => {
  it("splits bucket and prefix; refuses what is not s3://bucket", () => {
    expect(parseS3Uri("s3://trail-bucket/AWSLogs/")).toEqual({ bucket: "trail-bucket", prefix: "AWSLogs/" });
    expect(parseS3Uri("s3://trail-bucket")).toEqual({ bucket: "trail-bucket", prefix: "" });
    expect(() => parseS3Uri("s3://")).toThrow(/not an s3:\/\/bucket/);
    expect(() => parseS3Uri("https://x/y")).toThrow(/not an s3:\/\/bucket/);
  });

  it("places a prefix in the organisation and single-account layouts", () => {
    expect(levelOf("")).toEqual({ kind: "above" });
    expect(levelOf("logs/AWSLogs/")).toEqual({ kind: "root" });
    expect(levelOf(`AWSLogs/${ORG}/`)).toEqual({ kind: "org" });
    expect(levelOf(`AWSLogs/${ORG}/111122223333/`)).toEqual({ kind: "account", account: "111122223333" });
    expect(levelOf("AWSLogs/111122223333/CloudTrail/")).toEqual({ kind: "trail", account: "111122223333" });
    expect(levelOf("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/")).toEqual({
      kind: "year",
      account: "111122223333",
      region: "eu-west-1",
      year: "2026",
    });
    expect(levelOf(`AWSLogs/${ORG}/111122223333/CloudTrail/eu-west-1/2026/11/28/`)).toEqual({
      kind: "day",
      account: "111122223333",
      region: "eu-west-1",
      day: "2026-11-28",
    });
    expect(levelOf(`AWSLogs/${ORG}/111122223333/CloudTrail-Digest/`)).toBeUndefined();
    expect(levelOf("AWSLogs/not-an-account/")).toBeUndefined();
  });
});

describe("LogScanner", () => {
  const records = recordsFor("111122223333", "us-east-1", "2026-11-28");
  const text = JSON.stringify({ Records: records });

  it("gives the same records whatever the chunk size, parsing only KMS records", () => {
    const whole = scan(text, text.length);
    expect(whole.end).toBeUndefined();
    expect(whole.records.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    // Records of other services: only what triage reports of them, never parsed whole.
    expect(whole.records[0]).toEqual({
      index: 0,
      value: {
        eventSource: "s3.amazonaws.com",
        eventName: "GetObject",
        eventID: "s3-111122223333-us-east-1-2026-11-28",
      },
    });
    expect(whole.records[1]).toEqual({ index: 1, value: records[1] });
    expect(whole.records[3]).toEqual({ index: 3, value: records[3] });
    for (const size of [1, 2, 3, 5, 7, 64, 1000]) expect(scan(text, size)).toEqual(whole);
  });

  it("finds the end of nested values whatever their strings hold, at every chunk size", () => {
    // Strings ending in an escaped backslash, quotes, brackets and braces inside nested values;
    // the kept fields come after them, so a wrong end of a nested value would lose them.
    const tricky = {
      requestParameters: { a: "ends in \\", b: ['"]}', { c: '\\"{[' }], d: {} },
      additionalEventData: [[], [{}], "x\\"],
    };
    const doc = JSON.stringify({
      Records: [
        { ...tricky, eventSource: "s3.amazonaws.com", eventName: "PutObject", eventID: "e1" },
        { ...tricky, eventSource: "kms.amazonaws.com", eventName: "Decrypt", eventID: "e2" },
      ],
    });
    const expected = [
      { index: 0, value: { eventSource: "s3.amazonaws.com", eventName: "PutObject", eventID: "e1" } },
      { index: 1, value: (JSON.parse(doc) as { Records: unknown[] }).Records[1] },
    ];
    for (let size = 1; size <= doc.length; size++)
      expect(scan(doc, size)).toEqual({ records: expected, end: undefined });
  });

  it("reads a bare array, unescapes kept fields and reports damage", () => {
    expect(scan('[{"eventSource":"s3.amazonaws.com","eventName":"Put\\"Obj"}]', 4).records).toEqual([
      { index: 0, value: { eventSource: "s3.amazonaws.com", eventName: 'Put"Obj' } },
    ]);
    expect(scan("hello", 10)).toEqual({
      records: [],
      end: "not a CloudTrail log file (it does not start with { or [)",
    });
    // A whole document without records is reported as it closes (more documents may follow).
    expect(scan('{"digest":true}', 3)).toEqual({
      records: [{ index: 0, error: "not a CloudTrail log file (no Records array)" }],
      end: undefined,
    });
    expect(scan("", 3).end).toBe("empty file");
    const truncated = scan(text.slice(0, Math.floor(text.length * 0.6)), 50);
    expect(truncated.records.length).toBeGreaterThan(0);
    expect(truncated.end).toBe("the file ends inside its records (truncated)");
    const broken = scan('{"Records":[{"eventSource":"kms.amazonaws.com",}]}', 5);
    expect(broken.records).toHaveLength(1);
    expect(broken.records[0]).toMatchObject({
      index: 0,
      error: expect.stringMatching(/^record 0 is not JSON/),
    });
  });
});

describe("parseFilter", () => {
  it("validates days, accounts and Regions", () => {
    expect(
      parseFilter({ since: "2026/11/01", until: "2026-11-30", accounts: "444455556666,111122223333" }),
    ).toEqual({
      since: "2026-11-01",
      until: "2026-11-30",
      accounts: ["111122223333", "444455556666"],
    });
    expect(() => parseFilter({ since: "2026-02-30" })).toThrow("--since must be a day as YYYY-MM-DD");
    expect(() => parseFilter({ since: "2026-11-02", until: "2026-11-01" })).toThrow("is after --until");
    expect(() => parseFilter({ accounts: "1111' OR '1'='1" })).toThrow("is not an account id");
    expect(() => parseFilter({ regions: "us-east-1/../x" })).toThrow("is not a Region name");
  });
});

describe("listTrailObjects", () => {
  const all = [...archiveObjects().keys()].filter((k) => !k.includes("Digest"));

  it("lists every log object (not the digest) page by page", async () => {
    const { client, calls } = bucket(archiveObjects(), 2);
    const keys: string[] = [];
    for await (const o of listTrailObjects(client, { bucket: "trail", prefix: "" }, {})) keys.push(o.key);
    expect(keys).toEqual(all);
    expect(calls.gets).toEqual([]);
    expect(calls.lists.some((p) => p.includes("CloudTrail-Digest"))).toBe(false);
    // Unfiltered, each account's trail is one run of keys (all its Regions and days), page by page.
    const runs = calls.listInputs.filter((i) => i.Delimiter === undefined);
    expect(new Set(runs.map((i) => i.Prefix))).toEqual(
      new Set(ACCOUNTS.map((a) => `AWSLogs/${ORG}/${a}/CloudTrail/`)),
    );
    expect(runs.every((i) => i.StartAfter === undefined)).toBe(true);
    expect(calls.listInputs.filter((i) => i.Delimiter === "/").map((i) => i.Prefix)).toEqual([
      "",
      "AWSLogs/",
      `AWSLogs/${ORG}/`,
    ]);
  });

  it("prunes at the prefix level: nothing outside the filter is listed", async () => {
    const { client, calls } = bucket();
    const filter = {
      since: "2026-11-28",
      until: "2026-11-29",
      accounts: ["444455556666"],
      regions: ["us-east-1"],
    };
    const keys: string[] = [];
    for await (const o of listTrailObjects(client, { bucket: "trail", prefix: "AWSLogs/" }, filter))
      keys.push(o.key);
    expect(keys).toEqual([
      logKey("444455556666", "us-east-1", "2026-11-28"),
      logKey("444455556666", "us-east-1", "2026-11-29"),
    ]);
    // The organisation level is listed once; the account and Region are named outright; the days
    // are one listing of the Region from the first day wanted, without a delimiter.
    const region = `AWSLogs/${ORG}/444455556666/CloudTrail/us-east-1/`;
    expect(calls.listInputs).toEqual([
      { Bucket: "trail", Prefix: "AWSLogs/", Delimiter: "/" },
      { Bucket: "trail", Prefix: region, StartAfter: `${region}2026/11/28/` },
    ]);
    expect(calls.listedKeys).toEqual(keys);
  });

  it("lists a Region's days from --since and asks for no page past --until", async () => {
    // One key a page: the listing stops at the first key past the last day wanted.
    const { client, calls } = bucket(archiveObjects(), 1);
    const filter = {
      since: "2026-11-28",
      until: "2026-11-28",
      accounts: [ACCOUNTS[0]],
      regions: ["eu-west-1"],
    };
    const keys: string[] = [];
    for await (const o of listTrailObjects(client, { bucket: "trail", prefix: "" }, filter)) keys.push(o.key);
    expect(keys).toEqual([logKey(ACCOUNTS[0], "eu-west-1", "2026-11-28")]);
    const region = `AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail/eu-west-1/`;
    const regionCalls = calls.listInputs.filter((i) => i.Prefix === region);
    // The first page holds the 28th, the second the 29th (past --until): no third call for the 30th.
    expect(regionCalls).toEqual([
      { Bucket: "trail", Prefix: region, StartAfter: `${region}2026/11/28/` },
      {
        Bucket: "trail",
        Prefix: region,
        StartAfter: `${region}2026/11/28/`,
        ContinuationToken: expect.any(String),
      },
    ]);
    expect(calls.listedKeys.filter((k) => k.startsWith(region))).toEqual([
      logKey(ACCOUNTS[0], "eu-west-1", "2026-11-28"),
      logKey(ACCOUNTS[0], "eu-west-1", "2026-11-29"),
    ]);
    expect(calls.listInputs.every((i) => i.Prefix === region || i.Delimiter === "/")).toBe(true);
  });

  it("lists a long range in one run of keys per Region, pruning the Regions and days outside it", async () => {
    const { client, calls } = bucket();
    const filter = { since: "2025-01-01", until: "2026-11-27", regions: ["eu-west-1"] };
    const keys: string[] = [];
    for await (const o of listTrailObjects(client, { bucket: "trail", prefix: "" }, filter)) keys.push(o.key);
    expect(keys).toEqual(ACCOUNTS.map((a) => logKey(a, "eu-west-1", "2026-11-27")));
    expect(calls.lists.filter((p) => p.includes("us-east-1"))).toEqual([]);
    expect(calls.listInputs.filter((i) => i.Delimiter === undefined)).toEqual(
      ACCOUNTS.map((a) => {
        const region = `AWSLogs/${ORG}/${a}/CloudTrail/eu-west-1/`;
        return { Bucket: "trail", Prefix: region, StartAfter: `${region}2025/01/01/` };
      }),
    );
  });

  it("leaves out keys in folders outside the day layout below a Region, as the walk by level did", async () => {
    const region = "AWSLogs/111122223333/CloudTrail/eu-west-1/";
    const body = gzipSync(JSON.stringify({ Records: [] }));
    const objects = new Map(
      [
        `${region}2026/11/27/111122223333_CloudTrail_eu-west-1_20261127T0000Z_a.json.gz`,
        `${region}2026/11/27/extra/deeper.json.gz`,
        `${region}2026/11/stray-in-a-month.json.gz`,
        `${region}2026/11/27/notes.txt`,
        `${region}notes/x.json.gz`,
        "AWSLogs/111122223333/CloudTrail/not-a-region/2026/11/27/x.json.gz",
      ].map((k) => [k, body]),
    );
    const { client } = bucket(objects);
    const list = async (filter: Parameters<typeof listTrailObjects>[2]) => {
      const keys: string[] = [];
      for await (const o of listTrailObjects(client, { bucket: "trail", prefix: "" }, filter))
        keys.push(o.key);
      return keys.sort();
    };
    // Unfiltered, a log file higher up in the layout is read (the filter cannot judge it anyway).
    expect(await list({})).toEqual([
      `${region}2026/11/27/111122223333_CloudTrail_eu-west-1_20261127T0000Z_a.json.gz`,
      `${region}2026/11/stray-in-a-month.json.gz`,
    ]);
    expect(await list({ since: "2026-11-27" })).toEqual([
      `${region}2026/11/27/111122223333_CloudTrail_eu-west-1_20261127T0000Z_a.json.gz`,
    ]);
  });

  it("reports a bucket that cannot be listed", async () => {
    const { client } = bucket();
    const failing = {
      send: () => Promise.reject(Object.assign(new Error("Access Denied"), { name: "AccessDenied" })),
    } as unknown as typeof client;
    await expect(async () => {
      for await (const _ of listTrailObjects(failing, { bucket: "trail", prefix: "" }, {})) void _;
    }).rejects.toThrow("cannot list s3://trail/: AccessDenied: Access Denied");
  });
});

describe("readObject and s3Records", () => {
  it("reports a corrupt object and goes on with the others", async () => {
    const objects = archiveObjects();
    const bad = logKey("111122223333", "eu-west-1", "2026-11-28");
    objects.set(bad, Buffer.from("this is not gzip"));
    const { client, calls } = bucket(objects);
    const outcome = { status: "reading" as const, records: 0 } as {
      status: "reading" | "done" | "failed";
      records: number;
    };
    const entries = await collect(readObject(client, "trail", bad, outcome));
    expect(entries).toEqual([
      {
        file: `s3://trail/${bad}`,
        index: 0,
        error: expect.stringMatching(/^damaged gzip data \(incorrect header check/),
      },
    ]);
    expect(outcome.status).toBe("done");
    const source = s3Records({ client, location: { bucket: "trail", prefix: "" }, filter: {} });
    const all = await collect(source.records);
    expect(all.filter((e) => e.error)).toHaveLength(1);
    expect(all.filter((e) => !e.error)).toHaveLength(11 * 4);
    expect(calls.gets.filter((k) => k === bad)).toHaveLength(2);
  });

  it("keeps listing order with several objects read at once", async () => {
    const { client } = bucket();
    const source = s3Records({
      client,
      location: { bucket: "trail", prefix: "" },
      filter: {},
      concurrency: 5,
    });
    const entries = await collect(source.records);
    const files = [...new Set(entries.map((e) => e.file))];
    expect(files).toEqual(
      [...archiveObjects().keys()].filter((k) => !k.includes("Digest")).map((k) => `s3://trail/${k}`),
    );
    expect(source.progress).toMatchObject({ objects: 12, listed: 12, records: 48 });
  });

  it("lists ahead of the reads: the whole listing is done while the first object is still being fetched", async () => {
    // One key a page: 1 + 2 + 2x2 + 12 list calls. The first GetObject answers only once every key
    // has been listed (or the listing stopped moving): a listing that waited for the reads would not get there.
    const { client, calls } = bucket(archiveObjects(), 1);
    const logKeys = [...archiveObjects().keys()].filter((k) => !k.includes("Digest"));
    let listedAtFirstRead = -1;
    const waiting = {
      send: async (command: unknown) => {
        if (command instanceof GetObjectCommand && listedAtFirstRead < 0) {
          // Let the listing run until it is done or stops moving (50 event-loop turns without a new
          // key): counted in turns, not in wall-clock time, so a slow machine changes nothing.
          let idle = 0;
          let seen = calls.listedKeys.length;
          while (calls.listedKeys.length < logKeys.length && idle < 50) {
            await new Promise((r) => setImmediate(r));
            idle = calls.listedKeys.length === seen ? idle + 1 : 0;
            seen = calls.listedKeys.length;
          }
          listedAtFirstRead = calls.listedKeys.length;
        }
        return client.send(command as GetObjectCommand);
      },
    } as unknown as typeof client;
    const source = s3Records({
      client: waiting,
      location: { bucket: "trail", prefix: "" },
      filter: {},
      concurrency: 2,
    });
    const entries = await collect(source.records);
    expect(listedAtFirstRead).toBe(logKeys.length);
    expect([...new Set(entries.map((e) => e.file))]).toEqual(logKeys.map((k) => `s3://trail/${k}`));
    expect(calls.gets).toEqual(logKeys);
  });

  it("ends with the listing error when the bucket cannot be listed, having read nothing", async () => {
    const failing = {
      send: () => Promise.reject(Object.assign(new Error("Access Denied"), { name: "AccessDenied" })),
    } as unknown as S3Client;
    const source = s3Records({ client: failing, location: { bucket: "trail", prefix: "logs/" }, filter: {} });
    await expect(collect(source.records)).rejects.toThrow(
      "cannot list s3://trail/logs/: AccessDenied: Access Denied",
    );
    expect(source.progress).toMatchObject({ objects: 0, records: 0 });
  });

  it("stops an object past 64 MiB of text, like a local file: a small gzip bomb cannot exhaust the heap", async () => {
    // Prepare: about 64 KiB of gzip that holds 65 MiB of text.
    const key = logKey(ACCOUNTS[0], "eu-west-1", "2026-11-28");
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"Records":[{"x":"'), Buffer.alloc(65 * 1024 * 1024, 97)]),
    );
    const { client } = bucket(new Map([[key, bomb]]));
    const outcome = { status: "reading" as const, records: 0 };

    // Act
    const entries = await collect(readObject(client, "trail", key, outcome));

    // Assess
    expect(entries).toEqual([
      expect.objectContaining({ error: "the object holds more than 64 MiB of text: the rest is skipped" }),
    ]);
    expect(outcome.status).toBe("done");
  });

  it("decodes characters cut between the pieces of text it scans", async () => {
    // 200,000 bytes of 3-byte and 2-byte characters: the 64 KiB pieces fall inside characters.
    const key = logKey(ACCOUNTS[0], "eu-west-1", "2026-11-27");
    const kms = { ...recordsFor(ACCOUNTS[0], "eu-west-1", "2026-11-27")[1], userAgent: "€é".repeat(40_000) };
    const other = { eventSource: "s3.amazonaws.com", eventName: "Put€Object", eventID: "é-1" };
    const { client } = bucket(new Map([[key, gzipSync(JSON.stringify({ Records: [kms, other] }))]]));
    const entries = await collect(readObject(client, "trail", key));
    expect(entries.map((e) => e.value)).toEqual([kms, other]);
  });

  it("decides like triage over the same files on disk", async () => {
    const objects = archiveObjects();
    const dir = tempDir();
    for (const [key, bytes] of objects) {
      mkdirSync(dirname(join(dir, key)), { recursive: true });
      writeFileSync(join(dir, key), bytes);
    }
    const run = async (input: Parameters<typeof runTriage>[0]["input"]) => {
      const out: string[] = [];
      const code = await runTriage(
        { input, config: DEFAULT_CONFIG, json: true, all: false, failOn: "high" },
        { out: (l) => out.push(l), err: () => undefined, isTty: false },
      );
      const rows = out.map((l) => JSON.parse(l) as { source: { file: string; index: number } });
      return { code, rows: rows.filter((r) => !r.source.file.includes("Digest")) };
    };
    const { client } = bucket(objects);
    const fromS3 = await run({
      records: s3Records({ client, location: { bucket: "trail", prefix: "" }, filter: {} }).records,
      inputs: 1,
    });
    const fromDisk = await run(fileInput([dir]));
    const strip = (rows: typeof fromS3.rows) =>
      rows.map((r) => ({ ...r, source: { index: r.source.index } }));
    expect(fromS3.rows).toHaveLength(48);
    expect(strip(fromS3.rows)).toEqual(strip(fromDisk.rows));
    expect(fromS3.code).toBe(fromDisk.code);
    expect(fromS3.code).toBe(1);
  });

  it("resumes from a checkpoint without reading any object twice", async () => {
    const { client, calls } = bucket();
    const file = join(tempDir(), "checkpoint.txt");
    const flushed: number[] = [];
    let first = await openCheckpoint(file, async () => {
      flushed.push(Date.now());
    });
    const location = { bucket: "trail", prefix: "" };
    // An interrupted run: stops after the records of five objects (20 records) were handled.
    const seen = await collect(s3Records({ client, location, filter: {}, checkpoint: first }).records, 20);
    await first.close();
    expect(seen).toHaveLength(20);
    const done = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("s3://"));
    // Objects are written down once triage asked for more after their last batch: four of five.
    expect(done).toHaveLength(4);
    expect(flushed).toHaveLength(4);
    const readBefore = new Set(calls.gets);
    calls.gets.length = 0;
    first = await openCheckpoint(file);
    expect(first.before).toBe(4);
    const source = s3Records({ client, location, filter: {}, checkpoint: first });
    const rest = await collect(source.records);
    await first.close();
    expect(source.progress.skipped).toBe(4);
    expect(rest).toHaveLength(48 - 16);
    expect(calls.gets.filter((k) => done.includes(`s3://trail/${k}`))).toEqual([]);
    expect(new Set([...readBefore, ...calls.gets]).size).toBe(12);
    // A third run finds everything done and reads nothing.
    calls.gets.length = 0;
    const third = await openCheckpoint(file);
    expect(third.before).toBe(12);
    expect(await collect(s3Records({ client, location, filter: {}, checkpoint: third }).records)).toEqual([]);
    await third.close();
    expect(calls.gets).toEqual([]);
  });

  it("reads plain JSON objects and days of a single-account trail", async () => {
    const day = "2026-11-28";
    const key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/plain.json";
    const objects = new Map([
      [key, Buffer.from(JSON.stringify({ Records: recordsFor("111122223333", "us-east-1", day) }))],
    ]);
    objects.set(`${key.replace("plain.json", "z.json.gz")}`, gzipSync("{}"));
    const { client } = bucket(objects);
    const entries = await collect(
      s3Records({
        client,
        location: { bucket: "trail", prefix: "" },
        filter: { since: day, until: day },
      }).records,
    );
    expect(entries.filter((e) => !e.error).map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(entries.filter((e) => e.error)).toEqual([
      {
        file: `s3://trail/${key.replace("plain.json", "z.json.gz")}`,
        index: 0,
        error: "not a CloudTrail log file (no Records array)",
      },
    ]);
    expect(REGIONS).toContain("us-east-1");
    expect(DAYS).toContain(day);
  });
});
