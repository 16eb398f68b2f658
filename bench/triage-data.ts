/**
 * A generated CloudTrail S3 export: gzip files as CloudTrail writes them,
 * `AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<rand>.json.gz`,
 * each `{"Records":[...]}` of a few hundred records, 15% of them KMS events of every kind the
 * fixtures under events/ hold (grants, deletions, policies, failed calls, service calls), the rest
 * the everyday traffic of an account (S3, EC2, STS, IAM, Lambda, DynamoDB, CloudWatch Logs).
 * Deterministic: the same seed gives the same export.
 */
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";

type Json = Record<string, unknown>;

function kmsTemplates(eventsDir: string): Json[] {
  const out: Json[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".json")) {
        const event = JSON.parse(readFileSync(full, "utf8")) as Json;
        const detail = event.detail;
        if (typeof detail === "object" && detail !== null) out.push(detail as Json);
      }
    }
  };
  walk(eventsDir);
  return out;
}

function identity(user: string): Json {
  return {
    type: "AssumedRole",
    principalId: `AROAEXAMPLE${user.toUpperCase()}:${user}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${user}/${user}-session`,
    accountId: ACCOUNT,
    accessKeyId: "ASIAEXAMPLEEXAMPLE01",
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: `AROAEXAMPLE${user.toUpperCase()}`,
        arn: `arn:aws:iam::${ACCOUNT}:role/${user}`,
        accountId: ACCOUNT,
        userName: user,
      },
      attributes: { creationDate: "2026-11-28T17:00:00Z", mfaAuthenticated: "false" },
    },
  };
}

/** Everyday non-KMS calls, shaped as CloudTrail writes them. */
const OTHER: Json[] = [
  {
    eventSource: "s3.amazonaws.com",
    eventName: "GetObject",
    eventCategory: "Data",
    readOnly: true,
    requestParameters: {
      bucketName: "app-data-prod",
      key: "exports/2026/11/28/part-00042.parquet",
      Host: "app-data-prod.s3.amazonaws.com",
    },
    responseElements: null,
    additionalEventData: { SignatureVersion: "SigV4", bytesTransferredOut: 1048576, "x-amz-id-2": "EXAMPLE" },
    resources: [
      { type: "AWS::S3::Object", ARN: "arn:aws:s3:::app-data-prod/exports/2026/11/28/part-00042.parquet" },
    ],
  },
  {
    eventSource: "ec2.amazonaws.com",
    eventName: "DescribeInstances",
    readOnly: true,
    requestParameters: {
      instancesSet: {},
      filterSet: { items: [{ name: "tag:team", valueSet: { items: [{ value: "payments" }] } }] },
    },
    responseElements: null,
  },
  {
    eventSource: "sts.amazonaws.com",
    eventName: "AssumeRole",
    readOnly: true,
    requestParameters: {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
      roleSessionName: "github-actions-1234",
      durationSeconds: 3600,
    },
    responseElements: {
      credentials: {
        accessKeyId: "ASIAEXAMPLEEXAMPLE02",
        sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE",
        expiration: "Nov 28, 2026, 7:30:00 PM",
      },
      assumedRoleUser: {
        assumedRoleId: "AROAEXAMPLEDEPLOY:github-actions-1234",
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/github-actions-1234`,
      },
    },
  },
  {
    eventSource: "iam.amazonaws.com",
    eventName: "ListRoles",
    readOnly: true,
    requestParameters: { maxItems: 100 },
    responseElements: null,
  },
  {
    eventSource: "lambda.amazonaws.com",
    eventName: "Invoke",
    eventCategory: "Data",
    readOnly: false,
    requestParameters: {
      functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:orders-api`,
      invocationType: "RequestResponse",
    },
    responseElements: null,
  },
  {
    eventSource: "dynamodb.amazonaws.com",
    eventName: "PutItem",
    eventCategory: "Data",
    readOnly: false,
    requestParameters: { tableName: "orders", key: { pk: "ORDER#2026-11-28#000042" } },
    responseElements: null,
    resources: [
      {
        accountId: ACCOUNT,
        type: "AWS::DynamoDB::Table",
        ARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`,
      },
    ],
  },
  {
    eventSource: "logs.amazonaws.com",
    eventName: "CreateLogStream",
    readOnly: false,
    requestParameters: {
      logGroupName: "/aws/lambda/orders-api",
      logStreamName: "2026/11/28/[$LATEST]0123456789abcdef",
    },
    responseElements: null,
  },
];

/** A small deterministic generator (the export must be the same every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function hex(next: () => number, length: number): string {
  return Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join("");
}

function uuid(next: () => number): string {
  const h = hex(next, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export interface Export {
  /** The `AWSLogs` directory (all days). */
  root: string;
  /** One directory per day, each a quarter of the records. */
  days: string[];
  records: number;
  files: number;
  kmsRecords: number;
  bytes: number;
}

/**
 * Writes `records` records over `days` days of 5-minute files of `perFile` records.
 * @returns where they are, and how many of them are KMS events.
 */
export function writeExport(
  dir: string,
  eventsDir: string,
  records = 200_000,
  days = 4,
  perFile = 300,
): Export {
  const next = rng(20261128);
  const kms = kmsTemplates(eventsDir);
  const users = ["app", "deploy", "analyst", "batch", "ops"];
  const root = path.join(dir, "AWSLogs");
  const dayDirs: string[] = [];
  let written = 0;
  let files = 0;
  let kmsRecords = 0;
  let bytes = 0;
  const perDay = Math.ceil(records / days);
  for (let d = 0; d < days; d++) {
    const day = new Date(Date.UTC(2026, 10, 25 + d));
    const dayDir = path.join(
      root,
      ACCOUNT,
      "CloudTrail",
      REGION,
      String(day.getUTCFullYear()),
      pad(day.getUTCMonth() + 1),
      pad(day.getUTCDate()),
    );
    mkdirSync(dayDir, { recursive: true });
    dayDirs.push(dayDir);
    for (let inDay = 0, slot = 0; inDay < perDay && written < records; slot++) {
      const n = Math.min(perFile, perDay - inDay, records - written);
      const at = new Date(day.getTime() + slot * 5 * 60_000);
      const stamp = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}T${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}Z`;
      const batch: Json[] = [];
      for (let i = 0; i < n; i++) {
        const eventTime = `${new Date(at.getTime() + i * 1000).toISOString().slice(0, 19)}Z`;
        const isKms = next() < 0.15;
        const base = isKms
          ? (kms[Math.floor(next() * kms.length)] ?? {})
          : {
              eventVersion: "1.10",
              userIdentity: identity(users[Math.floor(next() * users.length)] ?? "app"),
              awsRegion: REGION,
              sourceIPAddress: `198.51.100.${Math.floor(next() * 250)}`,
              userAgent: "aws-sdk-java/2.25.6 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10",
              eventType: "AwsApiCall",
              managementEvent: true,
              recipientAccountId: ACCOUNT,
              eventCategory: "Management",
              tlsDetails: { tlsVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256" },
              ...(OTHER[Math.floor(next() * OTHER.length)] ?? {}),
            };
        if (isKms) kmsRecords++;
        batch.push({ ...base, eventTime, eventID: uuid(next), requestID: uuid(next) });
      }
      const name = `${ACCOUNT}_CloudTrail_${REGION}_${stamp}_${hex(next, 16)}.json.gz`;
      const gz = gzipSync(JSON.stringify({ Records: batch }));
      writeFileSync(path.join(dayDir, name), gz);
      bytes += gz.length;
      files++;
      inDay += n;
      written += n;
    }
  }
  return { root, days: dayDirs, records: written, files, kmsRecords, bytes };
}

/**
 * One JSON-lines file of `records` records taken round-robin from the export's first day
 * (what `jq -c '.Records[]'` over an export gives): the single-huge-file case.
 */
export async function writeJsonLines(file: string, source: Export, records: number): Promise<number> {
  const { gunzipSync } = await import("node:zlib");
  const pool: string[] = [];
  const dayDir = source.days[0] ?? source.root;
  for (const name of readdirSync(dayDir).slice(0, 40)) {
    const doc = JSON.parse(gunzipSync(readFileSync(path.join(dayDir, name))).toString("utf8")) as {
      Records: unknown[];
    };
    for (const r of doc.Records) pool.push(JSON.stringify(r));
  }
  const out = createWriteStream(file);
  let bytes = 0;
  for (let i = 0; i < records; i++) {
    const line = `${pool[i % pool.length]}\n`;
    bytes += line.length;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return bytes;
}
