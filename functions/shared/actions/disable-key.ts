/** `disable-key`: quarantines a key; a Disabled key, or one pending deletion, is already done. */
import { DRY_RUN_PLAN, type ExecutingAction, type WithRunbook } from "./action.js";
import { run } from "./disable-key.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "disable-key": true;
  }
}

export const disableKey: ExecutingAction<"disable-key"> & WithRunbook = {
  type: "disable-key",
  permissions: ["kms:DisableKey", "kms:DescribeKey"],
  run,
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
