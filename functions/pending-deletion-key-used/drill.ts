/** The drill's pending-deletion-key-used scenario. Drill code only: no Lambda entry imports this file. */
import { DecryptCommand, EncryptCommand } from "@aws-sdk/client-kms";
import {
  checkKeyState,
  fixtureOf,
  type Scenario,
  scheduleDeletion,
  template,
} from "../../cli/drill/scenarios.js";
import { describeError } from "../shared/errors.js";
import { pendingDeletionKeyUsed } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  {
    id: pendingDeletionKeyUsed.name,
    title: "An application decrypts with a key that is pending deletion",
    promise: "deletion cancelled, key Enabled",
    async stage(world) {
      const key = await world.createKey(pendingDeletionKeyUsed.name);
      const sealed = await world.kms.send(
        new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from("card-token") }),
      );
      await scheduleDeletion(world.kms, key, 7);
      let performed = false;
      let note: string | undefined;
      try {
        await world.kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
        note =
          "moto decrypts with a key pending deletion (AWS answers KMSInvalidStateException): the failed call's event is emitted as AWS writes it";
      } catch (error) {
        performed = /pending deletion/i.test(describeError(error));
        if (!performed)
          note = `Decrypt failed unexpectedly (${describeError(error)}): the event is emitted as AWS writes it`;
      }
      const fixture = fixtureOf(pendingDeletionKeyUsed, "decrypt-pending-deletion");
      return {
        attack: `orders-service role Decrypt with ${key.alias} after a 7-day deletion was scheduled`,
        performed,
        ...(note ? { note } : {}),
        fixture,
        event: template(fixture, { keyArn: key.arn }).event,
        expect: {
          rule: pendingDeletionKeyUsed.name,
          outcome: "remediated",
          actions: [
            { type: "cancel-key-deletion", status: "succeeded" },
            { type: "enable-key", status: "succeeded" },
          ],
          severity: "HIGH",
        },
        verify: async () => [await checkKeyState(world.kms, key, "Enabled")],
      };
    },
  },
];
