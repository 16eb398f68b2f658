/**
 * The archive inputs of `triage` (an `s3://` location, an Athena table) and `athena-ddl`, as the
 * command line gives them: the options they add to `triage`, the triage input they make, and what
 * is left to do when triage ends (the progress bar, the checkpoint, a summary on stderr).
 *
 * Loaded on demand by the command line: the S3 and Athena clients are imported only when an
 * archive is read.
 */

import { parseArgs } from "node:util";
import type { AthenaClient } from "@aws-sdk/client-athena";
import type { S3Client } from "@aws-sdk/client-s3";
import { createTableDdl, kmsEventsQuery, tableName } from "../athena-sql.js";
import { type CliIo, UsageError } from "../io.js";
import type { NotKmsRow, TriageInput, TriageRow } from "../triage.js";
import { athenaRecords } from "./athena.js";
import { type Checkpoint, openCheckpoint } from "./checkpoint.js";
import { type ArchiveFilter, parseFilter } from "./filter.js";
import type { ArchiveValues } from "./options.js";
import { DEFAULT_CONCURRENCY, defaultS3Client, isS3Uri, parseS3Uri, s3ProgressBar, s3Records } from "./s3.js";

/** The AWS clients of archive reads, created on first use (tests replace them). */
let clients: { s3?: () => S3Client; athena?: () => Promise<AthenaClient> | AthenaClient } = {};
export function setArchiveClients(factories: typeof clients): void {
  clients = factories;
}

export interface ArchiveRun {
  input: TriageInput;
  /** Give triage's rows to this (counts findings for the progress bar). */
  onRow?: (row: TriageRow | NotKmsRow) => void;
  /** After triage: stops the bar, closes the checkpoint, says on stderr what was read. */
  finish: () => Promise<void>;
}

function concurrencyOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--concurrency must be a whole number from 1 to 64 (got "${value}")`);
  return n;
}

/**
 * The archive input the command line names, or undefined when it names files (the caller reads
 * them as before). @throws UsageError on a wrong combination or value.
 */
export async function archiveInput(
  values: ArchiveValues,
  positionals: readonly string[],
  io: CliIo & { stderr?: NodeJS.WritableStream },
): Promise<ArchiveRun | undefined> {
  const s3 = positionals.filter(isS3Uri);
  if (values.athena === undefined && s3.length === 0) {
    rejectArchiveFlags(values);
    return undefined;
  }
  const filter = parseFilter(values);
  if (values.athena !== undefined) return athenaRun(values.athena, values, positionals, filter, io);
  return s3Run(values, positionals, s3, filter, io);
}

/** Files are read: the archive flags are refused. */
function rejectArchiveFlags(values: ArchiveValues): void {
  const stray = (
    [
      ["--since", values.since],
      ["--until", values.until],
      ["--accounts", values.accounts],
      ["--regions", values.regions],
      ["--concurrency", values.concurrency],
      ["--resume", values.resume],
      ["--workgroup", values.workgroup],
      ["--database", values.database],
      ["--output-location", values["output-location"]],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (stray.length)
    throw new UsageError(
      `${stray.map(([f]) => f).join(", ")} appl${stray.length === 1 ? "ies" : "y"} to an s3:// location or --athena only`,
    );
}

/** `--athena TABLE`: the query's rows. */
async function athenaRun(
  athena: string,
  values: ArchiveValues,
  positionals: readonly string[],
  filter: ArchiveFilter,
  io: CliIo,
): Promise<ArchiveRun> {
  if (positionals.length)
    throw new UsageError("--athena reads a table: give no PATH or s3:// location with it");
  if (values.resume !== undefined || values.concurrency !== undefined)
    throw new UsageError("--resume and --concurrency apply to an s3:// location");
  const outputLocation = values["output-location"];
  if (outputLocation !== undefined && !isS3Uri(outputLocation))
    throw new UsageError(`--output-location must be an s3:// location (got "${outputLocation}")`);
  const { database, table } = tableName(athena, values.database);
  const query = kmsEventsQuery({ table, database, filter, partitioned: values.unpartitioned !== true });
  const client = clients.athena ? await clients.athena() : await defaultAthenaClient();
  const source = athenaRecords({
    client,
    query,
    database,
    workgroup: values.workgroup,
    outputLocation,
  });
  return {
    input: {
      records: source.records,
      inputs: 1,
      remark: () =>
        `the query ${source.stats.queryExecutionId ?? "(not started)"} returned ${source.stats.rows} rows`,
    },
    finish: async () => {
      const scanned =
        source.stats.scannedBytes !== undefined
          ? `, ${(source.stats.scannedBytes / 1024 / 1024).toFixed(1)} MiB scanned`
          : "";
      io.err(
        `athena: query ${source.stats.queryExecutionId ?? "-"}: ${source.stats.rows} KMS events in ${source.stats.pages} pages${scanned}`,
      );
    },
  };
}

/** An `s3://` location: its log objects, read concurrently, with a progress bar and a checkpoint. */
async function s3Run(
  values: ArchiveValues,
  positionals: readonly string[],
  s3: string[],
  filter: ArchiveFilter,
  io: CliIo & { stderr?: NodeJS.WritableStream },
): Promise<ArchiveRun> {
  const filterGiven = [values.since, values.until, values.accounts, values.regions].some(
    (v) => v !== undefined,
  );
  if (s3.length !== positionals.length)
    throw new UsageError("give either s3:// locations or local paths, not both");
  if (s3.length > 1) throw new UsageError("triage reads one s3:// location at a time");
  if (
    values.workgroup !== undefined ||
    values.database !== undefined ||
    values["output-location"] !== undefined
  )
    throw new UsageError("--workgroup, --database and --output-location apply to --athena");
  const location = parseS3Uri(s3[0] ?? "");
  const concurrency = concurrencyOf(values.concurrency);
  let checkpoint: Checkpoint | undefined;
  if (values.resume !== undefined) checkpoint = await openCheckpoint(values.resume, io.drain);
  const bar = io.isTty ? s3ProgressBar(io.stderr ?? process.stderr) : undefined;
  const source = s3Records({
    client: clients.s3 ? clients.s3() : defaultS3Client(),
    location,
    filter,
    concurrency,
    checkpoint,
    onProgress: bar?.update,
  });
  return {
    input: {
      records: source.records,
      inputs: 1,
      remark: () => {
        const p = source.progress;
        const parts = [
          `${p.listed} object${p.listed === 1 ? "" : "s"} listed${filterGiven ? " within the filters" : ""}`,
        ];
        if (p.skipped) parts.push(`${p.skipped} done in an earlier run (${checkpoint?.file})`);
        return parts.join("; ");
      },
      finished: () => source.progress.listed > 0 && source.progress.skipped === source.progress.listed,
    },
    onRow: (row) => {
      if ("severity" in row && row.severity) source.finding();
    },
    finish: async () => {
      bar?.stop();
      await checkpoint?.close();
      const p = source.progress;
      io.err(
        `s3: ${p.objects} object${p.objects === 1 ? "" : "s"} read (${(p.bytes / 1024 / 1024).toFixed(1)} MiB), ${p.records} records${p.skipped ? `, ${p.skipped} skipped as done before` : ""}; ${source.list.listCalls} list calls`,
      );
    },
  };
}

async function defaultAthenaClient(): Promise<AthenaClient> {
  const { AthenaClient } = await import("@aws-sdk/client-athena");
  return new AthenaClient({});
}

/** `kms-responder athena-ddl`: prints the CREATE EXTERNAL TABLE of an organisation trail's bucket. */
export async function athenaDdlCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      bucket: { type: "string" },
      "org-id": { type: "string" },
      table: { type: "string" },
      database: { type: "string" },
      regions: { type: "string" },
      accounts: { type: "string" },
      "start-date": { type: "string" },
      prefix: { type: "string" },
    },
  });
  if (positionals.length) throw new UsageError("athena-ddl takes no PATH");
  if (!values.bucket) throw new UsageError("athena-ddl needs --bucket (the organisation trail's bucket)");
  if (!values["org-id"]) throw new UsageError("athena-ddl needs --org-id (o-...)");
  if (!values.accounts)
    throw new UsageError("athena-ddl needs --accounts: partition projection lists the accounts it reads");
  const filter = parseFilter({ accounts: values.accounts, regions: values.regions });
  io.out(
    `${createTableDdl({
      bucket: values.bucket,
      orgId: values["org-id"],
      table: values.table,
      database: values.database,
      accounts: filter.accounts ?? [],
      regions: filter.regions,
      startDate: values["start-date"],
      prefix: values.prefix,
    })};`,
  );
  return 0;
}
