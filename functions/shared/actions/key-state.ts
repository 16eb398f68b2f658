/**
 * What the key-state actions (`cancel-key-deletion`, `enable-key`, `disable-key`) share: the
 * state read before and after. Whether to act was decided from the key's current state and
 * history; these only act, idempotently, and read the state back.
 */
import { DescribeKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { ActionResult } from "./action.js";

/** Reads the key state, returning undefined instead of throwing (verification is best effort). */
export async function tryKeyState(kms: KMSClient, keyRef: string): Promise<string | undefined> {
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: keyRef }))).KeyMetadata?.KeyState;
  } catch {
    // Verification failure must not turn a successful action into a failed one: reported as unverified.
    return undefined;
  }
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
