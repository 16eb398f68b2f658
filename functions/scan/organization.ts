/**
 * The organisation's sweep, on Step Functions: the (account, Region) items (every active account
 * under the configured roots and units, times the configured Regions), written to the bucket for
 * the distributed Map to read (a list of thousands does not fit in a state's 256 KB payload); and
 * the summary of the Map's results, which the Map's ResultWriter left in the bucket.
 */
import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import { RETRY } from "../shared/clients/retry.js";
import { PublishCommand } from "../shared/clients/sns-sdk.js";
import type { Config } from "../shared/config.js";
import type { ScanTarget } from "./scan.js";
import type { SweepSummary } from "./sweep.js";

/** Where the item list is written; the state machine's ItemReader reads this key. */
export const ITEMS_KEY = "scan/items.json";
/** Where the Map's ResultWriter writes. */
export const RESULTS_PREFIX = "scan/results";

const organizations = new OrganizationsClient(RETRY);
/** The bucket's client for the items and the results (this module is loaded on demand, with it). */
export const s3 = new S3Client(RETRY);

async function pages<T>(
  page: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>,
) {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const out = await page(token);
    all.push(...out.items);
    token = out.next;
  } while (token);
  return all;
}

/** Every active account under a root or unit, its child units included. */
async function accountsUnder(parent: string, client: OrganizationsClient): Promise<string[]> {
  const accounts = await pages(async (NextToken) => {
    const out = await client.send(new ListAccountsForParentCommand({ ParentId: parent, NextToken }));
    const active = (out.Accounts ?? []).filter((a) => (a.State ?? a.Status) === "ACTIVE");
    return { items: active.flatMap((a) => (a.Id ? [a.Id] : [])), next: out.NextToken };
  });
  const units = await pages(async (NextToken) => {
    const out = await client.send(
      new ListOrganizationalUnitsForParentCommand({ ParentId: parent, NextToken }),
    );
    return {
      items: (out.OrganizationalUnits ?? []).flatMap((u) => (u.Id ? [u.Id] : [])),
      next: out.NextToken,
    };
  });
  for (const unit of units) accounts.push(...(await accountsUnder(unit, client)));
  return accounts;
}

/** The (account, Region) pairs of the organisation, accounts in order, each once. */
export async function organizationItems(config: Config, client = organizations): Promise<ScanTarget[]> {
  const org = config.organization;
  if (!org) throw new Error("the organisation sweep needs organization in the config");
  const accounts = new Set<string>();
  for (const parent of org.organizationalUnitIds)
    for (const a of await accountsUnder(parent, client)) accounts.add(a);
  return [...accounts].sort().flatMap((account) => org.regions.map((region) => ({ account, region })));
}

export async function writeItems(s3: S3Client, bucket: string, items: readonly ScanTarget[]): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: ITEMS_KEY,
      Body: JSON.stringify(items),
      ContentType: "application/json",
    }),
  );
}

async function readJson(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await out.Body?.transformToString()) ?? "null");
}

interface Manifest {
  ResultFiles?: { SUCCEEDED?: Array<{ Key: string }>; FAILED?: Array<{ Key: string }> };
}

/** A child execution's record in a result file: its output is the sweep's summary, as a JSON string. */
interface ChildResult {
  Input?: string;
  Output?: string;
  Error?: string;
  Cause?: string;
}

export interface OrganizationSummary {
  pairs: number;
  failed: number;
  keys: number;
  findings: number;
  notified: number;
  resolved: number;
  failures: string[];
}

/** Adds up the Map's results from the manifest its ResultWriter wrote. */
export async function summarise(
  s3: S3Client,
  bucket: string,
  manifestKey: string,
): Promise<OrganizationSummary> {
  const manifest = (await readJson(s3, bucket, manifestKey)) as Manifest;
  const sum: OrganizationSummary = {
    pairs: 0,
    failed: 0,
    keys: 0,
    findings: 0,
    notified: 0,
    resolved: 0,
    failures: [],
  };
  for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
    for (const child of (await readJson(s3, bucket, file.Key)) as ChildResult[]) {
      const out = JSON.parse(child.Output ?? "{}") as Partial<SweepSummary>;
      sum.pairs++;
      sum.keys += out.keys ?? 0;
      sum.findings += out.findings ?? 0;
      sum.notified += out.notified ?? 0;
      sum.resolved += out.resolved ?? 0;
    }
  }
  for (const file of manifest.ResultFiles?.FAILED ?? []) {
    for (const child of (await readJson(s3, bucket, file.Key)) as ChildResult[]) {
      sum.pairs++;
      sum.failed++;
      const item = JSON.parse(child.Input ?? "{}") as Partial<ScanTarget>;
      sum.failures.push(
        `${item.account ?? "?"} ${item.region ?? "?"}: ${child.Error ?? "error"} ${child.Cause ?? ""}`.trim(),
      );
    }
  }
  return sum;
}

/** The summary notification: one message per organisation sweep (severity info, incident scan). */
export async function publishSummary(
  sns: SNSClient,
  topicArn: string,
  sum: OrganizationSummary,
): Promise<void> {
  const lines = [
    `The organisation sweep read ${sum.keys} customer managed keys in ${sum.pairs - sum.failed} of ${sum.pairs} account-Region pairs.`,
    `${sum.findings} findings: ${sum.notified} new or changed (notified on their own), ${sum.resolved} no longer seen.`,
    ...(sum.failed
      ? ["", `${sum.failed} pairs could not be swept:`, ...sum.failures.slice(0, 50).map((f) => `  ${f}`)]
      : []),
  ];
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject:
        `kms-responder sweep: ${sum.findings} findings, ${sum.notified} new${sum.failed ? `, ${sum.failed} pairs failed` : ""}`.slice(
          0,
          99,
        ),
      Message: lines.join("\n"),
      MessageAttributes: {
        severity: { DataType: "String", StringValue: sum.failed ? "medium" : "info" },
        incident: { DataType: "String", StringValue: "scan" },
      },
    }),
  );
}
