/**
 * The drill's custom-key-store-changed scenario: a custom key store is disconnected, which stops
 * every key in it. The event names a store and no key, so the finding (and its notification) must
 * name the store. Drill code only: no Lambda entry imports this file.
 */
import { randomBytes } from "node:crypto";
import { eventInAccount, readFixture } from "../../cli/drill/events.js";
import { fixtureOf, type Scenario } from "../../cli/drill/scenarios.js";
import { customKeyStoreChanged } from "./incident.js";

/** A store id shaped as KMS writes them (`cks-` and 17 hex digits), fresh for each run. */
function storeId(): string {
  return `cks-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

export const scenarios: readonly Scenario[] = [
  {
    id: "custom-key-store-disconnected",
    title: "A custom key store is disconnected: every key in it stops working",
    promise: "notified: critical, naming the store (no key), with how to connect it again",
    async stage(world) {
      const id = storeId();
      const fixture = fixtureOf(customKeyStoreChanged, "disconnect");
      const event = eventInAccount(readFixture(fixture), {
        account: world.account,
        region: world.region,
        request: { customKeyStoreId: id },
      });
      return {
        attack: `mallory (IAM user) DisconnectCustomKeyStore ${id}`,
        performed: false,
        note: "moto has no custom key stores (CreateCustomKeyStore, DisconnectCustomKeyStore): the store is made up and the event is emitted only, so there is no end state to read back",
        fixture,
        event,
        expect: {
          rule: customKeyStoreChanged.name,
          outcome: "notified",
          actions: [],
          severity: "CRITICAL",
          subjectIncludes: [`store ${id}`],
          notificationIncludes: [
            `Custom key store: ${id}`,
            `aws kms connect-custom-key-store --custom-key-store-id ${id}`,
          ],
        },
        verify: async () => [],
      };
    },
  },
];
