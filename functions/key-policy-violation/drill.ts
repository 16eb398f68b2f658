/**
 * The drill's key-policy-violation scenarios: a public policy and an untrusted account. Drill code
 * only: no Lambda entry imports this file.
 */
import {
  checkKeyState,
  checkPolicyMentions,
  fixtureOf,
  policyScenario,
  type Scenario,
} from "../../cli/drill/scenarios.js";
import { keyPolicyViolation } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  policyScenario(
    "public-policy",
    "Key policy that allows Decrypt to everyone (Principal AWS: *)",
    "key disabled",
    fixtureOf(keyPolicyViolation, "public-policy"),
    'Principal {"AWS":"*"}',
    {
      rule: keyPolicyViolation.name,
      outcome: "remediated",
      actions: [{ type: "disable-key", status: "succeeded" }],
      severity: "CRITICAL",
    },
    async (world, key) => [await checkKeyState(world.kms, key, "Disabled")],
  ),
  policyScenario(
    "cross-account-policy",
    "Key policy that lets an untrusted account decrypt",
    "key disabled (critical: cryptographic use by an untrusted account), policy left as it is",
    fixtureOf(keyPolicyViolation, "cross-account"),
    "account 444455556666",
    {
      rule: keyPolicyViolation.name,
      outcome: "remediated",
      actions: [{ type: "disable-key", status: "succeeded" }],
      severity: "CRITICAL",
    },
    async (world, key) => [
      await checkKeyState(world.kms, key, "Disabled"),
      // Disabling is the default onCritical: the statement stays for the key's owner to fix.
      await checkPolicyMentions(world.kms, key, "444455556666", true),
    ],
  ),
];
