/**
 * Findings in AWS Security Hub: every finding (automatic or from the runbook) mapped to the AWS
 * Security Finding Format (ASFF) and imported with BatchImportFindings when `securityHub` is on.
 *
 * - Where: the account and Region the responder runs in, under that account's default product
 *   (`arn:<partition>:securityhub:<region>:<account>:product/<account>/default`). Security Hub
 *   accepts a default-product finding only from the account named in its `AwsAccountId`, so
 *   `AwsAccountId` is the responder's account too. A central responder (organisation) imports
 *   every finding into the central (security) account: no Security Hub permission in the member
 *   role, and Security Hub's own cross-account aggregation lands member findings there anyway.
 *   The key's own account and Region stay in the resource (the key ARN) and in ProductFields.
 * - Identity: `Id` is stable per record (`kms-responder/<incident>/<event id>/<record digest>`), so
 *   a duplicate delivery or a retry updates the same finding instead of adding one, and a forged
 *   event reusing a real event's id cannot overwrite that finding (`findingId`). A runbook
 *   request has no event: its id is the action, the key and the request's time.
 * - Security Hub ignores `Workflow` (and `Note`) on an update from the provider: the workflow
 *   status set at the first import stands until someone changes it (or Security Hub resets it to
 *   NEW when the compliance status turns from PASSED to FAILED).
 *
 * The mapping (`toAsff`) is pure. The import loads the Security Hub client with a dynamic import,
 * only when enabled: a function with Security Hub off never evaluates it at cold start.
 */
import type {
  Resource as AsffResource,
  AwsSecurityFinding,
  Partition,
  SeverityLabel,
} from "@aws-sdk/client-securityhub";
import type { ActionResult } from "./actions/action.js";
import { partitionOfRegion } from "./arn.js";
import type { Config } from "./config.js";
import type { Finding } from "./decision.js";
import { describeError } from "./errors.js";
import { actorPrincipal } from "./event.js";
import { cut, findingId, ID_LIMIT, PRODUCT } from "./finding-id.js";
import { type ManualRequest, type Outcome, outcomeOf, undoCommand } from "./notify.js";
import type { Severity } from "./types.js";

export const ASFF_SCHEMA_VERSION = "2018-10-08";
export { findingId, PRODUCT, unbacked } from "./finding-id.js";

/** ASFF's limits (AwsSecurityFinding, Recommendation, ProductFields in the API reference). */
export const LIMITS = {
  id: ID_LIMIT,
  title: 256,
  description: 1024,
  recommendation: 512,
  productFieldKey: 128,
  productFieldValue: 2048,
} as const;

export const SEVERITY_LABEL: Readonly<Record<Severity, SeverityLabel>> = {
  critical: "CRITICAL",
  high: "HIGH",
  medium: "MEDIUM",
  low: "LOW",
  info: "INFORMATIONAL",
};

/**
 * Each incident's ASFF type is in its declaration (`securityHubType`); docs/security-hub.md says
 * why each incident has its type.
 */

/** A finding without a type (a planner that sets none) still imports. */
const DEFAULT_TYPES = ["Software and Configuration Checks/AWS Security Best Practices/KMS"] as const;

/** Where a finding is imported: the responder's account and Region. */
export interface ImportTarget {
  partition: string;
  region: string;
  account: string;
}

/** The default product of an account and Region (a custom integration's own findings). */
export function productArn(target: ImportTarget): string {
  return `arn:${target.partition}:securityhub:${target.region}:${target.account}:product/${target.account}/default`;
}

/** What the import needs of the pipeline's deps. */
export interface SecurityHubDeps {
  config: Pick<Config, "securityHub">;
  responder?: { region: string | undefined; account: string | undefined };
}

/**
 * The responder's account and Region. Without them (`run --direct` has no deployed responder)
 * the key's: the caller's credentials then act in the key's account and Region anyway.
 */
export function importTarget(deps: SecurityHubDeps, finding: Finding): ImportTarget | undefined {
  const region = deps.responder?.region ?? finding.key?.region ?? finding.event?.region;
  const account = deps.responder?.account ?? finding.key?.account ?? finding.event?.accountId;
  if (!region || !account) return undefined;
  return { partition: partitionOfRegion(region), region, account };
}

/** The partitions ASFF's `Resources[].Partition` names; another one is left out rather than refused. */
const ASFF_PARTITIONS: readonly string[] = ["aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b"];

function asffPartition(partition: string): Partition | undefined {
  return ASFF_PARTITIONS.includes(partition) ? (partition as Partition) : undefined;
}

/** An ASFF timestamp (ISO 8601, UTC), or undefined for a missing or unparseable one. */
function timestamp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** The current state shows nothing to fix: a verdict (`grant-gone`, ...) and nothing planned. */
function nothingWrongNow(finding: Finding): boolean {
  return (finding.verdicts?.length ?? 0) > 0 && finding.actions.length === 0;
}

function recommendation(finding: Finding, results: readonly ActionResult[], outcome: Outcome): string {
  const undo = results.map((r) => undoCommand(r, finding)).filter((u): u is string => u !== undefined);
  if (undo.length) {
    const text = `Done: ${results.map((r) => `${r.type} ${r.status}`).join(", ")}. To undo: ${undo.join(" ; ")}`;
    const note = " ... (the full command is in the SNS notification)";
    return text.length <= LIMITS.recommendation
      ? text
      : `${text.slice(0, LIMITS.recommendation - note.length)}${note}`;
  }
  const advice: Record<Outcome, string> = {
    failed:
      "The automatic action failed: read the error in the SNS notification, fix the cause, and run the action again with the runbook (kms-responder run).",
    remediated: "Remediated: nothing to undo.",
    "already-remediated": "The key was already in the intended state: nothing was changed.",
    "pending-approval":
      "Approval requested: nothing was changed yet. An approver approves or rejects the SSM Automation execution named in the notification.",
    "dry-run": "Dry run or notify mode: nothing was changed. Run the action with the runbook to apply it.",
    skipped:
      "No automatic action (the key is exempt, unknown or out of this responder's reach): review the key and act with the runbook if needed.",
    notified:
      "No automatic action for this finding: review the key and the caller, and act with the runbook if needed.",
  };
  return cut(advice[outcome], LIMITS.recommendation);
}

function description(finding: Finding, results: readonly ActionResult[], outcome: Outcome): string {
  const done = results.length
    ? results.map((r) => `${r.type} on ${r.target}: ${r.status}. ${r.detail}`).join(" ")
    : "Nothing was done automatically (notification only).";
  const details = finding.details.length ? ` ${finding.details.join(" ")}` : "";
  return cut(`${finding.summary}. Outcome: ${outcome}. ${done}${details}`, LIMITS.description);
}

function title(finding: Finding): string {
  const where = `${finding.key?.account ?? finding.event?.accountId ?? "?"}/${finding.key?.region ?? finding.event?.region ?? "?"}`;
  const store = finding.store;
  const key = store
    ? `custom key store ${store.id}`
    : `key ${finding.key?.id ?? finding.event?.keyHint ?? "unknown"}`;
  return cut(`${finding.title}: ${key} in ${where}`, LIMITS.title);
}

/** Solution-specific facts as ProductFields: string values, keys under `kms-responder/`. */
function productFields(
  finding: Finding,
  results: readonly ActionResult[],
  outcome: Outcome,
  request: ManualRequest | undefined,
): Record<string, string> {
  const event = finding.event;
  const fields: Record<string, string | undefined> = {
    incident: finding.incident,
    severity: finding.severity,
    reasons: finding.reasons.join(","),
    outcome,
    actions: results.map((r) => `${r.type}:${r.status}`).join(",") || undefined,
    verdicts: finding.verdicts?.join(","),
    keyArn: finding.key?.arn,
    keyAccount: finding.key?.account ?? event?.accountId,
    keyRegion: finding.key?.region ?? event?.region,
    keyAlias: finding.key?.alias,
    customKeyStoreId: finding.store?.id,
    customKeyStoreName: finding.store?.name,
    actor: event ? actorPrincipal(event.actor) : request?.executedBy,
    actorType: event ? event.actor.type : "Runbook",
    invokedBy: event?.actor.invokedBy,
    mfaAuthenticated:
      event?.actor.mfaAuthenticated === undefined ? undefined : String(event.actor.mfaAuthenticated),
    sourceIp: event?.sourceIp,
    userAgent: event?.userAgent,
    eventName: event?.eventName,
    eventId: event?.eventId,
    eventTime: event?.eventTime,
    errorCode: event?.errorCode,
    executedBy: request?.executedBy,
    statedBy: request?.statedBy,
    requestReason: request?.reason,
    ticket: request?.ticket,
  };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === "") continue;
    out[cut(`${PRODUCT}/${name}`, LIMITS.productFieldKey)] = cut(value, LIMITS.productFieldValue);
  }
  return out;
}

export interface AsffInput {
  finding: Finding;
  results: readonly ActionResult[];
  target: ImportTarget;
  request?: ManualRequest;
  /** When the finding is imported (`UpdatedAt`). */
  now: Date;
}

/**
 * The finding's resource: the key (`AwsKmsKey`), or a custom key store, which ASFF has no type
 * for: `Other`, identified by the store's ARN-shaped name (KMS gives custom key stores no ARN).
 */
function resourceOf(finding: Finding, target: ImportTarget, region: string): AsffResource {
  const partition = asffPartition(finding.key?.partition ?? finding.event?.partition ?? target.partition);
  const store = finding.store;
  if (store && !finding.key) {
    const account = store.account ?? target.account;
    return {
      Type: "Other",
      Id: `arn:${finding.event?.partition ?? target.partition}:kms:${store.region ?? region}:${account}:custom-key-store/${store.id}`,
      Partition: partition,
      Region: store.region ?? region,
      Details: {
        Other: { customKeyStoreId: store.id, ...(store.name && { customKeyStoreName: store.name }) },
      },
    };
  }
  return {
    Type: "AwsKmsKey",
    Id: finding.key?.arn ?? finding.event?.keyHint ?? "unknown",
    Partition: partition,
    Region: region,
  };
}

/**
 * The ASFF document of a finding and what was done about it. Pure: the same input gives the same
 * document. Every text field is cut to ASFF's limits.
 */
export function toAsff(input: AsffInput): AwsSecurityFinding {
  const { finding, results, target, request, now } = input;
  const outcome = outcomeOf(results);
  const updatedAt = now.toISOString();
  const observedAt = timestamp(finding.event?.eventTime) ?? timestamp(request?.at) ?? updatedAt;
  const types = finding.findingType ? [finding.findingType] : [...DEFAULT_TYPES];
  const severity = { Label: SEVERITY_LABEL[finding.severity], Original: finding.severity };
  const region = finding.key?.region ?? finding.event?.region ?? target.region;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: findingId(finding, request),
    ProductArn: productArn(target),
    ProductName: PRODUCT,
    GeneratorId: `${PRODUCT}/${finding.incident}`,
    AwsAccountId: target.account,
    Types: types,
    CreatedAt: observedAt,
    FirstObservedAt: observedAt,
    LastObservedAt: observedAt,
    UpdatedAt: updatedAt,
    Severity: severity,
    // Security Hub takes updates of severity and types from the provider only through these.
    FindingProviderFields: { Severity: severity, Types: types },
    Title: title(finding),
    Description: description(finding, results, outcome),
    Remediation: { Recommendation: { Text: recommendation(finding, results, outcome) } },
    ProductFields: productFields(finding, results, outcome, request),
    Resources: [resourceOf(finding, target, region)],
    Compliance: { Status: nothingWrongNow(finding) ? "PASSED" : "FAILED" },
    Workflow: { Status: outcome === "remediated" || outcome === "already-remediated" ? "RESOLVED" : "NEW" },
    RecordState: "ACTIVE",
  };
}

/**
 * What an import did, for the pipeline to log with the invocation's keys: this module loads on
 * demand, apart from the cold path's logger, so it logs nothing itself.
 */
export interface SecurityHubReport {
  /** The id of the finding imported. */
  imported?: string;
  /**
   * The import failed: what went wrong, and the error itself. The pipeline fails the invocation
   * with it (the actions stand); plain values, as this module's error classes are its own copies.
   */
  failed?: { message: string; cause: unknown };
  /** The deleted key's other findings, archived and resolved. */
  closed?: string[];
  /** Why the deleted key's findings could not be closed (they stay open; the invocation goes on). */
  closeError?: string;
}

/**
 * Imports the finding into Security Hub when the config says so; otherwise does nothing (and
 * loads nothing).
 *
 * Failure policy: the import runs after the actions and the notification. A failed import never
 * undoes an action: it is reported as the error that fails the invocation, like a failed
 * notification, so Lambda's retry imports it again (the actions then answer `already-done`, and
 * the stable id updates the same finding).
 */
export async function importToSecurityHub(
  finding: Finding,
  results: readonly ActionResult[],
  deps: SecurityHubDeps,
  request?: ManualRequest,
  now: Date = new Date(),
): Promise<SecurityHubReport> {
  if (!deps.config.securityHub) return {};
  const target = importTarget(deps, finding);
  if (!target) return failedWith(new Error("the account and Region to import into are unknown"));
  let id: string | undefined;
  try {
    const document = toAsff({ finding, results, target, now, ...(request && { request }) });
    id = document.Id;
    // Loaded here, only when enabled: see the module comment.
    const { batchImport } = await import("./clients/securityhub.js");
    await batchImport([document]);
  } catch (error) {
    return failedWith(error);
  }
  const report: SecurityHubReport = id === undefined ? {} : { imported: id };
  return finding.closesKeyFindings
    ? { ...report, ...(await closeKeyFindings(finding, target, id, now)) }
    : report;
}

function failedWith(error: unknown): SecurityHubReport {
  return { failed: { message: describeError(error), cause: error } };
}

/** A found finding as it is re-imported archived: the fields the provider owns, updated now. */
function archivedCopy(found: AwsSecurityFinding, now: Date): AwsSecurityFinding {
  return {
    SchemaVersion: found.SchemaVersion,
    Id: found.Id,
    ProductArn: found.ProductArn,
    GeneratorId: found.GeneratorId,
    AwsAccountId: found.AwsAccountId,
    Types: found.Types,
    CreatedAt: found.CreatedAt,
    UpdatedAt: now.toISOString(),
    Severity: found.Severity,
    Title: found.Title,
    Description: found.Description,
    Resources: found.Resources,
    ...(found.FindingProviderFields && { FindingProviderFields: found.FindingProviderFields }),
    ...(found.FirstObservedAt && { FirstObservedAt: found.FirstObservedAt }),
    ...(found.LastObservedAt && { LastObservedAt: found.LastObservedAt }),
    ...(found.Remediation && { Remediation: found.Remediation }),
  };
}

/**
 * The key is gone for good: every open finding this responder imported about it (other than
 * `keep`, the finding saying so) is archived and resolved through the sweep's path
 * (archiveResolved): nothing about a deleted key can be fixed any more.
 *
 * Failure policy: reported, never thrown. The findings stay open for a person to close (the sweep
 * resolves its own as soon as the key is no longer listed); failing the invocation would only
 * send the notification of the deletion again.
 */
async function closeKeyFindings(
  finding: Finding,
  target: ImportTarget,
  keep: string | undefined,
  now: Date,
): Promise<Pick<SecurityHubReport, "closed" | "closeError">> {
  const key = finding.key;
  if (!key) return {};
  try {
    const { archiveResolved, openFindingsAbout } = await import("./clients/securityhub.js");
    const open = (await openFindingsAbout(productArn(target), key.arn)).filter((f) => f.Id !== keep);
    if (open.length === 0) return {};
    const event = finding.event?.eventId ?? "?";
    await archiveResolved(
      open.map((f) => archivedCopy(f, now)),
      cut(
        `The key was deleted (KMS DeleteKey, event ${event}): nothing about it can be fixed any more.`,
        512,
      ),
    );
    return { closed: open.flatMap((f) => (f.Id ? [f.Id] : [])) };
  } catch (error) {
    return { closeError: describeError(error) };
  }
}
