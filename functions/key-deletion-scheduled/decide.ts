/**
 * key-deletion-scheduled: judges a ScheduleKeyDeletion call. Unapproved deletions are cancelled
 * and the key restored; approved ones only notify (deletion date, days left, how to cancel).
 */
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  type KeyFacts,
  keyRefOf,
  type PlannedAction,
  precheck,
  principalMatches,
} from "../shared/decision.js";
import { type KmsApiCall, str } from "../shared/model.js";

export const INCIDENT = "key-deletion-scheduled";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** `Dec 5, 2026, 6:31:12 PM`, `Jun 30, 2020 2:34:07 AM`, and AWS's own `Apr 12, 2021 18:58:30 PM`. */
const TEXT_DATE = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?: ?([AP]M))?$/i;

/**
 * Parses `deletionDate` in the formats CloudTrail records use: the text form without a zone
 * (UTC), sometimes with a 24-hour clock and a stray AM/PM (`Apr 12, 2021 18:58:30 PM`, from
 * AWS's documentation), ISO 8601, or epoch seconds/milliseconds. Undefined when absent or
 * unreadable.
 */
export function parseDeletionDate(value: unknown): Date | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    // Out of Date's range (e.g. 1e20) gives an Invalid Date, whose toISOString() throws.
    const date = new Date(value < 1e12 ? value * 1000 : value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDeletionDate(Number(text));
  const m = TEXT_DATE.exec(text);
  if (m) {
    const [, mon = "", day = "", year = "", h = "", min = "", sec = "", half] = m;
    const month = MONTHS.indexOf(mon.toLowerCase());
    let hour = Number(h);
    // A 12-hour clock only when the hour says so: "18:58:30 PM" is 18:58.
    if (half && hour <= 12) hour = (hour % 12) + (half.toUpperCase() === "PM" ? 12 : 0);
    if (month < 0 || hour > 23 || Number(day) < 1 || Number(day) > 31) return undefined;
    return new Date(Date.UTC(Number(year), month, Number(day), hour, Number(min), Number(sec)));
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  // An ISO date-time without a zone is UTC too; Date.parse would read it as local time.
  const ms = Date.parse(/[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text.replace(" ", "T")}Z` : text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Whole days from `from` until `date`, rounded up; never negative. */
export function daysLeft(date: Date, from: Date): number {
  return Math.max(0, Math.ceil((date.getTime() - from.getTime()) / 86_400_000));
}

export interface DeletionRequest {
  deletionDate: Date | undefined;
  keyState: string | undefined;
  pendingWindowInDays: number | undefined;
}

export function deletionRequestOf(call: KmsApiCall): DeletionRequest {
  const window = call.response.pendingWindowInDays ?? call.request.pendingWindowInDays;
  return {
    deletionDate: parseDeletionDate(call.response.deletionDate),
    keyState: str(call.response.keyState),
    pendingWindowInDays: typeof window === "number" ? window : undefined,
  };
}

/**
 * Actions that undo a deletion per `afterCancel`: CancelKeyDeletion leaves the key Disabled
 * (kms-facts.md), so `restore` re-enables it only if it was enabled before the deletion was
 * scheduled, `enable` always, `keep-disabled` never. Shared with pending-deletion-key-used.
 */
export function cancelActions(call: KmsApiCall, config: Config): PlannedAction[] {
  const keyRef = keyRefOf(call);
  const actions: PlannedAction[] = [{ type: "cancel-key-deletion", keyRef }];
  if (config.afterCancel === "restore")
    actions.push({ type: "enable-key", keyRef, onlyIfEnabledBefore: true });
  if (config.afterCancel === "enable") actions.push({ type: "enable-key", keyRef });
  return actions;
}

function approval(
  call: KmsApiCall,
  config: Config,
  facts: KeyFacts,
): { approved: boolean; reasons: string[] } {
  if (!principalMatches(config.approvedDeletionPrincipals, call)) {
    return { approved: false, reasons: ["unapproved-deletion"] };
  }
  if (facts.tags && config.protectedTagKey in facts.tags) {
    return { approved: false, reasons: ["protected-key"] };
  }
  if (config.requireMfa && call.actor.mfaAuthenticated !== true) {
    return { approved: false, reasons: ["mfa-missing"] };
  }
  return { approved: true, reasons: ["approved-deletion"] };
}

export function decide(call: KmsApiCall, config: Config, facts: KeyFacts = {}, now = new Date()): Decision {
  const skip = precheck(call, config, INCIDENT);
  if (skip) return skip;

  const request = deletionRequestOf(call);
  const { approved, reasons } = approval(call, config, facts);
  const details: string[] = [];
  if (request.keyState === "PendingReplicaDeletion") {
    details.push(
      "Multi-Region primary key: it waits for its replica keys to be deleted first, so there is no deletion date yet.",
    );
  }
  if (request.deletionDate) {
    details.push(
      `Deletion date: ${request.deletionDate.toISOString()} (${daysLeft(request.deletionDate, now)} days left)`,
    );
  } else if (request.pendingWindowInDays !== undefined) {
    details.push(`Waiting period: ${request.pendingWindowInDays} days`);
  }
  if (approved) {
    const region = call.region ? ` --region ${call.region}` : "";
    details.push(
      `To stop it: aws kms cancel-key-deletion --key-id ${keyRefOf(call)}${region} (the key is then Disabled: aws kms enable-key --key-id ${keyRefOf(call)}${region})`,
    );
  }
  if (reasons.includes("protected-key")) details.push(`The key is tagged ${config.protectedTagKey}.`);
  if (reasons.includes("mfa-missing"))
    details.push("requireMfa is set and the session was not MFA-authenticated.");

  return {
    kind: "finding",
    incident: INCIDENT,
    severity: approved ? "medium" : "critical",
    reasons,
    title: approved ? "Approved KMS key deletion" : "Unapproved KMS key deletion",
    summary: approved
      ? "An approved principal scheduled the key for deletion"
      : "The key was scheduled for deletion by a principal that is not approved",
    details,
    actions: approved ? [] : holdActions(INCIDENT, cancelActions(call, config), call, config, facts),
    call,
  };
}
