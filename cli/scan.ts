/**
 * `kms-responder scan`: what is exposed now. Reads every customer managed key in the Regions (and
 * accounts, through a member role) and judges its current state with the incidents' own rules:
 * grants, policy, pending deletion, rotation, expiring material, with exempt and protected tags.
 * Reads only; the actions are what the responders would plan. Exit 0; 1 when a finding reaches
 * `--fail-on`; 2 when nothing could be read (no credentials, no Region), saying which.
 */
import { parseArgs } from "node:util";
import { KMSClient } from "@aws-sdk/client-kms";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { requestBudget } from "../functions/scan/budget.js";
import { pool, type ScanResult, type ScanTarget, scanRegion } from "../functions/scan/scan.js";
import { partitionOfRegion } from "../functions/shared/arn.js";
import type { Config } from "../functions/shared/config.js";
import type { Finding } from "../functions/shared/decision.js";
import { ConfigError } from "../functions/shared/errors.js";
import { SEVERITIES, type Severity, severityRank } from "../functions/shared/types.js";
import { AWS_OPTIONS, applyAwsFlags } from "./aws.js";
import { type CliIo, checkWritable, UsageError } from "./io.js";
import { renderTable } from "./table.js";

/** One finding as `--json` prints it. */
export interface ScanRow {
  incident: string;
  severity: Severity;
  reasons: string[];
  key: string | null;
  alias: string | null;
  account: string;
  /** The account's name: config `accountNames`, else the organisation's (organisation mode). */
  accountName: string | null;
  region: string;
  title: string;
  summary: string;
  details: string[];
  actions: Array<{ type: string; target: string; hold?: string; why?: string }>;
}

export function scanRow(
  finding: Finding,
  target: ScanTarget,
  names: Readonly<Record<string, string>> = {},
): ScanRow {
  return {
    incident: finding.incident,
    severity: finding.severity,
    reasons: finding.reasons,
    key: finding.key?.arn ?? null,
    alias: finding.key?.alias ?? null,
    account: target.account,
    accountName: names[target.account] ?? null,
    region: target.region,
    title: finding.title,
    summary: finding.summary,
    details: finding.details,
    actions: finding.actions.map((a) => ({
      type: a.type,
      target: a.grantId ? `${a.keyRef} grant ${a.grantId}` : a.keyRef,
      ...(a.hold && { hold: a.hold.code, why: a.hold.why }),
    })),
  };
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const ACCOUNT = /^\d{12}$/;

function list(value: string | undefined, flag: string, shape: RegExp, example: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  const bad = items.find((s) => !shape.test(s));
  if (bad) throw new UsageError(`${flag}: "${bad}" is not ${example}`);
  return [...new Set(items)];
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`${flag} must be a whole number from 1 to 64 (got "${value}")`);
  return n;
}

function severityOf(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const found = SEVERITIES.find((s) => s === value.toLowerCase());
  if (!found) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(", ")} (got "${value}")`);
  return found;
}

/** Why nothing could be read, in words a person can act on. */
export function unreadableBecause(error: unknown): string {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  if (name === "CredentialsProviderError" || /could not load credentials/i.test(message))
    return "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in with aws sso login)";
  if (
    /^(InvalidClientTokenId|UnrecognizedClientException|ExpiredToken(Exception)?|SignatureDoesNotMatch)$/.test(
      name,
    )
  )
    return `the AWS credentials were rejected (${name}: ${message.split("\n", 1)[0]})`;
  if (/region is missing/i.test(message)) return "no Region: pass --regions R,... or set AWS_REGION";
  return `${name || "Error"}: ${message.split("\n", 1)[0]}`;
}

/** Thrown when nothing at all could be read: exit 2 with the reason. */
class NothingRead extends ConfigError {
  override name = "NothingRead";
}

const CLIENT = { maxAttempts: 10, retryMode: "adaptive" } as const;

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

interface Plan {
  targets: Array<ScanTarget & { credentials: Credentials | undefined; unreachable?: string }>;
}

async function defaultRegions(config: Config): Promise<string[]> {
  if (config.organization) return [...config.organization.regions];
  try {
    return [await new STSClient({}).config.region()];
  } catch (error) {
    throw new NothingRead(unreadableBecause(error));
  }
}

async function assume(sts: STSClient, account: string, role: string, region: string): Promise<Credentials> {
  const arn = `arn:${partitionOfRegion(region)}:iam::${account}:role/${role}`;
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: "kms-responder-scan" }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error(`${arn}: STS returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

async function plan(regions: string[], accounts: string[] | undefined, role: string): Promise<Plan> {
  const first = regions[0] ?? "us-east-1";
  const sts = new STSClient({ ...CLIENT, region: first });
  let own: string;
  try {
    own = (await sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
  } catch (error) {
    throw new NothingRead(unreadableBecause(error));
  }
  const targets: Plan["targets"] = [];
  for (const account of accounts ?? [own]) {
    let credentials: Credentials | undefined;
    let unreachable: string | undefined;
    if (account !== own) {
      try {
        credentials = await assume(sts, account, role, first);
      } catch (error) {
        unreachable = `could not assume role ${role}: ${unreadableBecause(error)}`;
      }
    }
    for (const region of regions)
      targets.push({ account, region, credentials, ...(unreachable !== undefined && { unreachable }) });
  }
  return { targets };
}

function progressLine(r: ScanResult): string {
  const where = `${r.account} ${r.region}`;
  if (r.failed) return `scan: ${where}: nothing read (${r.failed})`;
  const managed = r.awsManaged ? ` (${r.awsManaged} AWS managed left out)` : "";
  const errors = r.errors.length ? `, ${r.errors.length} read errors` : "";
  return `scan: ${where}: ${r.keys} keys${managed}, ${r.findings.length} findings${errors}, ${(r.elapsedMs / 1000).toFixed(1)} s`;
}

const COLUMNS = [
  { header: "Severity", priority: 0, required: true },
  { header: "Incident", priority: 1, required: true },
  { header: "Account", priority: 3 },
  { header: "Region", priority: 4 },
  { header: "Key", priority: 2 },
  { header: "Reasons", priority: 5 },
  { header: "Would do", priority: 6 },
];

function tableLines(rows: readonly ScanRow[]): string[] {
  if (rows.length === 0) return ["No findings."];
  const cells = rows.map((r) => [
    r.severity.toUpperCase(),
    r.incident,
    r.accountName ? `${r.account} (${r.accountName})` : r.account,
    r.region,
    r.alias ? `${r.key ?? "-"} (${r.alias})` : (r.key ?? "-"),
    r.reasons.join(", "),
    r.actions.length
      ? r.actions.map((a) => (a.hold ? `${a.type} (held: ${a.hold})` : a.type)).join(", ")
      : "notify",
  ]);
  const table = renderTable(COLUMNS, cells, 120);
  return table.dropped.length
    ? [...table.lines, `(${table.dropped.join(", ")} left out to fit 120 columns: --json has every field)`]
    : table.lines;
}

export async function scanCommand(
  args: string[],
  io: CliIo,
  loadConfig: (file: string | undefined) => Promise<Config>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      regions: { type: "string" },
      accounts: { type: "string" },
      "role-name": { type: "string" },
      config: { type: "string" },
      json: { type: "boolean", default: false },
      report: { type: "string" },
      "fail-on": { type: "string" },
      concurrency: { type: "string" },
      ...AWS_OPTIONS,
    },
  });
  const problems = applyAwsFlags(values);
  if (problems.length) throw new UsageError(problems.join("; "));
  if (positionals.length) throw new UsageError(`scan takes no PATH (got ${positionals.join(" ")})`);
  const failOn = severityOf(values["fail-on"]);
  const concurrency = positiveInt(values.concurrency, "--concurrency", 8);
  const accounts = list(values.accounts, "--accounts", ACCOUNT, "a 12-digit account id");
  if (values["role-name"] !== undefined && !accounts)
    throw new UsageError("--role-name goes with --accounts");
  if (values.report !== undefined) await checkWritable(values.report, "--report");
  const loaded = await loadConfig(values.config);
  const regions =
    list(values.regions, "--regions", REGION, "a Region name like eu-west-1") ??
    (values.region !== undefined ? [values.region] : undefined) ??
    (await defaultRegions(loaded));
  const role = values["role-name"] ?? loaded.organization?.memberRoleName ?? "kms-responder-member";
  const { targets } = await plan(regions, accounts, role);
  // Organisation mode (member accounts, or an organisation's config): the accounts by their names.
  const config =
    accounts || loaded.organization
      ? await (await import("./account-names.js")).withOrganizationNames(loaded, io, regions[0])
      : loaded;

  const results: ScanResult[] = [];
  // A few accounts and Regions at a time: each has its own budget, so they do not slow each other.
  await pool(targets, 4, async (t) => {
    const target = { account: t.account, region: t.region };
    let result: ScanResult;
    if (t.unreachable)
      result = {
        ...target,
        keys: 0,
        awsManaged: 0,
        findings: [],
        errors: [],
        failed: t.unreachable,
        elapsedMs: 0,
      };
    else {
      const kms = new KMSClient({
        ...CLIENT,
        region: t.region,
        ...(t.credentials && { credentials: t.credentials }),
      });
      result = await scanRegion({ kms, budget: requestBudget() }, target, config, {
        concurrency,
        describe: unreadableBecause,
      });
    }
    results.push(result);
    io.err(progressLine(result));
  });
  return finish(results, {
    io,
    json: values.json,
    report: values.report,
    failOn,
    generatedAt: new Date(),
    names: config.accountNames,
  });
}

interface FinishOptions {
  io: CliIo;
  json: boolean;
  report: string | undefined;
  failOn: Severity | undefined;
  generatedAt: Date;
  names: Readonly<Record<string, string>>;
}

async function finish(results: ScanResult[], options: FinishOptions): Promise<number> {
  const { io } = options;
  const read = results.filter((r) => !r.failed);
  if (read.length === 0) {
    const why = [...new Set(results.map((r) => r.failed))].join("; ");
    throw new NothingRead(`nothing could be read: ${why}`);
  }
  results.sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
  const rows = results.flatMap((r) => r.findings.map((f) => scanRow(f, r, options.names)));
  rows.sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  if (options.json) for (const row of rows) io.out(JSON.stringify(row));
  else for (const line of tableLines(rows)) io.out(line);
  const keys = read.reduce((n, r) => n + r.keys, 0);
  const managed = read.reduce((n, r) => n + r.awsManaged, 0);
  const errors = results.flatMap((r) => r.errors.map((e) => `${r.account} ${r.region} ${e}`));
  for (const e of errors.slice(0, 20)) io.err(`scan: could not read ${e}`);
  if (errors.length > 20) io.err(`scan: ... and ${errors.length - 20} more read errors`);
  const failed = results.length - read.length;
  io.err(
    `scan: ${keys} customer managed keys in ${read.length} account-Region pairs${failed ? ` (${failed} unreadable)` : ""}: ${rows.length} findings; ${managed} AWS managed keys left out (not ours to change)`,
  );
  if (options.report !== undefined) {
    const { writeReport } = await import("./report.js");
    await writeReport(
      options.report,
      rows.map((r, i) => reportRow(r, i, options.generatedAt)),
      {
        inputs: [...new Set(read.map((r) => `${r.account} ${r.region}`))],
        generatedAt: options.generatedAt,
        title: "kms-responder scan report",
        note: "The keys' state when scanned, judged by the responders' rules: what they would do. Nothing was changed.",
      },
    );
    io.err(`report: ${rows.length} findings written to ${options.report}`);
  }
  const failOn = options.failOn;
  return failOn && rows.some((r) => severityRank(r.severity) <= severityRank(failOn)) ? 1 : 0;
}

/** A scan finding in the triage report's shape: the scan time stands for the event time. */
function reportRow(row: ScanRow, index: number, at: Date) {
  return {
    eventId: null,
    eventName: "(key state)",
    eventTime: at.toISOString(),
    source: { file: `${row.account} ${row.region}`, index },
    incident: row.incident,
    severity: row.severity,
    reasons: row.reasons,
    actions: row.actions,
    key: row.alias ? `${row.key ?? ""} (${row.alias})` : row.key,
    account: row.account,
    accountName: row.accountName,
    region: row.region,
    actor: null,
    summary: row.summary,
  };
}
