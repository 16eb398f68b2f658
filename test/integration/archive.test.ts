/**
 * Triage over an organisation trail archive on the emulator: S3 served by moto (listing with
 * delimiters, paging, streamed GetObject), Athena answering with rows loaded through moto's own
 * API (`/moto-api/static/athena/query-results`; moto does not run SQL).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { AthenaClient, GetQueryExecutionCommand, ListQueryExecutionsCommand } from "@aws-sdk/client-athena";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { COLUMNS, kmsEventsQuery } from "../../cli/athena-sql.js";
import { type CliIo, main } from "../../cli/main.js";
import { openCheckpoint } from "../../cli/sources/checkpoint.js";
import { setArchiveClients } from "../../cli/sources/index.js";
import { s3Records } from "../../cli/sources/s3.js";
import { resetMoto } from "../../emulator/moto.js";
import {
  ACCOUNTS,
  archiveObjects,
  DAYS,
  logKey,
  REGIONS,
  recordsFor,
  resultRows,
} from "../cli/archive-fixture.js";
import { ENDPOINT, REGION, SKIP } from "./harness.js";

const BUCKET = "org-trail-logs";
const clientConfig = {
  endpoint: ENDPOINT || "http://127.0.0.1:1",
  region: REGION,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  maxAttempts: 1,
};

/** An S3 client that notes every object it reads (GetObject calls, by key). */
function countingS3(): { client: S3Client; gets: string[] } {
  const client = new S3Client({ ...clientConfig, forcePathStyle: true });
  const gets: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "GetObjectCommand") gets.push(String((args.input as { Key?: string }).Key));
      return next(args);
    },
    { step: "initialize", name: "countGetObject" },
  );
  return { client, gets };
}

const CORRUPT = logKey(ACCOUNTS[1], REGIONS[0], DAYS[1]).replace("_abc.json.gz", "_zzz.json.gz");
const work = mkdtempSync(join(tmpdir(), "kms-responder-archive-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false };
  const code = await main(argv, io);
  return { code, out, err };
}

interface Row {
  eventId: string | null;
  source: { file: string; index: number };
  skipped: string | null;
  why?: string | null;
  severity?: string | null;
  incident?: string | null;
}

const rows = (out: string[]) => out.map((l) => JSON.parse(l) as Row);

describe.skipIf(SKIP)("triage over an organisation trail archive (moto)", () => {
  let s3: ReturnType<typeof countingS3>;

  beforeEach(async () => {
    await resetMoto(ENDPOINT);
    s3 = countingS3();
    await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const [key, bytes] of archiveObjects())
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
    await s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: CORRUPT, Body: Buffer.from("not gzip at all") }),
    );
    s3.gets.length = 0;
    setArchiveClients({ s3: () => s3.client, athena: () => new AthenaClient(clientConfig) });
  });

  it("reads only the objects the filters keep (GetObject counted)", async () => {
    const { code, out, err } = await cli(
      "triage",
      "--json",
      "--since",
      "2026-11-28",
      "--until",
      "2026-11-29",
      "--accounts",
      ACCOUNTS[0],
      "--regions",
      "us-east-1",
      `s3://${BUCKET}/AWSLogs/`,
    );
    expect(err.at(-1)).toMatch(/^s3: 2 objects read \(.* MiB\), 8 records; \d+ list calls$/);
    expect(code).toBe(0);
    expect(s3.gets).toEqual([
      logKey(ACCOUNTS[0], "us-east-1", "2026-11-28"),
      logKey(ACCOUNTS[0], "us-east-1", "2026-11-29"),
    ]);
    expect(rows(out).map((r) => r.eventId)).toEqual(
      ["2026-11-28", "2026-11-29"].flatMap((d) =>
        recordsFor(ACCOUNTS[0], "us-east-1", d).map((r) => r.eventID),
      ),
    );
  });

  it("reports a corrupt object, skips it and decides every other record like triage over the files", async () => {
    const { code, out } = await cli("triage", "--json", "--fail-on", "critical", `s3://${BUCKET}`);
    const fromS3 = rows(out);
    const corrupt = fromS3.filter((r) => r.source.file === `s3://${BUCKET}/${CORRUPT}`);
    expect(corrupt).toEqual([
      expect.objectContaining({
        skipped: "unparseable",
        why: expect.stringMatching(/^damaged gzip data \(incorrect header check/),
      }),
    ]);
    // The digest file is not a trail log: never read.
    expect(s3.gets.filter((k) => k.includes("Digest"))).toEqual([]);
    expect(s3.gets).toHaveLength(ACCOUNTS.length * REGIONS.length * DAYS.length + 1);

    for (const [key, bytes] of archiveObjects()) {
      if (key.includes("Digest")) continue;
      mkdirSync(dirname(join(work, key)), { recursive: true });
      writeFileSync(join(work, key), bytes);
    }
    const files = await cli("triage", "--json", "--fail-on", "critical", join(work, "AWSLogs"));
    const strip = (list: Row[]) => list.map((r) => ({ ...r, source: { index: r.source.index } }));
    expect(strip(fromS3.filter((r) => r !== corrupt[0]))).toEqual(strip(rows(files.out)));
    expect(code).toBe(files.code);
  });

  it("resumes an interrupted run without reading any object twice", async () => {
    const file = join(work, "checkpoint.txt");
    rmSync(file, { force: true });
    const first = await openCheckpoint(file);
    const source = s3Records({
      client: s3.client,
      location: { bucket: BUCKET, prefix: "" },
      filter: {},
      checkpoint: first,
    });
    let seen = 0;
    for await (const batch of source.records) {
      seen += batch.length;
      if (seen >= 16) break;
    }
    await first.close();
    const done = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("s3://"));
    expect(done).toHaveLength(3);
    const before = [...s3.gets];
    s3.gets.length = 0;

    const { code, out, err } = await cli("triage", "--json", "--resume", file, `s3://${BUCKET}/`);
    expect(code).toBe(0);
    expect(err.at(-1)).toMatch(/, 3 skipped as done before;/);
    expect(s3.gets.filter((k) => done.includes(`s3://${BUCKET}/${k}`))).toEqual([]);
    expect(new Set([...before, ...s3.gets]).size).toBe(ACCOUNTS.length * REGIONS.length * DAYS.length + 1);
    expect(new Set(rows(out).map((r) => r.source.file)).size).toBe(
      ACCOUNTS.length * REGIONS.length * DAYS.length + 1 - 3,
    );
    // Every object is in the checkpoint now: a third run reads nothing.
    s3.gets.length = 0;
    const third = await cli("triage", "--json", "--resume", file, `s3://${BUCKET}/`);
    expect(s3.gets).toEqual([]);
    expect(third.code).toBe(0);
    expect(third.err.join("\n")).toMatch(/nothing left to read: .*13 done in an earlier run/);
  });

  it("decides the rows an Athena query returns like the same records from files", async () => {
    const kms = DAYS.flatMap((d) => recordsFor(ACCOUNTS[0], "eu-west-1", d)).filter(
      (r) => r.eventSource === "kms.amazonaws.com",
    );
    const header = { Data: COLUMNS.map((c) => ({ VarCharValue: c })) };
    const loaded = await fetch(`${ENDPOINT}/moto-api/static/athena/query-results`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        region: REGION,
        results: [
          {
            rows: [header, ...resultRows(kms)],
            column_info: COLUMNS.map((Name) => ({ Name, Type: "varchar" })),
          },
        ],
      }),
    });
    expect(loaded.status).toBe(201);

    const athena = await cli(
      "triage",
      "--json",
      "--athena",
      "security.cloudtrail_org",
      "--since",
      "2026-11-27",
      "--until",
      "2026-11-29",
      "--output-location",
      "s3://athena-results/kms/",
    );
    expect(athena.code).toBe(0);
    const fromAthena = rows(athena.out);
    expect(fromAthena).toHaveLength(kms.length);
    expect(fromAthena.every((r) => /^athena:[0-9a-f-]+$/.test(r.source.file))).toBe(true);

    // The query moto was sent is the one the SQL module writes.
    const client = new AthenaClient(clientConfig);
    const ids = (await client.send(new ListQueryExecutionsCommand({}))).QueryExecutionIds ?? [];
    expect(ids).toHaveLength(1);
    const execution = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: ids[0] }));
    expect(execution.QueryExecution?.Query).toBe(
      kmsEventsQuery({
        table: "cloudtrail_org",
        database: "security",
        filter: { since: "2026-11-27", until: "2026-11-29" },
      }),
    );
    expect(execution.QueryExecution?.QueryExecutionContext?.Database).toBe("security");

    const file = join(work, "kms.json");
    writeFileSync(file, JSON.stringify({ Records: kms }));
    const files = await cli("triage", "--json", file);
    const decided = (list: Row[]) => list.map(({ source: _, ...rest }) => rest);
    expect(decided(fromAthena)).toEqual(decided(rows(files.out)));
    expect(fromAthena.filter((r) => r.severity).map((r) => r.incident)).toEqual(
      DAYS.flatMap(() => ["rogue-grant", "pending-deletion-key-used"]),
    );
  });
});
