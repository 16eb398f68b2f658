/** rogue-grant: CreateGrant -> judge the grant as it is now -> revoke exactly that grant. */
import { revokeGrant } from "../shared/actions/revoke-grant.js";
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { rogueGrantState } from "./state.js";

/**
 * RevokeGrant's default request quota: requests per second per account and Region, shared by
 * every caller there (the runbook, a sweep that enforces, the account's own tooling). Adjustable.
 */
export const REVOKE_GRANT_QUOTA = 50;

/**
 * The shortest a warm invocation that revokes takes: five calls one after another (the reads,
 * RevokeGrant, the verifying ListGrants, the key's name, the SNS publish), in-Region round trips
 * of 10-30 ms each plus Lambda's own dispatch.
 */
export const FASTEST_REVOKING_INVOCATION_SECONDS = 0.1;

export const rogueGrant = {
  name: INCIDENT,
  securityHubType: "TTPs/Persistence/KMS Grant To Untrusted Principal",
  summary: "CreateGrant to an untrusted principal: revoke exactly that grant (high/critical), else notify",
  eventNames: ["CreateGrant"],
  matches: () => true,
  // Grants to an AWS service principal (`*.amazonaws.com`: only the service creates those, always
  // trusted) never invoke the function, so a burst of them cannot queue a real attack behind it.
  pattern: (own) =>
    successfulCall(["CreateGrant"], {
      requestParameters: {
        $or: [
          { granteePrincipal: [{ "anything-but": { suffix: ".amazonaws.com" } }] },
          { granteePrincipal: [{ exists: false }] },
        ],
      },
      ...own,
    }),
  decide,
  state: rogueGrantState,
  executors: [revokeGrant],
  plans: () => ["revoke-grant"],
  reads: () => ["key", "tags", "grant"],
  /**
   * Sized from RevokeGrant's quota: each environment revokes at most one grant per invocation, so
   * R environments send at most R / (the fastest invocation) RevokeGrant requests per second.
   * 50 x 0.1 s = 5: at 100 ms an invocation, 5 environments keep up with the full quota, and they
   * exceed it only when invocations get faster than that (the SDK's retries absorb the excess).
   * The burst simulation (bench/burst-sizing.sim.ts) checks it under quota-like throttling.
   */
  reservedConcurrency: Math.floor(REVOKE_GRANT_QUOTA * FASTEST_REVOKING_INVOCATION_SECONDS),
} as const satisfies Incident<typeof INCIDENT>;
