/** key-policy-violation: a policy was set -> analyse it and the current policy -> `onCritical`. */
import { disableKey } from "../shared/actions/disable-key.js";
import { removeStatements } from "../shared/actions/remove-statements.js";
import type { Incident } from "../shared/incident.js";
import { kmsApiCall, SUCCEEDED } from "../shared/rule.js";
import { decide, INCIDENT, policyActions } from "./decide.js";
import { keyPolicyViolationState } from "./state.js";

export const keyPolicyViolation = {
  name: INCIDENT,
  securityHubType: "Software and Configuration Checks/AWS Security Best Practices/KMS Key Policy",
  summary: "A key policy was set: analyse it; on a critical finding in the current policy apply onCritical",
  eventNames: ["PutKeyPolicy", "CreateKey", "ReplicateKey"],
  // CreateKey and ReplicateKey count only with a policy (without one the key gets the default policy).
  // PutKeyPolicy counts without a policy in the record too: the change is unseen, so it notifies.
  matches: (event) =>
    event.detail.kind === "policy" &&
    (event.detail.policy !== undefined ||
      (event.eventName === "PutKeyPolicy" && event.errorCode === undefined)),
  pattern: (own) =>
    kmsApiCall({
      $or: [
        { eventName: ["PutKeyPolicy"] },
        { eventName: ["CreateKey", "ReplicateKey"], requestParameters: { policy: [{ exists: true }] } },
      ],
      ...SUCCEEDED,
      ...own,
    }),
  decide,
  state: keyPolicyViolationState,
  executors: [disableKey, removeStatements],
  plans: policyActions,
  // The organisation is learnt only when the config does not name it (trusted like the key's account).
  reads: (config) =>
    config.organization ? ["key", "tags", "policy"] : ["key", "tags", "policy", "organization"],
  /** Shares the 5/s EnableKey/DisableKey quota with key-disabled. */
  reservedConcurrency: 2,
} as const satisfies Incident<typeof INCIDENT>;
