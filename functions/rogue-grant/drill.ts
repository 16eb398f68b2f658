/**
 * The drill's rogue-grant scenarios: grants an attacker creates, the controls the rule and the
 * handler leave alone, a duplicate delivery, and a member account's key. Drill code only: no Lambda
 * entry imports this file.
 */
import {
  checkGrant,
  checkKeyState,
  createDrillKey,
  createGrantAsRecorded,
  DRILL_MEMBER,
  DRILL_MEMBER_REGION,
  DRILL_ORGANIZATION,
  detailOf,
  fixtureOf,
  forwardedFromMember,
  grantScenario,
  type Scenario,
  template,
} from "../../cli/drill/scenarios.js";
import { parseConfig } from "../shared/config.js";
import { str } from "../shared/json.js";
import { rogueGrant } from "./incident.js";

const revoked = (severity: string) => ({
  expect: {
    rule: rogueGrant.name,
    outcome: "remediated",
    actions: [{ type: "revoke-grant", status: "succeeded" }],
    severity,
  },
});

export const scenarios: readonly Scenario[] = [
  grantScenario(
    "external-grant",
    "Grant to another account",
    "grant revoked",
    fixtureOf(rogueGrant, "external-grantee"),
    "mallory (IAM user)",
    revoked("CRITICAL"),
    true,
  ),
  grantScenario(
    "delegation-grant",
    "Grant that lets the grantee re-delegate (CreateGrant)",
    "grant revoked",
    fixtureOf(rogueGrant, "delegation"),
    "Developer role",
    revoked("HIGH"),
    true,
  ),
  grantScenario(
    "aws-service-grant",
    "Grant DynamoDB creates for a table (control)",
    "not delivered: the rule leaves AWS service grantees out (the handler trusts them too)",
    fixtureOf(rogueGrant, "dynamodb-service"),
    "dynamodb.amazonaws.com on behalf of the Admin role",
    {
      expect: { rule: null, outcome: "ignored", skipped: "trusted-grant" },
      directHandler: rogueGrant.name,
    },
    false,
  ),
  grantScenario(
    "own-call",
    "The responder's own role creates a grant (loop prevention)",
    "ignored: own call",
    fixtureOf(rogueGrant, "own-call"),
    "the responder's RogueGrant role",
    {
      expect: { rule: null, outcome: "ignored", skipped: "own-call" },
      directHandler: rogueGrant.name,
    },
    false,
  ),
  grantScenario(
    "duplicate-event",
    "The same external-grant event delivered twice (EventBridge delivers at least once)",
    "nothing more changed: ListGrants shows the grant gone (grant-gone), notified for review",
    fixtureOf(rogueGrant, "external-grantee"),
    "mallory (IAM user)",
    {
      deliverTwice: true,
      expect: {
        rule: rogueGrant.name,
        outcome: "notified",
        verdicts: ["grant-gone"],
        actions: [],
        noChange: true,
        severity: "CRITICAL",
      },
    },
    true,
  ),
  {
    id: "member-account-grant",
    title: `Grant to another account, on a key of member account ${DRILL_MEMBER} in ${DRILL_MEMBER_REGION}`,
    promise: "forwarded to the central bus, grant revoked there through the member role",
    async stage(world) {
      const member = await world.kmsIn(DRILL_MEMBER, DRILL_MEMBER_REGION);
      const key = await createDrillKey(member, "member-account-grant");
      const fixture = fixtureOf(rogueGrant, "external-grantee");
      const { request } = template(fixture, { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(member, key, request);
      const { event } = template(fixture, { keyArn: key.arn, grantId });
      return {
        attack: `mallory (IAM user of ${DRILL_MEMBER}) CreateGrant on ${key.alias} in ${DRILL_MEMBER_REGION} to ${str(request.granteePrincipal)} -> grant ${grantId}`,
        performed: true,
        fixture,
        event,
        ...revoked("CRITICAL"),
        verify: async () => [
          ...forwardedFromMember(rogueGrant, event),
          await checkGrant(member, key, grantId, "gone"),
          await checkKeyState(member, key, "Enabled"),
        ],
      };
    },
  },
  {
    id: "member-look-alike-role",
    title: `Grant on a key of member account ${DRILL_MEMBER} by a role named like the member role, in an outside account`,
    promise: "a look-alike of the member role is an ordinary caller: grant revoked",
    async stage(world) {
      const member = await world.kmsIn(DRILL_MEMBER, DRILL_MEMBER_REGION);
      const key = await createDrillKey(member, "member-look-alike-role");
      const fixture = fixtureOf(rogueGrant, "external-grantee");
      const { request } = template(fixture, { keyArn: key.arn });
      const grantId = await createGrantAsRecorded(member, key, request);
      const { event } = template(fixture, { keyArn: key.arn, grantId });
      // The caller: a role of the member role's name in an account outside the organisation, with
      // the responder's SourceIdentity (anyone may set any SourceIdentity on their own sessions).
      const outside = "999988887777";
      const lookAlike = `arn:aws:iam::${outside}:role/${parseConfig({ organization: DRILL_ORGANIZATION }).organization?.memberRoleName ?? ""}`;
      detailOf(event).userIdentity = {
        type: "AssumedRole",
        principalId: "AROAEXAMPLELOOKALIKE1:kmsr-rogue-grant-x",
        arn: `arn:aws:sts::${outside}:assumed-role/kms-responder-member/kmsr-rogue-grant-x`,
        accountId: outside,
        sessionContext: {
          sessionIssuer: { type: "Role", arn: lookAlike, accountId: outside },
          sourceIdentity: "kms-responder",
        },
      };
      return {
        attack: `${lookAlike} (outside the organisation) CreateGrant on ${key.alias} in ${DRILL_MEMBER_REGION} to ${str(request.granteePrincipal)} -> grant ${grantId}`,
        performed: true,
        note: "the grant is created by the emulator's own identity; the event names the look-alike role as CloudTrail would",
        fixture,
        event,
        ...revoked("CRITICAL"),
        verify: async () => [
          ...forwardedFromMember(rogueGrant, event),
          await checkGrant(member, key, grantId, "gone"),
          await checkKeyState(member, key, "Enabled"),
        ],
      };
    },
  },
];
