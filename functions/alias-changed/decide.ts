/**
 * alias-changed: UpdateAlias or DeleteAlias. Applications that name the key by its alias now
 * encrypt under another key (and cannot decrypt with it what the old key encrypted), or fail.
 * Notify (medium); nothing is changed automatically (an alias change is often a deployment).
 */
import type { Config } from "../shared/config.js";
import { type Decision, ignore, type KeyFacts, precheck } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";

export const INCIDENT = "alias-changed";

export function decide(event: KmsEvent, config: Config, _facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const d = event.detail;
  if (d.kind !== "alias")
    return ignore("no-incident", `${event.eventName ?? "this event"} changes no alias`, INCIDENT);
  const alias = d.aliasName ?? "an alias";
  // AWS managed aliases (`alias/aws/...`) cannot be changed by anyone: such a record is not ours.
  if (alias.startsWith("alias/aws/"))
    return ignore("no-incident", `${alias} is an AWS managed alias`, INCIDENT);
  const updated = event.eventName === "UpdateAlias";
  const key = updated ? (d.targetKey ?? event.key) : event.key;
  const keyText = key?.arn ?? "an unknown key";
  const undo = key?.region ?? event.region;
  const r = undo ? ` --region ${undo}` : "";
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: "medium",
    reasons: [updated ? "alias-retargeted" : "alias-deleted"],
    title: updated ? "KMS alias now points to another key" : "KMS alias deleted",
    summary: updated
      ? `${alias} now points to ${keyText}: applications that use the alias encrypt under that key from now on`
      : `${alias} was deleted: applications that name the key by this alias now fail`,
    details: [
      updated
        ? "Data encrypted before the change still needs the previous key to decrypt; check that the new key is the one intended."
        : `The key itself is unchanged (${keyText}).`,
      updated
        ? `If this was not intended, point it back: aws kms update-alias --alias-name ${alias} --target-key-id PREVIOUS_KEY_ID${r} (the previous key is in the alias's CloudTrail history)`
        : `If this was not intended: aws kms create-alias --alias-name ${alias} --target-key-id ${key?.id ?? "KEY_ID"}${r}`,
    ],
    actions: [],
    event,
    key,
  };
}
