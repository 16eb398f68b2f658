/**
 * custom-key-store-changed: a custom key store (CloudHSM or external) disconnected, repointed or
 * deleted. The events name a store, no key: the finding names the store.
 * - DisconnectCustomKeyStore: critical, every key in the store stops working until it reconnects.
 * - UpdateCustomKeyStore changing the proxy endpoint, path, credential, VPC endpoint service or
 *   connectivity (or a CloudHSM store's cluster or password): critical, KMS now reaches the key
 *   material somewhere else or as someone else. A new name alone is not an incident.
 * - DeleteCustomKeyStore: high (KMS allows it only once the store holds no keys and is disconnected).
 * Connect and Create are not incidents. Notify only: reconnecting or repointing is a person's call.
 */
import type { Config } from "../shared/config.js";
import { type Decision, ignore, type KeyFacts, precheck, type StoreRef } from "../shared/decision.js";
import type { KmsEvent } from "../shared/event.js";
import type { StoreDetail } from "./detail.js";

export const INCIDENT = "custom-key-store-changed";

function storeOf(event: KmsEvent, d: StoreDetail): StoreRef | undefined {
  return d.storeId
    ? { id: d.storeId, name: d.storeName, account: event.accountId, region: event.region }
    : undefined;
}

interface Verdict {
  severity: "critical" | "high";
  reason: string;
  title: string;
  summary: string;
  details: string[];
  undo: string;
}

function judge(event: KmsEvent, d: StoreDetail, id: string): Verdict | undefined {
  const r = event.region ? ` --region ${event.region}` : "";
  switch (event.eventName) {
    case "DisconnectCustomKeyStore":
      return {
        severity: "critical",
        reason: "custom-key-store-disconnected",
        title: "KMS custom key store disconnected",
        summary:
          "A custom key store was disconnected: every KMS key in it fails every cryptographic call until it is connected again",
        details: [],
        undo: `aws kms connect-custom-key-store --custom-key-store-id ${id}${r}`,
      };
    case "UpdateCustomKeyStore":
      if (d.changed.length === 0) return undefined;
      return {
        severity: "critical",
        reason: "custom-key-store-repointed",
        title: "KMS custom key store repointed",
        summary:
          "A custom key store's connection settings were changed: KMS now reaches its key material elsewhere or with other credentials",
        details: [`Changed: ${d.changed.join(", ")}`],
        undo: `aws kms update-custom-key-store --custom-key-store-id ${id} (with the previous ${d.changed.join(", ")})${r}`,
      };
    case "DeleteCustomKeyStore":
      return {
        severity: "high",
        reason: "custom-key-store-deleted",
        title: "KMS custom key store deleted",
        summary: "A custom key store was deleted",
        details: [
          "KMS deletes a store only when it holds no keys; its backing cluster or proxy is untouched.",
        ],
        undo: `aws kms create-custom-key-store (with the same cluster or proxy settings)${r}`,
      };
    default:
      return undefined;
  }
}

export function decide(event: KmsEvent, config: Config, _facts: KeyFacts = {}): Decision {
  const skip = precheck(event, config, INCIDENT);
  if (skip) return skip;
  const d = event.detail;
  if (d.kind !== "custom-key-store") {
    return ignore("no-incident", `${event.eventName ?? "this event"} names no custom key store`, INCIDENT);
  }
  const store = storeOf(event, d);
  const verdict = judge(event, d, store?.id ?? "STORE_ID");
  if (!verdict) {
    return ignore("no-incident", "the update changed no connection setting (a new name at most)", INCIDENT);
  }
  return {
    kind: "finding",
    incident: INCIDENT,
    severity: verdict.severity,
    reasons: [verdict.reason],
    title: verdict.title,
    summary: verdict.summary,
    // A named store heads the notification (its id and name); say so only when the record names none.
    details: [...(store ? [] : ["Custom key store: (not in the record)"]), ...verdict.details],
    actions: [],
    event,
    key: undefined,
    ...(store && { store }),
    undo: [{ when: "if the change was not intended", command: verdict.undo }],
  };
}
