/**
 * The two tag undos of exemption-tampered: remove the exempt tag an unapproved caller set, put back
 * the protected tag one removed. Both are idempotent (KMS answers success for an absent tag key on
 * UntagResource and overwrites on TagResource) and read the tags back with ListResourceTags.
 */
import { type ExecutingAction, oneStep, shellArg } from "./action.js";
import { runRetagProtected, runUntagExempt } from "./tag-undo.run.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "untag-exempt": true;
    "retag-protected": true;
  }
}

export const untagExempt: ExecutingAction<"untag-exempt"> = {
  type: "untag-exempt",
  permissions: ["kms:UntagResource", "kms:ListResourceTags"],
  run: runUntagExempt,
  done: "exemption removed",
  impact:
    "the responder acts on the key again: the exemption an unapproved caller set no longer holds its actions",
  undo: {
    command: (result, { region }) =>
      result.tag
        ? `aws kms tag-resource --key-id ${result.keyRef} --tags TagKey=${shellArg(result.tag.key)},TagValue=${shellArg(result.tag.value)}${region}`
        : undefined,
    steps: oneStep(
      3,
      "only if an approved principal confirms the exemption (better: have one of them set it)",
    ),
  },
};

export const retagProtected: ExecutingAction<"retag-protected"> = {
  type: "retag-protected",
  permissions: ["kms:TagResource", "kms:ListResourceTags"],
  run: runRetagProtected,
  done: "protection restored",
  impact: "the key may not be deleted again, even by an approved principal",
  undo: {
    command: (result, { region }) =>
      result.tag
        ? `aws kms untag-resource --key-id ${result.keyRef} --tag-keys ${shellArg(result.tag.key)}${region}`
        : undefined,
    steps: oneStep(3, "only if an approved principal confirms the key is to lose its protection"),
  },
};
