/**
 * key-region-changed: a multi-Region key moved or copied into a Region outside `allowedRegions`
 * (when configured): UpdatePrimaryRegion (the primary now lives there) or ReplicateKey (a replica
 * there, usable with the same material). High, notify: deleting a replica or moving the primary
 * back is the key owner's decision.
 */

import type { Config } from "../shared/config.js";
import { incidentOptions } from "../shared/config.js";
import { type Decision, ignore, type KeyFacts, precheck } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";
import { OPTIONS } from "./options.js";

export const INCIDENT = "key-region-changed";

export interface PrimaryRegionDetail {
  kind: "primary-region";
  primaryRegion: string | undefined;
}

declare module "../shared/event.js" {
  interface EventDetails {
    "primary-region": PrimaryRegionDetail;
  }
}

/** The Region the call put the key in: the new primary's, or the replica's. */
function regionOf(event: KmsEvent): string | undefined {
  const d = event.detail;
  if (d.kind === "primary-region") return d.primaryRegion;
  if (d.kind === "policy") return d.target?.region;
  return undefined;
}

export function decide(event: KmsEvent, config: Config, _facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const { allowedRegions } = incidentOptions(config, INCIDENT, OPTIONS);
  if (allowedRegions.length === 0) return ignore("no-incident", "allowedRegions is not configured", INCIDENT);
  const region = regionOf(event);
  if (!region || allowedRegions.includes(region)) {
    return ignore("no-incident", `${region ?? "the Region"} is allowed`, INCIDENT);
  }
  const primary = event.eventName === "UpdatePrimaryRegion";
  const ref = event.key?.arn ?? event.keyHint ?? "KEY";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "high",
    reasons: [primary ? "primary-region-not-allowed" : "replica-region-not-allowed"],
    title: primary
      ? "KMS key primary moved out of the allowed Regions"
      : "KMS key replicated out of the allowed Regions",
    summary: `${primary ? "The multi-Region key's primary moved to" : "The multi-Region key was replicated to"} ${region}, outside the allowed Regions (${allowedRegions.join(", ")})`,
    details: [
      `Region: ${region}`,
      primary
        ? `To move it back: aws kms update-primary-region --key-id ${ref} --primary-region <an allowed Region> --region ${region}`
        : `To remove the replica: aws kms schedule-key-deletion --key-id ${ref.replace(/:kms:[a-z0-9-]+:/, `:kms:${region}:`)} --region ${region}`,
    ],
    actions: [],
    event,
    key: event.key,
  };
}
