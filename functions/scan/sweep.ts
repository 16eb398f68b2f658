/**
 * The stack's sweep of one account and Region: scan, then notify each finding that is new or
 * changed since it was notified (through the shared pipeline: the same notification, Security Hub
 * import and, for incidents in `scan.enforce`, the same verified executors), resolve in Security
 * Hub what is no longer seen, and keep the record of what was notified.
 *
 * Failure policy: a finding whose notification (or enforced action) failed is left out of the
 * record, so the next sweep tries again; the record is written anyway (what did go out is not
 * repeated), then the invocation fails so the failure shows (alarms, the Map item's failure).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { INCIDENTS } from "../registry.js";
import type { Executor } from "../shared/actions/action.js";
import { parseKeyArn } from "../shared/arn.js";
import type { Config } from "../shared/config.js";
import type { Finding, PlannedAction } from "../shared/decision.js";
import { ActionError, describeError } from "../shared/errors.js";
import { findingId } from "../shared/finding-id.js";
import { logger } from "../shared/logger.js";
import { act, type PipelineDeps } from "../shared/pipeline.js";
import { type Notified, type NotifiedFinding, notifiedId, notifiedOf } from "./notified.js";
import type { Reader } from "./read.js";
import { type ScanTarget, scanRegion } from "./scan.js";

export interface SweepDeps extends PipelineDeps {
  /** The bucket's client; undefined: the record's own (store.ts, loaded with the record on demand). */
  s3?: S3Client;
  /** The stack's bucket: the notified record (and, in an organisation, the items and results). */
  bucket: string;
  /** Archives findings no longer seen (loaded only when Security Hub is on). */
  resolve?: (gone: readonly NotifiedFinding[], deps: PipelineDeps, now: Date) => Promise<void>;
}

export interface SweepSummary extends ScanTarget {
  keys: number;
  awsManaged: number;
  findings: number;
  notified: number;
  unchanged: number;
  resolved: number;
  readErrors: number;
}

/** The sweep reports; it acts only for incidents `scan.enforce` lists. */
export function enforced(finding: Finding, config: Config): Finding {
  if ((config.scan.enforce as readonly string[]).includes(finding.incident)) return finding;
  const hold: NonNullable<PlannedAction["hold"]> = {
    status: "dry-run",
    code: "notify-mode",
    why: `the sweep reports only: scan.enforce does not list ${finding.incident}`,
  };
  return { ...finding, actions: finding.actions.map((a) => (a.hold ? a : { ...a, hold })) };
}

function executorsOf(incident: string): readonly Executor[] {
  return INCIDENTS.find((i) => i.name === incident)?.executors ?? [];
}

/** The Security Hub id a notified finding was imported under (event-less findings: stable per key, incident, first reason). */
function securityHubId(record: NotifiedFinding): string {
  return findingId(stubOf(record));
}

/** A finding rebuilt from the record, for archiving it. */
export function stubOf(record: NotifiedFinding): Finding {
  return {
    kind: "finding",
    incident: record.incident,
    severity: record.severity,
    reasons: record.reasons,
    title: record.title,
    summary: record.summary,
    details: [],
    actions: [],
    event: undefined,
    key: parseKeyArn(record.keyArn),
    ...(record.findingType && { findingType: record.findingType }),
  };
}

export async function sweep(
  target: ScanTarget,
  reader: Reader,
  deps: SweepDeps,
  now = new Date(),
): Promise<SweepSummary> {
  const result = await scanRegion(reader, target, deps.config, { concurrency: 8, now });
  if (result.failed)
    throw new Error(`${target.account} ${target.region}: nothing could be read: ${result.failed}`);
  const { bucketClient, readNotified, writeNotified } = await import("./store.js");
  const s3 = deps.s3 ?? bucketClient();
  const previous: Notified = await readNotified(s3, deps.bucket, target.account, target.region);
  const next: Notified = {};
  const failures: string[] = [];
  let notified = 0;
  let unchanged = 0;
  for (const finding of result.findings) {
    const id = notifiedId(finding);
    const record = notifiedOf(finding);
    const before = previous[id];
    if (before?.fingerprint === record.fingerprint) {
      next[id] = before;
      unchanged++;
      continue;
    }
    const { failure } = await act(enforced(finding, deps.config), executorsOf(finding.incident), deps);
    if (failure) {
      failures.push(`${id}: ${failure.message}`);
      continue;
    }
    next[id] = record;
    notified++;
  }
  const currentIds = new Set(Object.values(next).map(securityHubId));
  const gone = Object.values(previous).filter((r) => !currentIds.has(securityHubId(r)));
  if (gone.length && deps.config.securityHub && deps.resolve) {
    try {
      await deps.resolve(gone, deps, now);
    } catch (error) {
      failures.push(
        `resolving ${gone.length} finding${gone.length === 1 ? "" : "s"} in Security Hub: ${describeError(error)}`,
      );
    }
  }
  await writeNotified(s3, deps.bucket, target.account, target.region, next);
  const summary: SweepSummary = {
    ...target,
    keys: result.keys,
    awsManaged: result.awsManaged,
    findings: result.findings.length,
    notified,
    unchanged,
    resolved: gone.length,
    readErrors: result.errors.length,
  };
  logger.info("swept", { ...summary });
  if (failures.length)
    throw new ActionError(`sweep of ${target.account} ${target.region}: ${failures.join("; ")}`);
  return summary;
}
