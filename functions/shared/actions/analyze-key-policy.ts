/**
 * `analyze-key-policy`: a runbook request that only reads the key policy and reports the
 * analyser's findings; nothing runs and nothing needs undoing.
 */
import type { ActionModule, WithRunbook } from "./action.js";

/** Its action type, added to the vocabulary (`ActionType`) from here. */
declare module "../types.js" {
  interface ActionTypes {
    "analyze-key-policy": true;
  }
}

export const analyzeKeyPolicy: ActionModule<"analyze-key-policy"> & WithRunbook = {
  type: "analyze-key-policy",
  permissions: [],
  done: "policy analysed",
  runbook: {
    document: "AnalyzeKeyPolicy",
    description:
      "Read a KMS key's policy and report the analyser's findings (public principal, external " +
      "accounts, wildcard actions, ...) in the output and the notification. Changes nothing.",
    mutating: false,
  },
};
