/**
 * Decides any record with the incident it belongs to. Used where every incident is in play (the
 * CLI's triage, the drill); each Lambda handler imports only its own incident's `decide`.
 */
import * as keyDeletionScheduled from "../key-deletion-scheduled/decide.js";
import * as keyDisabled from "../key-disabled/decide.js";
import * as keyMaterialDeleted from "../key-material-deleted/decide.js";
import * as keyPolicyViolation from "../key-policy-violation/decide.js";
import * as keyRotationDisabled from "../key-rotation-disabled/decide.js";
import * as pendingDeletionKeyUsed from "../pending-deletion-key-used/decide.js";
import * as rogueGrant from "../rogue-grant/decide.js";
import type { Config } from "./config.js";
import { type Decision, ignore, incidentOf, type KeyFacts, notKms } from "./decision.js";
import type { KmsApiCall } from "./model.js";
import type { IncidentName } from "./types.js";

type Decide = (call: KmsApiCall, config: Config, facts?: KeyFacts) => Decision;

export const DECIDERS: Record<IncidentName, Decide> = {
  "rogue-grant": rogueGrant.decide,
  "key-deletion-scheduled": keyDeletionScheduled.decide,
  "key-policy-violation": keyPolicyViolation.decide,
  "key-disabled": keyDisabled.decide,
  "key-material-deleted": keyMaterialDeleted.decide,
  "key-rotation-disabled": keyRotationDisabled.decide,
  "pending-deletion-key-used": pendingDeletionKeyUsed.decide,
};

export function decideAny(call: KmsApiCall, config: Config, facts: KeyFacts = {}): Decision {
  if (call.eventSource !== "kms.amazonaws.com") return notKms(call.eventSource);
  if (call.errorCode !== undefined && incidentOf(call) === undefined) {
    return ignore("failed-call", `the call failed (${call.errorCode}): nothing changed`);
  }
  const incident = incidentOf(call);
  const decide = incident ? DECIDERS[incident] : undefined;
  if (!incident || !decide)
    return ignore("no-incident", `${call.eventName ?? "this event"} is not an incident`);
  return decide(call, config, facts);
}
