/**
 * A small organisation trail archive for the archive tests: per account, Region and day one log
 * object (`AWSLogs/<org>/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/...json.gz`) holding a
 * rogue grant, a Decrypt that failed on a key pending deletion, and everyday calls of other
 * services, each with its own event id and time. Also a digest object, which is no trail log.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { COLUMNS } from "../../cli/athena-sql.js";

export const ORG = "o-a1b2c3d4e5";
export const ACCOUNTS = ["111122223333", "444455556666"] as const;
export const REGIONS = ["eu-west-1", "us-east-1"] as const;
export const DAYS = ["2026-11-27", "2026-11-28", "2026-11-29"] as const;

type Json = Record<string, unknown>;

function detail(file: string): Json {
  return (JSON.parse(readFileSync(file, "utf8")) as { detail: Json }).detail;
}

const GRANT = detail("events/rogue-grant/external-grantee.json");
const PENDING = detail("events/pending-deletion-key-used/decrypt-pending-deletion.json");

function other(eventSource: string, eventName: string): Json {
  return {
    eventVersion: "1.10",
    userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/app/app" },
    eventSource,
    eventName,
    requestParameters: { note: 'a "quoted" } brace and a \\ backslash' },
    responseElements: null,
  };
}

/** The records of one log object. */
export function recordsFor(account: string, region: string, day: string): Json[] {
  const id = `${account}-${region}-${day}`;
  const at = (time: string) => `${day}T${time}Z`;
  const place = { awsRegion: region, recipientAccountId: account };
  return [
    { ...other("s3.amazonaws.com", "GetObject"), ...place, eventTime: at("01:00:00"), eventID: `s3-${id}` },
    { ...GRANT, ...place, eventTime: at("02:00:00"), eventID: `grant-${id}` },
    {
      ...other("ec2.amazonaws.com", "DescribeInstances"),
      ...place,
      eventTime: at("03:00:00"),
      eventID: `ec2-${id}`,
    },
    { ...PENDING, ...place, eventTime: at("04:00:00"), eventID: `pending-${id}` },
  ];
}

export function logKey(account: string, region: string, day: string, prefix = ""): string {
  const [y, m, d] = day.split("-");
  return `${prefix}AWSLogs/${ORG}/${account}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${y}${m}${d}T0000Z_abc.json.gz`;
}

/** Every object of the archive, key -> bytes (gzip'd log files, plus one digest file). */
export function archiveObjects(prefix = ""): Map<string, Buffer> {
  const objects = new Map<string, Buffer>();
  for (const account of ACCOUNTS)
    for (const region of REGIONS)
      for (const day of DAYS)
        objects.set(
          logKey(account, region, day, prefix),
          gzipSync(JSON.stringify({ Records: recordsFor(account, region, day) })),
        );
  const digest = `${prefix}AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail-Digest/us-east-1/2026/11/28/digest.json.gz`;
  objects.set(digest, gzipSync(JSON.stringify({ digest: true })));
  return new Map([...objects.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** What an in-memory bucket was asked: list calls (prefix, and each call's input) and objects read (key). */
export interface BucketCalls {
  lists: string[];
  listInputs: ListObjectsV2CommandInput[];
  listedKeys: string[];
  gets: string[];
}

/**
 * An S3 client answering from `objects` as S3 does: ListObjectsV2 with prefix, delimiter and
 * start-after (ignored once a continuation token is given), `pageSize` keys and prefixes per page
 * with continuation tokens; GetObject as a stream.
 */
export function bucketClient(
  objects: Map<string, Buffer>,
  pageSize = 1000,
): { client: S3Client; calls: BucketCalls; restore: () => void } {
  const client = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const mock = mockClient(client);
  const calls: BucketCalls = { lists: [], listInputs: [], listedKeys: [], gets: [] };
  mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => {
    const prefix = input.Prefix ?? "";
    calls.lists.push(prefix);
    calls.listInputs.push(input);
    // As S3 does, a continuation token carries on the listing it came from (start-after included).
    const [from = "0", ...startAfter] = (input.ContinuationToken ?? "").split(":");
    const after =
      input.ContinuationToken === undefined ? input.StartAfter : startAfter.join(":") || undefined;
    const entries = listingEntries(objects, prefix, input.Delimiter, after);
    const start = Number(from);
    const page = entries.slice(start, start + pageSize);
    const truncated = start + pageSize < entries.length;
    const keys = page.filter((e) => e.kind === "key").map((e) => e.value);
    calls.listedKeys.push(...keys);
    return {
      Contents: keys.map((Key) => ({ Key, Size: objects.get(Key)?.length ?? 0 })),
      CommonPrefixes: page.filter((e) => e.kind === "prefix").map((e) => ({ Prefix: e.value })),
      IsTruncated: truncated,
      ...(truncated && { NextContinuationToken: `${start + pageSize}:${after ?? ""}` }),
    };
  });
  mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    const key = input.Key ?? "";
    calls.gets.push(key);
    const bytes = objects.get(key);
    if (!bytes) throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    return { Body: Readable.from([bytes]), ContentLength: bytes.length };
  });
  return { client, calls, restore: () => mock.restore() };
}

/** The keys and common prefixes a listing returns, in key order, before paging. */
function listingEntries(
  objects: Map<string, unknown>,
  prefix: string,
  delimiter: string | undefined,
  after: string | undefined,
): Array<{ kind: "key" | "prefix"; value: string }> {
  const entries: Array<{ kind: "key" | "prefix"; value: string }> = [];
  const seen = new Set<string>();
  for (const key of objects.keys()) {
    if (!key.startsWith(prefix) || (after !== undefined && key <= after)) continue;
    const rest = key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (cut < 0) {
      entries.push({ kind: "key", value: key });
      continue;
    }
    const p = prefix + rest.slice(0, cut + 1);
    if (!seen.has(p)) {
      seen.add(p);
      entries.push({ kind: "prefix", value: p });
    }
  }
  return entries;
}

/** A record as a row of the query: the columns the query selects. */
export function rowOf(record: Record<string, unknown>): Array<string | undefined> {
  const identity = (record.userIdentity ?? {}) as Record<string, unknown>;
  const session = (identity.sessionContext ?? {}) as Record<string, Record<string, unknown>>;
  const json = (v: unknown) => (v === undefined || v === null ? undefined : JSON.stringify(v));
  const values: Record<string, string | undefined> = {
    eventversion: record.eventVersion as string,
    eventid: record.eventID as string,
    eventtime: record.eventTime as string,
    eventsource: record.eventSource as string,
    eventname: record.eventName as string,
    eventtype: record.eventType as string | undefined,
    awsregion: record.awsRegion as string,
    recipientaccountid: record.recipientAccountId as string,
    sourceipaddress: record.sourceIPAddress as string | undefined,
    useragent: record.userAgent as string | undefined,
    errorcode: record.errorCode as string | undefined,
    errormessage: record.errorMessage as string | undefined,
    requestparameters: json(record.requestParameters),
    responseelements: json(record.responseElements),
    additionaleventdata: json(record.additionalEventData),
    useridentity_type: identity.type as string | undefined,
    useridentity_principalid: identity.principalId as string | undefined,
    useridentity_arn: identity.arn as string | undefined,
    useridentity_accountid: identity.accountId as string | undefined,
    useridentity_invokedby: identity.invokedBy as string | undefined,
    sessionissuer_arn: session.sessionIssuer?.arn as string | undefined,
    sessionissuer_accountid: session.sessionIssuer?.accountId as string | undefined,
    mfaauthenticated: session.attributes?.mfaAuthenticated as string | undefined,
    resource_arns: json(((record.resources ?? []) as Array<{ ARN: string }>).map((r) => r.ARN)),
  };
  return COLUMNS.map((c) => values[c]);
}

/** Records as GetQueryResults rows (a missing value has no VarCharValue, as Athena sends a null). */
export function resultRows(records: Array<Record<string, unknown>>) {
  return records.map((r) => ({ Data: rowOf(r).map((v) => (v === undefined ? {} : { VarCharValue: v })) }));
}
