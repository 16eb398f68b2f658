/**
 * Triage on threads (cli/parallel-read.ts) gives what triage on one thread gives: the same lines in
 * the same order, the same table, the same OCSF findings and exit codes, over a generated export
 * that holds every kind of KMS record in the fixtures, a key's records spread over several files
 * (the correlation the main thread keeps), and files that cannot be read whole.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeExport } from "../../bench/triage-data.js";
import {
  parallelReader,
  shares,
  THREADS_FROM_BYTES,
  threadCount,
  triageInParallel,
} from "../../cli/parallel-read.js";
import { listFiles, readRecordBatches } from "../../cli/read-records.js";
import { fileInput, runTriage, type TriageInput, triageAlone, triageEntry } from "../../cli/triage.js";
import { type Config, parseConfig } from "../../functions/shared/config.js";
import type { Severity } from "../../functions/shared/types.js";

const scratch = mkdtempSync(path.join(tmpdir(), "kms-responder-threads-"));
const ENFORCE = parseConfig({ mode: "enforce" });

let root: string;

beforeAll(() => {
  // 40 files of 60 records, 15% of them KMS: every kind of KMS record the fixtures hold.
  root = writeExport(path.join(scratch, "export"), "events", 2_400, 2, 60).root;
  // Beside them, files that are not plain log files: one that does not read whole, a damaged gzip,
  // JSON lines, and a file that is not JSON at all.
  const odd = path.join(root, "odd");
  mkdirSync(odd, { recursive: true });
  const record = (i: number) => ({
    eventVersion: "1.11",
    eventSource: "kms.amazonaws.com",
    eventName: "ScheduleKeyDeletion",
    eventID: `odd-${i}`,
    eventTime: "2026-11-26T00:00:00Z",
    awsRegion: "us-east-1",
    recipientAccountId: "111122223333",
    userIdentity: {
      type: "AssumedRole",
      arn: "arn:aws:sts::111122223333:assumed-role/ops/ops",
      accountId: "111122223333",
    },
    requestParameters: {
      keyId: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      pendingWindowInDays: 7,
    },
  });
  writeFileSync(
    path.join(odd, "a-lines.jsonl"),
    `${JSON.stringify(record(1))}\nnot json\n${JSON.stringify(record(2))}\n`,
  );
  const gz = gzipSync(JSON.stringify({ Records: [record(3), record(4)] }));
  writeFileSync(path.join(odd, "b-damaged.json.gz"), gz.subarray(0, gz.length - 12));
  writeFileSync(path.join(odd, "c-not-json.json"), "this is not JSON");
  writeFileSync(
    path.join(odd, "d-array.json"),
    JSON.stringify([record(5), { eventSource: "s3.amazonaws.com", eventName: "GetObject", eventID: "s3-1" }]),
  );
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Output {
  code: number;
  out: string[];
}

async function triage(
  input: TriageInput,
  options: { json?: boolean; ocsf?: boolean; all?: boolean; failOn?: Severity; config?: Config } = {},
): Promise<Output> {
  const out: string[] = [];
  const code = await runTriage(
    {
      input,
      config: options.config ?? ENFORCE,
      json: options.json ?? false,
      ocsf: options.ocsf ?? false,
      all: options.all ?? false,
      failOn: options.failOn,
      width: 200,
    },
    { out: (line) => out.push(line), err: () => undefined, isTty: false },
  );
  return { code, out };
}

/** The export read on one thread, and on threads (whatever its size: it is smaller than the threshold). */
const oneThread = () => fileInput([root]);
const threads = () => fileInput([root], ENFORCE, parallelReader(ENFORCE, 0));

describe("triage on threads", () => {
  it("writes the same JSON lines in the same order as on one thread", async () => {
    // Act
    const alone = await triage(oneThread(), { json: true });
    const parallel = await triage(threads(), { json: true });

    // Assess: every record once, findings among them, the odd files reported the same way.
    expect(alone.out.length).toBeGreaterThan(2_400);
    expect(parallel.out).toEqual(alone.out);
    expect(parallel.code).toBe(alone.code);
    const rows = parallel.out.map(
      (line) => JSON.parse(line) as { severity: string | null; skipped: string | null },
    );
    expect(rows.filter((r) => r.severity === "critical").length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.skipped === "unparseable").length).toBeGreaterThan(0);
  });

  it("answers records on the threads and leaves the main thread its own files and the records that depend on earlier ones", async () => {
    // Act
    let answered = 0;
    let forwarded = 0;
    for await (const batch of threads().records) {
      for (const entry of batch) {
        if (entry.answered) answered++;
        else forwarded++;
      }
    }

    // Assess: the triage thread has half the files (the main thread the other half).
    expect(answered).toBeGreaterThan(1_000);
    expect(forwarded).toBeGreaterThan(answered / 2);
  });

  it("prints the same table, with and without --all, and the same OCSF findings", async () => {
    for (const options of [{}, { all: true }, { ocsf: true }]) {
      const alone = await triage(oneThread(), options);
      const parallel = await triage(threads(), options);
      expect(parallel).toEqual(alone);
    }
  });

  it("fails on the same severity", async () => {
    const alone = await triage(oneThread(), { json: true, failOn: "high" });
    const parallel = await triage(threads(), { json: true, failOn: "high" });
    expect(alone.code).toBe(1);
    expect(parallel.code).toBe(1);
  });

  it("reads on the main thread what a thread that cannot start was given", async () => {
    // Arrange
    const files = await listFiles(root);
    const missing = new URL("file:///no/such/triage-worker.mjs");

    // Act
    const alone = await triage(oneThread(), { json: true });
    const parallel = await triage(
      { records: triageInParallel(files, ENFORCE, 2, missing), inputs: 1 },
      { json: true },
    );

    // Assess
    expect(parallel.out).toEqual(alone.out);
  });

  it("reads the rest on the main thread when a thread stops part-way, without losing or repeating a record", async () => {
    // Arrange: the thread hands over its first file's first record, then exits.
    const files = await listFiles(root);
    const stops = new URL("../fixtures/threads/stops-after-first-record.mjs", import.meta.url);

    // Act
    const alone = await triage(oneThread(), { json: true });
    const parallel = await triage(
      { records: triageInParallel(files, ENFORCE, 3, stops), inputs: 1 },
      { json: true },
    );

    // Assess
    expect(parallel.out).toEqual(alone.out);
  });

  it("reports a file its thread could not read once, and goes on with the next, past the batches a thread may post ahead", async () => {
    // Arrange: more files per thread than a thread may post before they are taken.
    const files = await listFiles(root);
    const fails = new URL("../fixtures/threads/fails-every-file.mjs", import.meta.url);

    // Act
    const { out } = await triage(
      { records: triageInParallel(files, ENFORCE, 2, fails), inputs: 1 },
      { json: true },
    );

    // Assess: each of the threads' files once, as the failure; the main thread's own files read.
    expect(files.filter((_, i) => shares(files.length, 2)[i] === 0).length).toBeGreaterThan(8);
    const rows = out.map(
      (line) => JSON.parse(line) as { source: { file: string }; skipped: string; why: string },
    );
    const failed = rows.filter((r) => r.why === "cannot read file (the reader broke)");
    expect(failed.map((r) => r.source.file)).toEqual(
      files.filter((_, i) => (shares(files.length, 2)[i] ?? -1) >= 0),
    );
    expect(failed.every((r) => r.skipped === "unparseable")).toBe(true);
    const mine = new Set(files.filter((_, i) => shares(files.length, 2)[i] === -1));
    const others = rows.filter((r) => !failed.includes(r));
    expect(others.length).toBeGreaterThan(failed.length);
    expect(others.every((r) => mine.has(r.source.file))).toBe(true);
  });
});

describe("when triage uses threads", () => {
  it("not for one file, standard input, or an input under the threshold", async () => {
    const files = await listFiles(root);
    const reader = parallelReader(ENFORCE);
    expect(reader(files)).toBeUndefined();
    expect(reader([files[0] ?? ""])).toBeUndefined();
    expect(parallelReader(ENFORCE, 0)([files[0] ?? ""])).toBeUndefined();
    expect(parallelReader(ENFORCE, 0)([...files, "-"])).toBeUndefined();
  });

  it("for two files or more that hold the threshold", async () => {
    const files = await listFiles(root);
    const total = files.reduce((sum, f) => sum + statSync(f).size, 0);
    expect(total).toBeLessThan(THREADS_FROM_BYTES);
    expect(parallelReader(ENFORCE, total)(files)).toBeDefined();
    expect(parallelReader(ENFORCE, total + 1)(files)).toBeUndefined();
  });
});

describe("how files are shared", () => {
  it("gives the main thread (-1) the first file and four fifths of a triage thread's share, evenly along the run", () => {
    expect(shares(12, 1)).toEqual([-1, 0, -1, 0, -1, 0, -1, 0, -1, 0, 0, -1]);
    expect(shares(10, 3)).toEqual([-1, 0, 1, 2, -1, 0, 1, 2, -1, 0]);
    const many = shares(2_000, 1);
    expect(many.filter((s) => s === -1).length).toBe(889);
    expect(shares(2, 1)).toEqual([-1, 0]);
  });

  it("starts a triage thread per other core, at least one, at most three, never more than the other files", () => {
    expect(threadCount(2)).toBe(1);
    expect(threadCount(1_000)).toBeGreaterThanOrEqual(1);
    expect(threadCount(1_000)).toBeLessThanOrEqual(3);
  });
});

describe("triageAlone", () => {
  it("answers exactly as triageEntry does, or leaves to the main thread a record whose decision depends on earlier ones", async () => {
    // Arrange
    let alone = 0;
    let left: string[] = [];
    for await (const batch of readRecordBatches([root])) {
      for (const entry of batch) {
        // Act
        const row = triageAlone(entry, ENFORCE);

        // Assess
        if (row) {
          alone++;
          expect(row).toEqual(triageEntry(entry, ENFORCE));
        } else left.push((entry.value as { eventName?: string }).eventName ?? "");
      }
    }
    left = [...new Set(left)].sort();
    expect(alone).toBeGreaterThan(2_000);
    // The names incidents remember, and those that the incidents which remember decide.
    expect(left).toEqual(
      expect.arrayContaining([
        "EnableKeyRotation",
        "ImportKeyMaterial",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
      ]),
    );
    expect(left).not.toContain("CreateGrant");
  });
});
