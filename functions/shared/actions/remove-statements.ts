/**
 * `remove-statements`: puts back the policy the decider computed from the key's
 * current policy (the offending principals removed, the owners kept: see `removeStatements` in
 * the analyser), then reads it back to verify. Deciding what to remove happened in `decide`.
 *
 * Right before writing it reads the policy again: when it is no longer the policy the repair was
 * computed from (someone changed it since), writing would overwrite that change, so it writes
 * nothing and fails (the retry decides again on the new policy). When it already is the repaired
 * policy (a retry after the first attempt wrote it), it is `already-done`.
 */
import { type ExecutingAction, oneStep } from "./action.js";
import { run } from "./remove-statements.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "remove-statements": true;
  }
}

export const removeStatements: ExecutingAction<"remove-statements"> = {
  type: "remove-statements",
  permissions: ["kms:PutKeyPolicy", "kms:GetKeyPolicy"],
  run,
  done: "statements removed",
  impact:
    "the removed principals lose the access the key policy gave them; the other statements are unchanged",
  undo: {
    command: (result, { region }) =>
      `aws kms put-key-policy --key-id ${result.keyRef} --policy-name default --policy file://previous-policy.json${region} (the previous policy is in the JSON notification: actions[].previousPolicy)`,
    steps: oneStep(4, "only if the removed principals must get their access back (this re-exposes the key)"),
  },
};
