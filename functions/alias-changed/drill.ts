/** The drill's alias-changed scenario. Drill code only: no Lambda entry imports this file. */
import { UpdateAliasCommand } from "@aws-sdk/client-kms";
import { checkKeyState, fixtureOf, type Scenario, template } from "../../cli/drill/scenarios.js";
import { aliasChanged } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  {
    id: aliasChanged.name,
    title: "An alias is pointed at another key",
    promise: "notified: medium, nothing changed (an alias change is often a deployment)",
    async stage(world) {
      const key = await world.createKey(aliasChanged.name);
      const other = await world.createKey(`${aliasChanged.name}-other`);
      await world.kms.send(new UpdateAliasCommand({ AliasName: key.alias, TargetKeyId: other.id }));
      const fixture = fixtureOf(aliasChanged, "update-alias");
      return {
        attack: `the Deployer role UpdateAlias ${key.alias} -> ${other.alias}`,
        performed: true,
        fixture,
        event: template(fixture, {
          keyArn: other.arn,
          request: { aliasName: key.alias, targetKeyId: other.id },
        }).event,
        expect: { rule: aliasChanged.name, outcome: "notified", actions: [], severity: "MEDIUM" },
        verify: async () => [await checkKeyState(world.kms, other, "Enabled")],
      };
    },
  },
];
