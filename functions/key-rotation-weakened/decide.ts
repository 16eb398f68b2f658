/**
 * key-rotation-weakened: EnableKeyRotation that sets a rotation period above `maxPeriodDays` (the
 * key's material then stays current longer: more data under one material) by a caller that is not
 * approved. Enforce puts the previous period back, read from the key's history (the EnableKeyRotation
 * before this one; one without a period set 365 days). When no earlier EnableKeyRotation is known,
 * the previous period is unknown: notify only.
 */
import type { Config } from "../shared/config.js";
import { incidentOptions } from "../shared/config.js";
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
import type { KmsEvent } from "../shared/event.js";
import { DEFAULT_ROTATION_DAYS, periodFromHistory } from "../shared/rotation.js";
import { OPTIONS } from "./options.js";

export const INCIDENT = "key-rotation-weakened";

interface Plan {
  actions: PlannedAction[];
  details: string[];
  verdicts: string[];
}

/** Put the previous period back, when it is known and the key still has the weakened one. */
function restore(event: KmsEvent, period: number, facts: KeyFacts): Plan {
  const previous = periodFromHistory(facts, event.eventId);
  const now = facts.rotationPeriodInDays;
  if (
    facts.rotationEnabled !== undefined &&
    (!facts.rotationEnabled || (now !== undefined && now !== period))
  ) {
    const state = facts.rotationEnabled ? `${now} days now` : "off now";
    return {
      actions: [],
      details: [`The key's rotation is ${state}, not ${period} days: nothing to put back.`],
      verdicts: ["state-differs"],
    };
  }
  if (previous === undefined && facts.earlier === undefined && event.key) {
    // Not read yet (the handler's first look, or offline): the restore the history will decide.
    return {
      actions: [{ type: "enable-key-rotation", keyRef: event.key.arn, replacedRotationPeriodInDays: period }],
      details: ["The previous rotation period is read from the key's history before acting."],
      verdicts: [],
    };
  }
  if (previous === undefined || !event.key) {
    return {
      actions: [],
      details: [
        "The previous rotation period is unknown (no earlier EnableKeyRotation in the key's history): notify only.",
      ],
      verdicts: [],
    };
  }
  return {
    actions: [
      {
        type: "enable-key-rotation",
        keyRef: event.key.arn,
        rotationPeriodInDays: previous,
        replacedRotationPeriodInDays: period,
      },
    ],
    details: [`Previous rotation period: ${previous} days (put back).`],
    verdicts: [],
  };
}

export function decide(event: KmsEvent, config: Config, facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const d = event.detail;
  if (d.kind !== "rotation") {
    return ignore("no-incident", `${event.eventName ?? "this event"} is not an EnableKeyRotation`, INCIDENT);
  }
  const { maxPeriodDays, approvedPrincipals } = incidentOptions(config, INCIDENT, OPTIONS);
  const period = d.rotationPeriodInDays ?? DEFAULT_ROTATION_DAYS;
  if (period <= maxPeriodDays) {
    return ignore("no-incident", `rotation period ${period} days is within ${maxPeriodDays}`, INCIDENT);
  }
  if (principalMatches(approvedPrincipals, event)) {
    return ignore("no-incident", `an approved principal set a rotation period of ${period} days`, INCIDENT);
  }
  const plan = restore(event, period, facts);
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: ["rotation-period-above-maximum"],
    title: "KMS key rotation period lengthened",
    summary: `Automatic rotation was set to every ${period} days, above the maximum of ${maxPeriodDays}, by a principal that is not approved`,
    details: [`Rotation period set: ${period} days (maximum ${maxPeriodDays}).`, ...plan.details],
    actions: holdUnverified(holdActions(INCIDENT, plan.actions, event.key, config, facts), facts, [
      "rotation",
      "earlier",
    ]),
    event,
    key: event.key,
    ...(plan.verdicts.length && { verdicts: plan.verdicts }),
  };
}
