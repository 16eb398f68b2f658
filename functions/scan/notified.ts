/**
 * What the scheduled sweep has notified, per account and Region: one small JSON object in the
 * stack's bucket (`notified/<account>/<region>.json`), finding id -> fingerprint and what Security
 * Hub holds. A finding whose fingerprint is unchanged since it was notified is not notified again;
 * one no longer seen is resolved. One sweep per account and Region runs at a time (a schedule, or
 * one Map item), so the object needs no locking.
 */
import { createHash } from "node:crypto";
import type { Finding } from "../shared/decision.js";
import type { Severity } from "../shared/types.js";

/** What is kept of a notified finding: enough to recognise it and to archive it in Security Hub. */
export interface NotifiedFinding {
  fingerprint: string;
  incident: string;
  severity: Severity;
  reasons: string[];
  title: string;
  summary: string;
  keyArn: string;
  findingType: string | undefined;
}

export type Notified = Record<string, NotifiedFinding>;

/** One finding per (key, incident): its id in the record. */
export function notifiedId(finding: Finding): string {
  return `${finding.key?.arn ?? "unknown-key"}/${finding.incident}`;
}

/**
 * What makes a finding different for the reader: severity, reasons and the actions planned (grant
 * ids included: a new rogue grant on the same key is news). Prose and dates are left out, so the
 * days-left count of a pending deletion does not make a finding new every day.
 */
export function fingerprint(finding: Finding): string {
  const actions = finding.actions.map((a) => `${a.type}:${a.grantId ?? ""}`).sort();
  const text = JSON.stringify([finding.incident, finding.severity, [...finding.reasons].sort(), actions]);
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

export function notifiedOf(finding: Finding): NotifiedFinding {
  return {
    fingerprint: fingerprint(finding),
    incident: finding.incident,
    severity: finding.severity,
    reasons: finding.reasons,
    title: finding.title,
    summary: finding.summary,
    keyArn: finding.key?.arn ?? "unknown-key",
    findingType: finding.findingType,
  };
}

export function objectKey(account: string, region: string): string {
  return `notified/${account}/${region}.json`;
}
