/**
 * `triage --athena TABLE`: one query over a CloudTrail table (athena-sql.ts), its result pages
 * rebuilt into CloudTrail records and handed to the same decisions as files and buckets.
 *
 * StartQueryExecution, then GetQueryExecution until the query ends (polling slows from 0.5 s to
 * 5 s), then GetQueryResults page by page: only one page of rows is held at a time. A query that
 * fails or is cancelled ends the run with Athena's reason (exit 2, as an unreadable input).
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type Row,
  StartQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { ConfigError } from "../../functions/shared/errors.js";
import type { JsonObject } from "../../functions/shared/json.js";
import { COLUMNS, type Column } from "../athena-sql.js";
import type { RecordEntry, RecordSource } from "../read-records.js";

export interface AthenaSourceOptions {
  client: AthenaClient;
  query: string;
  database?: string;
  workgroup?: string;
  /** `s3://...` for the results, when the workgroup does not set one. */
  outputLocation?: string;
  /** First wait between polls (default 500 ms); doubles up to 5 s. */
  pollMs?: number;
  /** Give up after this long (default 30 minutes, Athena's own default limit). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface AthenaStats {
  queryExecutionId?: string;
  rows: number;
  pages: number;
  /** Bytes the query scanned, as Athena reports them (what it costs). */
  scannedBytes?: number;
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function parsedJson(value: string | undefined, column: string): { value?: unknown; error?: string } {
  if (value === undefined || value === "" || value === "null") return {};
  try {
    return { value: JSON.parse(value) };
  } catch {
    return { error: `${column} is not JSON` };
  }
}

/**
 * A row of the query, as the CloudTrail record it was read from (the fields the normaliser reads).
 * Absent columns stay absent; `requestparameters` and the other JSON strings are parsed.
 */
export function recordOfRow(row: Partial<Record<Column, string>>): { value: JsonObject } | { error: string } {
  const out: JsonObject = {};
  const put = (name: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== "") out[name] = value;
  };
  put("eventVersion", row.eventversion);
  put("eventID", row.eventid);
  put("eventTime", row.eventtime);
  put("eventSource", row.eventsource);
  put("eventName", row.eventname);
  put("eventType", row.eventtype);
  put("awsRegion", row.awsregion);
  put("recipientAccountId", row.recipientaccountid);
  put("sourceIPAddress", row.sourceipaddress);
  put("userAgent", row.useragent);
  put("errorCode", row.errorcode);
  put("errorMessage", row.errormessage);
  for (const [column, field] of [
    ["requestparameters", "requestParameters"],
    ["responseelements", "responseElements"],
    ["additionaleventdata", "additionalEventData"],
  ] as const) {
    const parsed = parsedJson(row[column], column);
    if (parsed.error) return { error: `${parsed.error} (event ${row.eventid ?? "without an id"})` };
    put(field, parsed.value);
  }
  const identity: JsonObject = {};
  const idPut = (name: string, value: string | undefined) => {
    if (value) identity[name] = value;
  };
  idPut("type", row.useridentity_type);
  idPut("principalId", row.useridentity_principalid);
  idPut("arn", row.useridentity_arn);
  idPut("accountId", row.useridentity_accountid);
  idPut("invokedBy", row.useridentity_invokedby);
  const issuer: JsonObject = {};
  if (row.sessionissuer_arn) issuer.arn = row.sessionissuer_arn;
  if (row.sessionissuer_accountid) issuer.accountId = row.sessionissuer_accountid;
  const session: JsonObject = {};
  if (Object.keys(issuer).length) session.sessionIssuer = issuer;
  if (row.mfaauthenticated) session.attributes = { mfaAuthenticated: row.mfaauthenticated };
  if (Object.keys(session).length) identity.sessionContext = session;
  out.userIdentity = identity;
  const arns = parsedJson(row.resource_arns, "resource_arns");
  if (arns.error) return { error: `${arns.error} (event ${row.eventid ?? "without an id"})` };
  if (Array.isArray(arns.value))
    put(
      "resources",
      arns.value.filter((a): a is string => typeof a === "string").map((ARN) => ({ ARN })),
    );
  return { value: out };
}

function cells(row: Row): Array<string | undefined> {
  return (row.Data ?? []).map((d) => d.VarCharValue);
}

/** The query's rows as record entries, one batch per result page. */
export function athenaRecords(options: AthenaSourceOptions): { records: RecordSource; stats: AthenaStats } {
  const stats: AthenaStats = { rows: 0, pages: 0 };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function* records(): RecordSource {
    const id = await startQuery(options);
    stats.queryExecutionId = id;
    await waitForQuery(options, id, stats, sleep);
    yield* resultBatches(options.client, id, stats);
  }

  return { records: records(), stats };
}

/** Starts the query; returns its execution id. */
async function startQuery(options: AthenaSourceOptions): Promise<string> {
  let id: string | undefined;
  try {
    const started = await options.client.send(
      new StartQueryExecutionCommand({
        QueryString: options.query,
        ...(options.database && { QueryExecutionContext: { Database: options.database } }),
        ...(options.workgroup && { WorkGroup: options.workgroup }),
        ...(options.outputLocation && { ResultConfiguration: { OutputLocation: options.outputLocation } }),
      }),
    );
    id = started.QueryExecutionId;
  } catch (error) {
    throw new ConfigError(`cannot start the Athena query: ${message(error)}`);
  }
  if (!id) throw new ConfigError("Athena started no query (no QueryExecutionId)");
  return id;
}

/** Polls the query (backing off to 5 s) until it succeeds; throws when it fails, is cancelled or runs out of time. */
async function waitForQuery(
  options: AthenaSourceOptions,
  id: string,
  stats: AthenaStats,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let wait = options.pollMs ?? 500;
  for (;;) {
    let state: string | undefined;
    let reason: string | undefined;
    try {
      const got = await options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      state = got.QueryExecution?.Status?.State;
      reason = got.QueryExecution?.Status?.StateChangeReason;
      stats.scannedBytes = got.QueryExecution?.Statistics?.DataScannedInBytes;
    } catch (error) {
      throw new ConfigError(`cannot follow the Athena query ${id}: ${message(error)}`);
    }
    if (state === "SUCCEEDED") return;
    if (state === "FAILED" || state === "CANCELLED")
      throw new ConfigError(`the Athena query ${id} ${state.toLowerCase()}: ${reason ?? "no reason given"}`);
    if (Date.now() > deadline)
      throw new ConfigError(`the Athena query ${id} did not finish in time (still ${state ?? "unknown"})`);
    await sleep(wait);
    wait = Math.min(wait * 2, 5_000);
  }
}

/** The finished query's result pages as batches of record entries. */
async function* resultBatches(client: AthenaClient, id: string, stats: AthenaStats): RecordSource {
  const file = `athena:${id}`;
  let names: string[] | undefined;
  let token: string | undefined;
  do {
    let page: Awaited<ReturnType<typeof readPage>>;
    try {
      page = await readPage(client, id, token);
    } catch (error) {
      throw new ConfigError(`cannot read the results of the Athena query ${id}: ${message(error)}`);
    }
    stats.pages++;
    let rows = page.rows;
    if (!names) {
      names = page.columns.length ? page.columns : (rows[0] ?? []).map((c) => c ?? "");
      // The first row of the first page repeats the column names.
      const first = rows[0];
      if (first?.every((c, i) => c === names?.[i])) rows = rows.slice(1);
    }
    const batch: RecordEntry[] = [];
    for (const row of rows) {
      batch.push({ file, index: stats.rows, ...recordOfRow(rowValues(names, row)) });
      stats.rows++;
    }
    if (batch.length) yield batch;
    token = page.next;
  } while (token);
}

/** A row's cells by column name, only the columns a record is rebuilt from. */
function rowValues(names: string[], row: Array<string | undefined>): Partial<Record<Column, string>> {
  const values: Partial<Record<Column, string>> = {};
  for (const [i, name] of names.entries()) {
    const value = row[i];
    if (value !== undefined && (COLUMNS as readonly string[]).includes(name)) values[name as Column] = value;
  }
  return values;
}

async function readPage(
  client: AthenaClient,
  id: string,
  token: string | undefined,
): Promise<{ columns: string[]; rows: Array<Array<string | undefined>>; next?: string }> {
  const res = await client.send(
    new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
  );
  return {
    columns: (res.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? ""),
    rows: (res.ResultSet?.Rows ?? []).map(cells),
    next: res.NextToken,
  };
}
