/**
 * What the three repairs of the responder's own resources share (enable-rule, start-logging,
 * restore-function-concurrency): the resource the decider named, the Region's clients, and the
 * result shapes. A repair runs only where the function was given repair clients (the tampering incident
 * with `repair` on); anywhere else it is a bug in a decider, reported as failed.
 */
import type { PlannedAction, RepairTarget } from "../decision.js";
import { type ActionContext, type ActionResult, base, type RepairClients } from "./action.js";

export type Reached = { target: RepairTarget; clients: RepairClients } | { result: ActionResult };

export async function reach(action: PlannedAction, ctx: ActionContext): Promise<Reached> {
  const target = action.resource;
  if (!target) return { result: problem(action, "no resource named in the planned action") };
  if (!ctx.repair) return { result: problem(action, "this function has no repair clients") };
  return { target, clients: await ctx.repair(target.region) };
}

function problem(action: PlannedAction, why: string): ActionResult {
  return { ...base(action), status: "failed", detail: why, error: why };
}

/** The read-back after a repair: confirmed, not (yet) seen, or unreadable (not verified). */
export function repaired(
  action: PlannedAction,
  target: RepairTarget,
  what: string,
  verified: boolean | undefined,
): ActionResult {
  return {
    ...base(action),
    resource: target,
    status: "succeeded",
    detail: verified === undefined ? `${what} (not verified)` : what,
    ...(verified !== undefined && { verified }),
  };
}

/** ` --region R` for an undo command, from the repaired resource's Region, else the finding's. */
export function regionArg(result: ActionResult, fallback: string): string {
  return result.resource?.region ? ` --region ${result.resource.region}` : fallback;
}
