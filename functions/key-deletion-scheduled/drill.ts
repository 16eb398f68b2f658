/**
 * The drill's key-deletion-scheduled scenarios: an unapproved deletion, the approved control, and
 * a member account's key. Drill code only: no Lambda entry imports this file.
 */

import { cloudTrailDeletionDate } from "../../cli/drill/events.js";
import {
  checkKeyState,
  createDrillKey,
  DRILL_MEMBER,
  DRILL_MEMBER_REGION,
  deletionScenario,
  fixtureOf,
  forwardedFromMember,
  type Scenario,
  scheduleDeletion,
  template,
} from "../../cli/drill/scenarios.js";
import { keyDeletionScheduled } from "./incident.js";

export const scenarios: readonly Scenario[] = [
  deletionScenario(
    "unapproved-deletion",
    "Key deletion scheduled by a principal that is not approved",
    "deletion cancelled, key Enabled",
    fixtureOf(keyDeletionScheduled, "unapproved"),
    "mallory (IAM user)",
    7,
    {
      rule: keyDeletionScheduled.name,
      outcome: "remediated",
      actions: [
        { type: "cancel-key-deletion", status: "succeeded" },
        { type: "enable-key", status: "succeeded" },
      ],
      severity: "CRITICAL",
    },
    "Enabled",
    "moto has no CloudTrail LookupEvents: the key's prior state cannot be read, so it is re-enabled (the notification says so)",
  ),
  deletionScenario(
    "approved-deletion",
    "Key deletion scheduled by the approved KeyAdmin role with MFA (control)",
    "no action: approved deletion, notified",
    fixtureOf(keyDeletionScheduled, "approved"),
    "KeyAdmin role (MFA)",
    30,
    { rule: keyDeletionScheduled.name, outcome: "notified", actions: [], severity: "MEDIUM" },
    "PendingDeletion",
  ),
  {
    id: "member-account-deletion",
    title: `Key deletion scheduled in member account ${DRILL_MEMBER}, ${DRILL_MEMBER_REGION}`,
    promise: "forwarded to the central bus, deletion cancelled there through the member role, key Enabled",
    async stage(world) {
      const member = await world.kmsIn(DRILL_MEMBER, DRILL_MEMBER_REGION);
      const key = await createDrillKey(member, "member-account-deletion");
      const date = await scheduleDeletion(member, key, 7);
      const fixture = fixtureOf(keyDeletionScheduled, "unapproved");
      const { event } = template(fixture, {
        keyArn: key.arn,
        response: { deletionDate: cloudTrailDeletionDate(date) },
      });
      return {
        attack: `mallory (IAM user of ${DRILL_MEMBER}) ScheduleKeyDeletion on ${key.alias} in ${DRILL_MEMBER_REGION}, 7-day window`,
        performed: true,
        note: "moto has no CloudTrail LookupEvents: the key's prior state cannot be read, so it is re-enabled",
        fixture,
        event,
        expect: {
          rule: keyDeletionScheduled.name,
          outcome: "remediated",
          actions: [
            { type: "cancel-key-deletion", status: "succeeded" },
            { type: "enable-key", status: "succeeded" },
          ],
          severity: "CRITICAL",
        },
        verify: async () => [
          ...forwardedFromMember(keyDeletionScheduled, event),
          await checkKeyState(member, key, "Enabled"),
        ],
      };
    },
  },
];
