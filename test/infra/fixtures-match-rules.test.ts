/**
 * Every fixture under `events/` matches exactly the rule meant for it, using
 * the patterns the incidents declare (the ones the stack deploys, read from the registry) and an
 * EventBridge-semantics matcher. What each fixture should match comes from its folder and file
 * name through the tables below, never from the matcher.
 */
import { describe, expect, it } from "vitest";
import { matchesPattern } from "../../emulator/event-pattern.js";
import { INCIDENTS as DECLARATIONS, type IncidentName } from "../../functions/registry.js";
import { notByResponder } from "../../functions/shared/rule.js";
import { loadAllEvents } from "../helpers/fixtures.js";

/** The responder role ARNs the own-call fixtures use (the stack's roles, as CloudTrail shows them). */
const RESPONDER_ROLE_ARNS = [
  "arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE",
  "arn:aws:iam::111122223333:role/kms-responder-KeyDeletionRole-EXAMPLE",
  "arn:aws:iam::111122223333:role/kms-responder-KeyPolicyViolationRole-EXAMPLE",
  "arn:aws:iam::111122223333:role/kms-responder-KeyRotationRole-EXAMPLE",
];

/** No rule matches these: failed calls and the responder's own calls, in any folder... */
const MATCH_NONE_VARIANTS = new Set(["failed-call", "own-call"]);
/** ...events of no incident... */
const MATCH_NONE_FOLDERS = new Set(["other"]);
/** ...and these negative controls. */
const MATCH_NONE_FIXTURES = new Set([
  // DeleteKey as an API call: nobody can call it; only KMS's service event ends a deletion.
  "key-deleted/not-a-service-event",
  // Re-imported existing material: nothing new.
  "key-material-imported/existing-material",
  // A failed call on a disabled key ("is disabled."), not a key pending deletion.
  "pending-deletion-key-used/disabled-key-error",
  // Imported material without an expiry: nothing will expire.
  "key-material-expiring/does-not-expire",
  // Grants to an AWS service principal (`*.amazonaws.com`): only the service creates those, so the
  // rule leaves them out and a burst of them never invokes the function.
  "rogue-grant/dynamodb-service",
  "rogue-grant/rds-invoked-by",
]);

/**
 * These reach their rule on purpose: the pattern cannot tell them apart, the handler does
 * (AWS-service grants whose grantee is not a service principal, approved deletions and disables,
 * exempt keys, benign policies).
 */
const FILTERED_IN_CODE = [
  "rogue-grant/aws-internal",
  "rogue-grant/ebs-infrastructure",
  "rogue-grant/exempt-key",
  "key-deletion-scheduled/approved",
  "key-deletion-scheduled/approved-without-mfa",
  "key-disabled/approved-admin",
  "key-policy-violation/create-key-default-policy",
  "key-policy-violation/org-pinned-public",
  "key-material-imported/approved",
  "key-rotation-weakened/within-maximum",
  "key-rotation-weakened/default-period",
  "key-rotation-weakened/approved",
  "custom-key-store-changed/rename-only",
  "key-deleted/delete-approved-key",
  // Any tag change reaches the rule; only the exempt and protected tag keys (config) are incidents.
  "exemption-tampered/approved-exempt",
  "exemption-tampered/other-tag",
  // The rule takes every watched call; whose resource it is and who deploys are judged in code.
  "responder-tampered/deployment-put-function-concurrency",
  "responder-tampered/other-function",
];

/**
 * Fixtures that reach a second rule as well, on purpose: an import of new material that expires
 * is both an expiry to announce and new material to judge (two rules, two functions).
 */
const ALSO_MATCHES: Readonly<Record<string, IncidentName[]>> = {
  "key-material-expiring/expires-soon": ["key-material-imported"],
  "key-material-expiring/expires-later": ["key-material-imported"],
  "key-material-expiring/does-not-expire": ["key-material-imported"],
  "key-material-expiring/default-model": ["key-material-imported"],
  // A replica with a public policy: a policy to analyse and a Region to judge.
  "key-policy-violation/replicate-key-public": ["key-region-changed"],
};

const INCIDENTS: IncidentName[] = DECLARATIONS.map((i) => i.name);

function isIncident(folder: string): folder is IncidentName {
  return (INCIDENTS as readonly string[]).includes(folder);
}

/** The rules a fixture must match, from its folder and name only. */
function expectedRules(folder: string, variant: string): IncidentName[] {
  if (MATCH_NONE_VARIANTS.has(variant) || MATCH_NONE_FOLDERS.has(folder)) return [];
  const also = ALSO_MATCHES[`${folder}/${variant}`] ?? [];
  if (MATCH_NONE_FIXTURES.has(`${folder}/${variant}`)) return also;
  if (isIncident(folder)) return INCIDENTS.filter((i) => i === folder || also.includes(i));
  throw new Error(`no expectation for events/${folder}/${variant}.json: add its folder to the tables`);
}

/** Each incident's rule pattern as the stack builds it: the declaration with the loop-prevention clause. */
const own = notByResponder(RESPONDER_ROLE_ARNS);
const rules = DECLARATIONS.map((incident) => ({ name: incident.name, pattern: incident.pattern(own) }));
const fixtures = loadAllEvents();
const matchedRules = (event: unknown): IncidentName[] =>
  rules.filter((rule) => matchesPattern(rule.pattern, event)).map((rule) => rule.name);

describe("fixtures match exactly the rule meant for them", () => {
  it("has fixtures for every incident, positive and negative", () => {
    for (const incident of INCIDENTS) {
      const own = fixtures.filter((f) => f.incident === incident);
      expect(
        own.some((f) => expectedRules(f.incident, f.variant).length === 1),
        `${incident} positive`,
      ).toBe(true);
      expect(
        own.some((f) => expectedRules(f.incident, f.variant).length === 0),
        `${incident} negative`,
      ).toBe(true);
    }
  });

  it.each(fixtures.map((f) => [f.path, f] as const))("%s", (_path, fixture) => {
    expect(matchedRules(fixture.event)).toEqual(expectedRules(fixture.incident, fixture.variant));
  });
});

describe("tables", () => {
  it("own-call fixtures use one of the responder role ARNs listed here", () => {
    const ownCalls = fixtures.filter((f) => f.variant === "own-call");
    expect(ownCalls.length).toBeGreaterThan(0);
    for (const { path, event } of ownCalls) {
      const issuer = (
        event.detail.userIdentity?.sessionContext as { sessionIssuer?: { arn?: string } } | undefined
      )?.sessionIssuer?.arn;
      expect(RESPONDER_ROLE_ARNS, path).toContain(issuer);
    }
  });

  it.each(FILTERED_IN_CODE)(
    "%s exists and reaches its rule (filtered in code, not in the pattern)",
    (name) => {
      const fixture = fixtures.find((f) => `${f.incident}/${f.variant}` === name);
      if (!fixture) throw new Error(`events/${name}.json is missing`);
      expect(matchedRules(fixture.event)).toEqual([fixture.incident]);
    },
  );

  it("negative controls exist", () => {
    for (const name of MATCH_NONE_FIXTURES) {
      expect(
        fixtures.some((f) => `${f.incident}/${f.variant}` === name),
        name,
      ).toBe(true);
    }
  });
});
