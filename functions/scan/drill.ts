/**
 * The drill's sweep scenario: a key left with problems before the responder existed (no event will
 * ever be delivered for them) is found by the sweep, which reads each key's state. Drill code only:
 * no Lambda entry imports this file.
 */
import { DisableKeyRotationCommand, EnableKeyRotationCommand } from "@aws-sdk/client-kms";
import {
  type Check,
  createGrantAsRecorded,
  type DrillKey,
  type DrillWorld,
  fixtureOf,
  type Scenario,
  template,
} from "../../cli/drill/scenarios.js";
import { keyRotationDisabled } from "../key-rotation-disabled/incident.js";
import { rogueGrant } from "../rogue-grant/incident.js";
import { parseConfig } from "../shared/config.js";
import { UNLIMITED } from "./budget.js";
import { scanRegion } from "./scan.js";

/** The findings the sweep must report for the key: incident and severity, in any order. */
const PLANTED = [`${rogueGrant.name}:critical`, `${keyRotationDisabled.name}:medium`];

async function sweepChecks(world: DrillWorld, key: DrillKey): Promise<Check[]> {
  const result = await scanRegion(
    { kms: world.kms, budget: UNLIMITED },
    { account: world.account, region: world.region },
    parseConfig(world.config),
    { concurrency: 4 },
  );
  const found = result.findings.filter((f) => f.key?.arn === key.arn);
  const got = found.map((f) => `${f.incident}:${f.severity}`);
  const errors = result.errors.filter((e) => e.startsWith(key.id));
  return [
    {
      what: `the sweep reports exactly ${PLANTED.join(" and ")} for ${key.alias}`,
      ok: [...got].sort().join(", ") === [...PLANTED].sort().join(", "),
      observed: `findings: ${got.join(", ") || "none"}`,
    },
    {
      what: "the sweep read the key without errors",
      ok: result.failed === undefined && errors.length === 0,
      observed: result.failed ?? (errors.join("; ") || "no errors"),
    },
  ];
}

export const scenarios: readonly Scenario[] = [
  {
    id: "sweep-before-deployment",
    title: "A key left with a grant to another account and rotation off before the responder existed",
    promise: "the sweep finds exactly those two problems (no event ever comes for them)",
    async stage(world) {
      const key = await world.createKey("sweep-before-deployment");
      await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
      await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.arn }));
      const { request } = template(fixtureOf(rogueGrant, "external-grantee"), { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(world.kms, key, request);
      return {
        sweep: true,
        attack: `before deployment: DisableKeyRotation on ${key.alias} and CreateGrant to another account -> grant ${grantId}; then the sweep of ${world.account} ${world.region}`,
        performed: true,
        verify: () => sweepChecks(world, key),
      };
    },
  },
];
