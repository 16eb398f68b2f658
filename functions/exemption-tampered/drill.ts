/**
 * The drill's exemption-tampered scenario: an attacker first exempts the key (so that the
 * responder would leave it alone), then creates a grant to another account. The exemption is
 * undone on its own event, so the grant's event finds a key without it and the grant is revoked.
 * Drill code only: no Lambda entry imports this file.
 */
import { ListResourceTagsCommand, TagResourceCommand } from "@aws-sdk/client-kms";
import {
  type Check,
  checkGrant,
  checkKeyState,
  createGrantAsRecorded,
  type DrillKey,
  type DrillWorld,
  fixtureOf,
  type Scenario,
  type StepResult,
  template,
} from "../../cli/drill/scenarios.js";
import { rogueGrant } from "../rogue-grant/incident.js";
import { parseConfig } from "../shared/config.js";
import { str } from "../shared/json.js";
import { exemptionTampered } from "./incident.js";

async function tagKeys(world: DrillWorld, key: DrillKey): Promise<string[]> {
  const out = await world.kms.send(new ListResourceTagsCommand({ KeyId: key.arn }));
  return (out.Tags ?? []).flatMap((t) => (t.TagKey ? [t.TagKey] : []));
}

/** What the first step (the exempt tag's event) must have led to, as end-state checks. */
function stepChecks(step: StepResult, tagsAfter: readonly string[], exemptTag: string): Check[] {
  const rules = step.rules.join(", ") || "none";
  const actions = step.actions.join(", ") || "none";
  const subjects = step.subjects.join(" | ") || "none";
  return [
    {
      what: `the exempt tag's event reached ${exemptionTampered.name} only, which removed the tag`,
      ok:
        rules === exemptionTampered.name &&
        step.outcome === "remediated" &&
        actions === "untag-exempt:succeeded",
      observed: `rules: ${rules}; outcome ${step.outcome}; actions ${actions}`,
    },
    {
      what: "the exemption's removal was notified, critical",
      ok: step.subjects.length === 1 && subjects.startsWith("[CRITICAL]"),
      observed: `notified: ${subjects}`,
    },
    {
      what: `${exemptTag} is gone from the key before the grant`,
      ok: !tagsAfter.includes(exemptTag),
      observed: `ListResourceTags: ${tagsAfter.join(", ") || "no tags"}`,
    },
  ];
}

export const scenarios: readonly Scenario[] = [
  {
    id: "exempt-then-grant",
    title: "An unapproved role exempts the key, then grants it to another account",
    promise: "exemption removed (critical), then the grant revoked: the exemption does not hold",
    async stage(world) {
      const key = await world.createKey("exempt-then-grant");
      const exemptTag = parseConfig(world.config).exemptTagKey;
      // Step 1: the exemption, performed, and its event delivered through the rules.
      await world.kms.send(
        new TagResourceCommand({ KeyId: key.arn, Tags: [{ TagKey: exemptTag, TagValue: "true" }] }),
      );
      const tagged = template(fixtureOf(exemptionTampered, "tag-exempt"), {
        keyArn: key.arn,
        request: { tags: [{ tagKey: exemptTag, tagValue: "true" }] },
      }).event;
      const step = await world.deliver(tagged);
      const checks = stepChecks(step, await tagKeys(world, key), exemptTag);
      // Step 2: the grant, the scenario's reported event.
      const fixture = fixtureOf(rogueGrant, "external-grantee");
      const { request } = template(fixture, { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(world.kms, key, request);
      const { event } = template(fixture, { keyArn: key.arn, grantId });
      return {
        attack: `build-runner role TagResource ${exemptTag}=true on ${key.alias}, then mallory (IAM user) CreateGrant to ${str(request.granteePrincipal)} -> grant ${grantId}`,
        performed: true,
        note: `the first step's event (events/${fixtureOf(exemptionTampered, "tag-exempt")}.json) is delivered before the grant; its outcome is checked in the end state`,
        fixture,
        event,
        expect: {
          rule: rogueGrant.name,
          outcome: "remediated",
          actions: [{ type: "revoke-grant", status: "succeeded" }],
          severity: "CRITICAL",
        },
        verify: async () => [
          ...checks,
          await checkGrant(world.kms, key, grantId, "gone"),
          await checkKeyState(world.kms, key, "Enabled"),
        ],
      };
    },
  },
];
