/** rogue-grant: CreateGrant -> judge the grant as it is now -> revoke exactly that grant. */
import { revokeGrant } from "../shared/actions/revoke-grant.js";
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";
import { rogueGrantState } from "./state.js";

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
   * Sized by the burst simulation (bench/burst-sizing.sim.ts, 500 CreateGrant events against
   * quota-like throttling, SDK retries on): two or three environments already saturate
   * RevokeGrant's 30 requests/s; at 5 no call needed more than 5 of its 6 attempts.
   */
  reservedConcurrency: 5,
} as const satisfies Incident<typeof INCIDENT>;
