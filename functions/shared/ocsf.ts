/**
 * Findings and actions as OCSF records (Open Cybersecurity Schema Framework 1.3), for Security
 * Lake and the OCSF-based Security Hub:
 * - a finding is a Detection Finding (class 2004, category Findings 2), activity Create;
 * - an automatic action is a Remediation Activity (class 7001, category Remediation 7), its
 *   activity the D3FEND tactic it serves (revoking access evicts, cancelling a deletion restores).
 *
 * The inputs are plain values, not a `Finding`, so that every producer (the notification, triage
 * over recorded events, a sweep of the current state) maps through the same functions.
 */
import type { ActionStatus, ActionType, Severity } from "./types.js";

export const OCSF_VERSION = "1.3.0";
export const DETECTION_FINDING = { class_uid: 2004, category_uid: 2 } as const;
export const REMEDIATION_ACTIVITY = { class_uid: 7001, category_uid: 7 } as const;

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
const SEVERITY_ID: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
const SEVERITY_NAME: Record<Severity, string> = {
  info: "Informational",
  low: "Low",
  medium: "Medium",
  high: "High",
  critical: "Critical",
};

/** Remediation Activity's activity_id: the D3FEND tactic (1 Isolate, 2 Evict, 3 Restore, 4 Harden, 99 Other). */
const TACTIC: Record<ActionType, [number, string]> = {
  "revoke-grant": [2, "Evict"],
  "revoke-grantee-grants": [2, "Evict"],
  "remove-statements": [2, "Evict"],
  "disable-key": [1, "Isolate"],
  "cancel-key-deletion": [3, "Restore"],
  "enable-key": [3, "Restore"],
  "enable-key-rotation": [4, "Harden"],
  "analyze-key-policy": [99, "Other"],
  "untag-exempt": [3, "Restore"],
  "retag-protected": [3, "Restore"],
  "enable-rule": [3, "Restore"],
  "start-logging": [3, "Restore"],
  "restore-function-concurrency": [3, "Restore"],
};

/** OCSF status_id: 1 Success, 2 Failure, 99 Other (a held, skipped or dry-run action). */
function statusOf(status: ActionStatus): { status_id: number; status: string } {
  if (status === "succeeded" || status === "already-done") return { status_id: 1, status: "Success" };
  if (status === "failed") return { status_id: 2, status: "Failure" };
  return { status_id: 99, status: "Other" };
}

/** What a finding is about, from whichever producer. */
export interface OcsfFindingInput {
  /** Stable id: the CloudTrail event id, else the producer's own. */
  uid: string;
  title: string;
  summary: string;
  incident: string;
  severity: Severity;
  reasons: readonly string[];
  /** When it happened (ms since the epoch); the event's time when known. */
  time: number;
  account?: string | undefined;
  accountName?: string | undefined;
  region?: string | undefined;
  keyArn?: string | undefined;
  actor?: string | undefined;
  eventName?: string | undefined;
  /** What the responder does or would do, in words (`revoke-grant (held: notify-mode)`). */
  remediation?: string | undefined;
  productVersion?: string | undefined;
}

function metadata(productVersion: string | undefined, labels: string[]) {
  return {
    version: OCSF_VERSION,
    product: {
      name: "kms-responder",
      vendor_name: "kms-responder",
      ...(productVersion ? { version: productVersion } : {}),
    },
    ...(labels.length ? { labels } : {}),
  };
}

function cloud(account: string | undefined, accountName: string | undefined, region: string | undefined) {
  return {
    provider: "AWS",
    ...(region ? { region } : {}),
    ...(account
      ? {
          account: {
            uid: account,
            type: "AWS Account",
            type_id: 10,
            ...(accountName ? { name: accountName } : {}),
          },
        }
      : {}),
  };
}

/** A Detection Finding (2004) record. */
export function detectionFinding(input: OcsfFindingInput): Record<string, unknown> {
  const activity_id = 1; // Create: a new finding
  return {
    class_uid: DETECTION_FINDING.class_uid,
    class_name: "Detection Finding",
    category_uid: DETECTION_FINDING.category_uid,
    category_name: "Findings",
    activity_id,
    activity_name: "Create",
    type_uid: DETECTION_FINDING.class_uid * 100 + activity_id,
    type_name: "Detection Finding: Create",
    time: input.time,
    severity_id: SEVERITY_ID[input.severity],
    severity: SEVERITY_NAME[input.severity],
    status_id: 1,
    status: "New",
    message: input.summary,
    metadata: metadata(input.productVersion, [input.incident]),
    finding_info: {
      uid: `kms-responder/${input.incident}/${input.uid}`,
      title: input.title,
      desc: input.summary,
      types: [input.incident, ...input.reasons],
      analytic: { name: input.incident, type_id: 1, type: "Rule" },
    },
    cloud: cloud(input.account, input.accountName, input.region),
    ...(input.keyArn
      ? {
          resources: [
            { uid: input.keyArn, type: "AWS::KMS::Key", ...(input.region ? { region: input.region } : {}) },
          ],
        }
      : {}),
    ...(input.actor ? { actor: { user: { uid: input.actor } } } : {}),
    ...(input.eventName
      ? { api: { operation: input.eventName, service: { name: "kms.amazonaws.com" } } }
      : {}),
    ...(input.remediation ? { remediation: { desc: input.remediation } } : {}),
    unmapped: { incident: input.incident, reasons: [...input.reasons] },
  };
}

/** One action, as the notification's `ocsf` field carries it. */
export interface OcsfActionInput {
  type: ActionType;
  target: string;
  status: ActionStatus;
  detail: string;
}

/** A Remediation Activity (7001) record for an automatic action. */
export function remediationActivity(
  action: OcsfActionInput,
  finding: Pick<
    OcsfFindingInput,
    "uid" | "incident" | "severity" | "account" | "accountName" | "region" | "productVersion"
  >,
  time: number,
): Record<string, unknown> {
  const [activity_id, activity_name] = TACTIC[action.type];
  return {
    class_uid: REMEDIATION_ACTIVITY.class_uid,
    class_name: "Remediation Activity",
    category_uid: REMEDIATION_ACTIVITY.category_uid,
    category_name: "Remediation",
    activity_id,
    activity_name,
    type_uid: REMEDIATION_ACTIVITY.class_uid * 100 + activity_id,
    type_name: `Remediation Activity: ${activity_name}`,
    time,
    severity_id: SEVERITY_ID[finding.severity],
    severity: SEVERITY_NAME[finding.severity],
    ...statusOf(action.status),
    status_detail: action.detail,
    // The command is the action on its target: one id per action of one finding.
    command_uid: `${action.type}:${action.target}`,
    message: `${action.type} on ${action.target}: ${action.status}`,
    metadata: metadata(finding.productVersion, [finding.incident]),
    cloud: cloud(finding.account, finding.accountName, finding.region),
    remediation: { desc: `${action.type} on ${action.target}` },
    unmapped: { finding_uid: `kms-responder/${finding.incident}/${finding.uid}`, status: action.status },
  };
}
