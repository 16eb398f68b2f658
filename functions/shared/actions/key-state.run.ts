/**
 * What the key-state actions (`cancel-key-deletion`, `enable-key`, `disable-key`) share: the
 * state read before and after. Whether to act was decided from the key's current state and
 * history; these only act, idempotently, and read the state back.
 */
import type { KMSClient } from "@aws-sdk/client-kms";
import { DescribeKeyCommand } from "../clients/kms-sdk.js";
import type { PlannedAction } from "../decision.js";
import { type ActionContext, type ActionResult, knownFor, ranOn } from "./action.js";

/** Reads the key state, returning undefined instead of throwing (verification is best effort). */
export async function tryKeyState(kms: KMSClient, keyRef: string): Promise<string | undefined> {
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: keyRef }))).KeyMetadata?.KeyState;
  } catch {
    // Verification failure must not turn a successful action into a failed one: reported as unverified.
    return undefined;
  }
}

/**
 * The key's state before acting: the state the handler read moments ago when no action has changed
 * the key since; else the state the last action on the key read back; else read now.
 */
export async function stateBefore(action: PlannedAction, ctx: ActionContext): Promise<string | undefined> {
  const known = knownFor(action, ctx)?.keyState;
  if (known !== undefined) return known;
  const last = ctx.earlier.findLast((r) => ranOn(r, action));
  return last?.keyStateAfter ?? tryKeyState(ctx.kms, action.keyRef);
}

export function withStates(
  result: ActionResult,
  before: string | undefined,
  after: string | undefined,
  expected: string,
): ActionResult {
  const out: ActionResult = { ...result };
  if (before) out.keyStateBefore = before;
  if (after) {
    out.keyStateAfter = after;
    out.verified = after === expected;
  }
  return out;
}
