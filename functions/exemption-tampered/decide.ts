/**
 * exemption-tampered: TagResource setting the exempt tag, or UntagResource removing the protected
 * tag, by a caller not in `approvedExemptionPrincipals`. Both blind the responder on that key (an
 * exempt key is only reported; an unprotected key may be deleted), so the change is undone:
 * critical. An approved principal's change is reported at `info` and left alone.
 *
 * The facts (the key's tags now) are what the undo is judged by: an exempt tag already gone, or a
 * protected tag already back, needs nothing. The undo is not held by the exemption it undoes.
 */
import type { Config } from "../shared/config.js";
import {
  type Decision,
  holdActions,
  holdUnverified,
  ignore,
  type KeyFacts,
  type PlannedAction,
  precheck,
  principalMatches,
} from "../shared/decision.js";
import { actorPrincipal, type KmsEvent } from "../shared/event.js";

export const INCIDENT = "exemption-tampered";

/** TagResource / UntagResource: the tags set and the tag keys removed. */
export interface TaggingDetail {
  kind: "tagging";
  set: Readonly<Record<string, string>>;
  removed: readonly string[];
}

declare module "../shared/event.js" {
  interface EventDetails {
    tagging: TaggingDetail;
  }
}

/**
 * The value the protected tag is put back with when the record does not say (UntagResource names
 * only the keys): what counts is the key's presence, not its value.
 */
export const RESTORED_PROTECTED_VALUE = "true";

type Change = { kind: "exempted"; value: string } | { kind: "unprotected" };

function changeOf(event: KmsEvent, config: Config): Change | undefined {
  const d = event.detail;
  if (d.kind !== "tagging") return undefined;
  const value = d.set[config.exemptTagKey];
  if (event.eventName === "TagResource" && value !== undefined) return { kind: "exempted", value };
  if (event.eventName === "UntagResource" && d.removed.includes(config.protectedTagKey))
    return { kind: "unprotected" };
  return undefined;
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const change = changeOf(event, config);
  if (!change) {
    return ignore(
      "no-incident",
      `${event.eventName ?? "this call"} changes neither ${config.exemptTagKey} nor ${config.protectedTagKey}`,
      INCIDENT,
    );
  }
  const who = actorPrincipal(event.actor) ?? "an unknown caller";
  if (principalMatches(config.approvedExemptionPrincipals, event))
    return approved(event, config, change, who);
  return unapproved(event, config, facts, change, who);
}

function approved(event: KmsEvent, config: Config, change: Change, who: string): Decision {
  const exempted = change.kind === "exempted";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "info",
    reasons: [exempted ? "approved-exemption" : "approved-unprotection"],
    title: exempted ? "KMS key exempted" : "KMS key protection removed",
    summary: exempted
      ? `${who}, an approved principal, tagged the key ${config.exemptTagKey}: the responder only reports on it from now on`
      : `${who}, an approved principal, removed the key's ${config.protectedTagKey} tag`,
    details: [],
    actions: [],
    event,
    key: event.key,
  };
}

function unapproved(event: KmsEvent, config: Config, facts: KeyFacts, change: Change, who: string): Decision {
  const key = event.key;
  const exempted = change.kind === "exempted";
  const verdicts: string[] = [];
  const details: string[] = [`${who} is not in approvedExemptionPrincipals: the exemption does not count.`];
  let actions: PlannedAction[] = [];
  const tagsNow = facts.tags;
  if (key && exempted) {
    if (tagsNow && !(config.exemptTagKey in tagsNow)) {
      verdicts.push("tag-gone");
      details.push(`The key has no ${config.exemptTagKey} tag now: nothing to undo.`);
    } else {
      actions = [
        { type: "untag-exempt", keyRef: key.arn, tag: { key: config.exemptTagKey, value: change.value } },
      ];
      details.push(
        "Anything the responder held as exempt on this key since the tag was set (see the other notifications for this key) deserves a second look.",
      );
    }
  } else if (key) {
    if (tagsNow && config.protectedTagKey in tagsNow) {
      verdicts.push("tag-back");
      details.push(`The key has its ${config.protectedTagKey} tag again: nothing to undo.`);
    } else {
      actions = [
        {
          type: "retag-protected",
          keyRef: key.arn,
          tag: { key: config.protectedTagKey, value: RESTORED_PROTECTED_VALUE },
        },
      ];
      details.push(
        `UntagResource does not record the removed value: the tag is put back as ${config.protectedTagKey}=${RESTORED_PROTECTED_VALUE}.`,
      );
    }
  }
  const held = holdActions(INCIDENT, actions, key, config, facts, { exemptionApplies: false });
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "critical",
    reasons: [exempted ? "unapproved-exemption" : "unapproved-unprotection"],
    title: exempted
      ? "KMS key exempted by an unapproved principal"
      : "KMS key protection removed by an unapproved principal",
    summary: exempted
      ? `${who} tagged the key ${config.exemptTagKey}: the responder would only report on it, not act`
      : `${who} removed the key's ${config.protectedTagKey} tag: the key could now be scheduled for deletion`,
    details,
    actions: holdUnverified(held, facts, ["tags"]),
    event,
    key,
    ...(verdicts.length && { verdicts }),
  };
}
