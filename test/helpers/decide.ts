/**
 * What the `test/decide/*.test.ts` files share: the configs they decide with, the shape they
 * compare decisions by, and `decideEvent` / `decideFixture` bound to one incident's decide function.
 */
import { readFileSync } from "node:fs";
import { INCIDENTS, type IncidentName } from "../../functions/registry.js";
import {
  type Config,
  type ConfigInput,
  parseConfig as parseAnyIncidents,
  parseConfigText as parseAnyIncidentsText,
} from "../../functions/shared/config.js";
import type { Decision, Finding, KeyFacts, PlannedAction } from "../../functions/shared/decision.js";
import { type KmsEvent, normalise } from "../../functions/shared/event.js";
import { type FixtureEvent, loadEvent } from "./fixtures.js";

/** Configs as the CLI and the stack check them: against the registry (each incident's options). */
const parseConfig = (input: unknown): Config => parseAnyIncidents(input, "config", INCIDENTS);
const parseConfigText = (text: string, origin: string): Config =>
  parseAnyIncidentsText(text, origin, INCIDENTS);

/**
 * Every default but the global mode, switched to `enforce` as a deployment does on purpose (the
 * default is `notify`): these tests pin what acting would plan. `NOTIFY_DEFAULTS` is the config with
 * nothing set at all.
 */
export const ENFORCING = parseConfig({ mode: "enforce" });
export const NOTIFY_DEFAULTS = parseConfig({});
/**
 * The fixtures' responder roles (the `own-call` fixtures), as the stack fills them in: the shipped
 * example names none (whoever created a role of such a name would act unseen).
 */
export const FIXTURE_RESPONDER_ROLES = [
  "arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE",
  "arn:aws:iam::111122223333:role/kms-responder-KeyDeletionRole-EXAMPLE",
  "arn:aws:iam::111122223333:role/kms-responder-KeyPolicyViolationRole-EXAMPLE",
  "arn:aws:iam::111122223333:role/kms-responder-KeyRotationRole-EXAMPLE",
];

/**
 * The repository's `config/example.json` as deployed: the stack adds its own role ARNs, and its
 * `"mode": "notify"` is switched to `enforce`, as a deployment does once its notifications read right.
 */
export const EXAMPLE = parseConfig({
  ...parseConfigText(readFileSync("config/example.json", "utf8"), "config/example.json"),
  responderRoleArns: FIXTURE_RESPONDER_ROLES,
  mode: "enforce",
});

/** A config in `enforce` mode unless `input` sets a mode. */
export const config = (input: ConfigInput): Config => parseConfig({ mode: "enforce", ...input });

/** The ARN of a key in the fixtures' account and region (111122223333, us-east-1). */
export const keyArn = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`;

/** Where the fixtures' responder runs: the fixtures' account and Region. */
export const HERE = { region: "us-east-1", account: "111122223333" } as const;

/** The parts of a decision that say what happens: no titles, summaries or the event itself. */
export type Shape =
  | { kind: "ignore"; skipped: string; incident: string | undefined }
  | {
      kind: "finding";
      incident: string;
      severity: string;
      reasons: string[];
      actions: PlannedAction[];
      verdicts?: string[];
    };

export function shapeOf(decision: Decision): Shape {
  if (decision.kind === "ignore")
    return { kind: "ignore", skipped: decision.skipped, incident: decision.incident };
  const shape: Shape = {
    kind: "finding",
    incident: decision.incident,
    severity: decision.severity,
    reasons: decision.reasons,
    actions: decision.actions,
  };
  return decision.verdicts ? { ...shape, verdicts: decision.verdicts } : shape;
}

/** Failed calls are dropped before any incident is chosen. */
export const FAILED_CALL: Shape = { kind: "ignore", skipped: "failed-call", incident: undefined };

/**
 * The normalised event of a fixture (anything `normalise` accepts).
 * @throws when the event does not normalise.
 */
export function eventOf(raw: unknown): KmsEvent {
  const event = normalise(raw);
  if (!event) throw new Error("fixture did not normalise");
  return event;
}

/** The finding, or a failed test when the decision ignored the event. */
export function findingOf(decision: Decision): Finding {
  if (decision.kind !== "finding") throw new Error(`expected a finding, got ignore/${decision.skipped}`);
  return decision;
}

/** An incident's decide function, with anything beyond event, config and facts already fixed. */
export type Decide = (event: KmsEvent, config: Config, facts: KeyFacts) => Decision;

/**
 * `decideEvent(event, config?, facts?)` and `decideFixture(variant, config?, facts?)` for one
 * incident: the config defaults to {@link ENFORCING}, the facts to none, and a variant names a file
 * under `events/<incident>/`.
 */
export function decisionsFor(incident: IncidentName, decide: Decide) {
  function decideEvent(event: FixtureEvent, config: Config = ENFORCING, facts: KeyFacts = {}): Decision {
    return decide(eventOf(event), config, facts);
  }

  function decideFixture(variant: string, config: Config = ENFORCING, facts: KeyFacts = {}): Decision {
    return decideEvent(loadEvent(`${incident}/${variant}`), config, facts);
  }

  return { decideEvent, decideFixture };
}

/** One row of the hold table: label, config, facts, and the hold code expected. */
export type HoldCase = [label: string, config: Config, facts: KeyFacts, code: string];

/**
 * The keys an acting incident never changes, whatever it decided: an exempt key, a key in
 * `ignoredKeys` (one row per way of naming it), an AWS managed key, and a key of another account
 * or Region than the responder's. Each acting incident's test runs its actions against this one
 * table, so a new hold reaches every incident's test at once.
 */
export function holdCases(
  base: Config,
  ignored: Readonly<Record<string, string>>,
  exemptValue = "",
): HoldCase[] {
  return [
    ["an exempt key", base, { tags: { "kms-responder:exempt": exemptValue } }, "exempt-key"],
    ...Object.entries(ignored).map(
      ([label, ref]): HoldCase => [label, parseConfig({ ...base, ignoredKeys: [ref] }), {}, "ignored-key"],
    ),
    ["an AWS managed key", base, { keyManager: "AWS" }, "aws-managed-key"],
    [
      "a key of another account",
      base,
      { responder: { region: "us-east-1", account: "999988887777" } },
      "other-account",
    ],
    [
      "a key of another Region",
      base,
      { responder: { region: "eu-west-1", account: "111122223333" } },
      "other-region",
    ],
  ];
}
