/** `disable-key`: quarantines a key; a Disabled key, or one pending deletion, is already done. */
import { DisableKeyCommand } from "@aws-sdk/client-kms";
import { isPendingDeletion } from "../decision.js";
import { base, DRY_RUN_PLAN, type ExecutingAction, failed, keyIdOf, type WithRunbook } from "./action.js";
import { stateBefore, tryKeyState, withStates } from "./key-state.js";

export const disableKey: ExecutingAction<"disable-key"> & WithRunbook = {
  type: "disable-key",
  permissions: ["kms:DisableKey", "kms:DescribeKey"],
  async run(action, ctx) {
    const { kms } = ctx;
    const before = await stateBefore(action, ctx);
    if (before === "Disabled") {
      return {
        ...base(action),
        status: "already-done",
        detail: "the key is already Disabled",
        keyStateBefore: before,
        keyStateAfter: before,
        verified: true,
      };
    }
    if (isPendingDeletion(before)) {
      // DisableKey answers KMSInvalidStateException here; a key pending deletion is unusable already.
      return {
        ...base(action),
        status: "already-done",
        detail: `the key is ${before}: it cannot be used`,
        keyStateBefore: before ?? "",
        keyStateAfter: before ?? "",
        verified: true,
      };
    }
    try {
      await kms.send(new DisableKeyCommand({ KeyId: keyIdOf(action.keyRef) }));
    } catch (error) {
      return failed(action, error, "DisableKey");
    }
    const after = await tryKeyState(kms, action.keyRef);
    return withStates(
      { ...base(action), status: "succeeded", detail: "key disabled" },
      before,
      after,
      "Disabled",
    );
  },
  done: "key disabled",
  impact:
    "every cryptographic call with this key (Decrypt, Encrypt, GenerateDataKey, ...) now fails until it is enabled; data encrypted under it cannot be read meanwhile",
  wouldDo: () => "would disable the key (now Enabled)",
  undo: {
    command: (result, { region }) => `aws kms enable-key --key-id ${result.keyRef}${region}`,
    steps(result, { finding, region }, command) {
      if (!command) return [];
      const policyProblem =
        finding.reasons.some((x) => x !== "unreadable-policy") && finding.extra?.findings !== undefined;
      if (!(policyProblem && result.status === "succeeded")) {
        return [{ order: 6, when: "when the key should be usable again", command }];
      }
      return [
        {
          order: 5,
          when: "first fix the key policy (re-enabling the key with the policy that was set exposes it again)",
          command: `aws kms put-key-policy --key-id ${result.keyRef} --policy-name default --policy file://fixed-policy.json${region}`,
        },
        { order: 6, when: "then, once the policy is safe, to make the key usable again", command },
      ];
    },
  },
  runbook: {
    document: "DisableKey",
    description:
      "Disable a KMS key: every cryptographic use of it fails until it is enabled again (quarantine). " +
      `${DRY_RUN_PLAN} Undo: the EnableKey document.`,
    mutating: true,
  },
};
