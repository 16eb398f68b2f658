/** `enable-key-rotation`'s calls: the period kept, EnableKeyRotation, the status read back. */
import type { KMSClient } from "@aws-sdk/client-kms";
import { EnableKeyRotationCommand, GetKeyRotationStatusCommand } from "../clients/kms-sdk.js";
import type { PlannedAction } from "../decision.js";
import { type ActionContext, type ActionResult, base, failed, knownFor } from "./action.js";

/** The period the key reports now, if any (best effort: unknown leaves the API's default). */
async function currentPeriod(kms: KMSClient, keyRef: string): Promise<number | undefined> {
  try {
    return (await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyRef }))).RotationPeriodInDays;
  } catch {
    // Unreadable: EnableKeyRotation still runs; the read-back below says what the key got.
    return undefined;
  }
}

/**
 * The period to keep when the plan has none: when the handler read the rotation status moments ago
 * (the decision rests on it), what that read reported, none included (a second read would see the
 * same); else read it now.
 */
async function periodBefore(action: PlannedAction, ctx: ActionContext): Promise<number | undefined> {
  const known = knownFor(action, ctx);
  if (known?.rotationEnabled !== undefined) return known.rotationPeriodInDays;
  return currentPeriod(ctx.kms, action.keyRef);
}

function withPeriod(action: PlannedAction, period: number | undefined): Partial<ActionResult> {
  return {
    ...(period !== undefined && { rotationPeriodInDays: period }),
    ...(action.replacedRotationPeriodInDays !== undefined && {
      replacedRotationPeriodInDays: action.replacedRotationPeriodInDays,
    }),
  };
}

async function verify(
  kms: KMSClient,
  action: PlannedAction,
  period: number | undefined,
): Promise<ActionResult> {
  const extra = withPeriod(action, period);
  try {
    const out = await kms.send(new GetKeyRotationStatusCommand({ KeyId: action.keyRef }));
    const on = out.KeyRotationEnabled === true;
    const periodOk =
      period === undefined || out.RotationPeriodInDays === undefined || out.RotationPeriodInDays === period;
    const every = period === undefined ? "" : ` every ${period} days`;
    return {
      ...base(action),
      ...extra,
      status: "succeeded",
      detail: !on
        ? "EnableKeyRotation succeeded but rotation still reads as off"
        : periodOk
          ? `automatic rotation enabled${every}`
          : `automatic rotation enabled, but the period reads ${out.RotationPeriodInDays} days, not ${period}`,
      verified: on && periodOk,
    };
  } catch {
    // Verification is best effort; the action itself succeeded.
    return {
      ...base(action),
      ...extra,
      status: "succeeded",
      detail: "automatic rotation enabled (not verified)",
    };
  }
}

export async function run(action: PlannedAction, ctx: ActionContext): Promise<ActionResult> {
  const { kms } = ctx;
  const period = action.rotationPeriodInDays ?? (await periodBefore(action, ctx));
  try {
    await kms.send(
      new EnableKeyRotationCommand({
        KeyId: action.keyRef,
        ...(period !== undefined && { RotationPeriodInDays: period }),
      }),
    );
  } catch (error) {
    return { ...failed(action, error, "EnableKeyRotation"), ...withPeriod(action, period) };
  }
  return verify(kms, action, period);
}
