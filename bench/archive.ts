/**
 * Triage over an archive: records per second streaming the generated CloudTrail export from S3
 * (moto on 127.0.0.1, the same objects uploaded under their trail keys) beside reading the same
 * files from disk. Both in this process, through runTriage with --json output thrown away, so
 * the difference is the source alone: listing, GetObject over HTTP, streamed gunzip and scanning
 * versus reading and parsing whole files. Goal: the S3 path within 1.5x of the disk path.
 *
 * `tsx bench/archive.ts` runs it alone on a fresh 50,000-record export.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { DEFAULT_CONCURRENCY, defaultS3Client, s3Records } from "../cli/sources/s3.js";
import { fileInput, runTriage, type TriageInput } from "../cli/triage.js";
import { startMoto } from "../emulator/moto.js";
import { DEFAULT_CONFIG } from "../functions/shared/config.js";
import { writeExport } from "./triage-data.js";

export interface ArchiveRun {
  seconds: number;
  records: number;
}

export interface ArchiveReport {
  objects: number;
  bytes: number;
  records: number;
  concurrency: number;
  disk: ArchiveRun[];
  s3: ArchiveRun[];
  /** The same S3 path with the objects served from memory: our code alone, without moto's HTTP. */
  memory: ArchiveRun[];
}

/** One ListObjectsV2 page over the sorted keys: prefix, delimiter and start-after, as S3 applies them. */
function listFromMemory(
  objects: Map<string, Buffer>,
  keys: readonly string[],
  input: ListObjectsV2Command["input"],
) {
  const { Prefix: prefix = "", Delimiter: delimiter, StartAfter: after = "" } = input;
  const prefixes = new Set<string>();
  const contents: Array<{ Key: string; Size: number }> = [];
  for (const key of keys) {
    if (!key.startsWith(prefix) || key <= after) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) prefixes.add(key.slice(0, cut + 1));
    else contents.push({ Key: key, Size: objects.get(key)?.length ?? 0 });
  }
  return {
    Contents: contents,
    CommonPrefixes: [...prefixes].map((Prefix) => ({ Prefix })),
    IsTruncated: false,
  };
}

/**
 * A client answering ListObjectsV2 (prefix, delimiter, start-after; one page) and GetObject from
 * memory, as S3 does: isolates the listing, gunzip and scanning cost from the emulator's
 * per-request cost.
 */
function memoryClient(objects: Map<string, Buffer>): S3Client {
  const keys = [...objects.keys()].sort();
  const send = async (command: unknown) => {
    if (command instanceof GetObjectCommand) {
      const body = objects.get(command.input.Key ?? "");
      return { Body: Readable.from([body ?? Buffer.alloc(0)]) };
    }
    if (command instanceof ListObjectsV2Command) return listFromMemory(objects, keys, command.input);
    throw new Error("not served from memory");
  };
  return { send } as unknown as S3Client;
}

const GOAL = 1.5;
const BUCKET = "bench-trail";

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

async function timed(input: TriageInput): Promise<ArchiveRun> {
  let records = 0;
  const started = performance.now();
  await runTriage(
    { input, config: DEFAULT_CONFIG, json: true, all: false, failOn: undefined },
    {
      out: () => {
        records++;
      },
      err: () => undefined,
      isTty: false,
    },
  );
  return { seconds: (performance.now() - started) / 1000, records };
}

/**
 * Uploads the export (the directory holding `AWSLogs/`) to a fresh moto and times both paths,
 * alternating, `rounds` times each. Starts and stops its own moto_server.
 */
export async function measureArchive(
  exportDir: string,
  rounds = 3,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<ArchiveReport> {
  const moto = await startMoto();
  try {
    // The client the command line gives a user, pointed at moto.
    const client = defaultS3Client({
      endpoint: moto.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const all = files(path.join(exportDir, "AWSLogs"));
    let bytes = 0;
    const inMemory = new Map<string, Buffer>();
    for (let i = 0; i < all.length; i += 16) {
      await Promise.all(
        all.slice(i, i + 16).map((file) => {
          const body = readFileSync(file);
          bytes += body.length;
          const key = path.relative(exportDir, file).split(path.sep).join("/");
          inMemory.set(key, body);
          return client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
        }),
      );
    }
    const report: ArchiveReport = {
      objects: all.length,
      bytes,
      records: 0,
      concurrency,
      disk: [],
      s3: [],
      memory: [],
    };
    for (let round = 0; round < rounds; round++) {
      report.disk.push(await timed(fileInput([path.join(exportDir, "AWSLogs")])));
      const source = s3Records({ client, location: { bucket: BUCKET, prefix: "" }, filter: {}, concurrency });
      report.s3.push(await timed({ records: source.records, inputs: 1 }));
      const local = s3Records({
        client: memoryClient(inMemory),
        location: { bucket: BUCKET, prefix: "" },
        filter: {},
        concurrency,
      });
      report.memory.push(await timed({ records: local.records, inputs: 1 }));
    }
    report.records = report.disk[0]?.records ?? 0;
    client.destroy();
    return report;
  } finally {
    await moto.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The bench section (markdown lines), or the reason it was skipped. */
export function archiveSection(r: ArchiveReport | string): string[] {
  const title = "## Triage over an archive: S3 (moto) vs disk";
  if (typeof r === "string") return [title, "", r, ""];
  const disk = median(r.disk.map((x) => x.seconds));
  const s3 = median(r.s3.map((x) => x.seconds));
  const memory = median(r.memory.map((x) => x.seconds));
  const ratio = s3 / disk;
  const rate = (seconds: number) => Math.round(r.records / seconds).toLocaleString("en-US");
  const same = r.s3.every((x) => x.records === r.records)
    ? ""
    : " (the S3 path gave a different count of lines!)";
  return [
    `${title} (${r.records.toLocaleString("en-US")} records in ${r.objects} objects, ${(r.bytes / 1e6).toFixed(1)} MB; --json output discarded; S3 concurrency ${r.concurrency}; median of ${r.disk.length})`,
    "",
    "| source | seconds | records/s | vs disk |",
    "|---|---:|---:|---:|",
    `| files on disk | ${disk.toFixed(2)} | ${rate(disk)} | 1.00x |`,
    `| s3:// streamed from moto | ${s3.toFixed(2)} | ${rate(s3)} | ${ratio.toFixed(2)}x |`,
    `| s3:// path, objects from memory (no HTTP) | ${memory.toFixed(2)} | ${rate(memory)} | ${(memory / disk).toFixed(2)}x |`,
    "",
    `The gap between the two S3 rows is the GetObject round trip: about ${(((s3 - memory) / r.objects) * 1000).toFixed(1)} ms of wall time per object for the SDK's request and moto's answer, moto's own CPU (about 4 ms a request; it closes each connection) sharing the machine's cores with triage. The row from memory is the cost of listing, streamed gunzip and scanning alone.`,
    "",
    `Goal ${GOAL}x (s3:// from moto vs disk): ${ratio <= GOAL ? "met" : `missed by ${((ratio / GOAL - 1) * 100).toFixed(0)}%`}${same}.`,
    "",
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const work = mkdtempSync(path.join(tmpdir(), "kms-responder-archive-bench-"));
  try {
    const events = fileURLToPath(new URL("../events", import.meta.url));
    writeExport(path.join(work, "export"), events, Number(process.env.BENCH_ARCHIVE_RECORDS ?? 50_000));
    const report = await measureArchive(
      path.join(work, "export"),
      Number(process.env.BENCH_ARCHIVE_ROUNDS ?? 3),
    );
    process.stdout.write(`${archiveSection(report).join("\n")}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
