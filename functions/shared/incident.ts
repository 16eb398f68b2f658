/**
 * What an incident declares, in its own folder (`functions/<incident>/incident.ts`): its name, the
 * events it handles, its rule pattern, its pure `decide`, the actions it may run, the facts it
 * reads, and, when it needs them, its own event fields (`details`), fact readers (`facts`) and
 * config options (`options`). The registry (`functions/incidents.ts`, read by `functions/registry.ts`) lists the declarations;
 * routing, triage, the config check, the stack (rules, roles, concurrency), the build and the
 * drill read them.
 */

import type * as v from "valibot";
import type { Executor } from "./actions/action.js";
import type { Config } from "./config.js";
import type { Decision, KeyFacts } from "./decision.js";
import type { DetailParser, KmsEvent } from "./event.js";
import type { FactName, FactReader } from "./facts.js";
import type { HistoryReader } from "./history-reader.js";
import type { EventPattern } from "./rule.js";
import type { StateJudgement } from "./state.js";
import type { ActionType } from "./types.js";

/**
 * The rule state that lets failed and read-only management events reach a rule: a rule in the
 * default state sees only successful write (mutating) management events.
 */
export const ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

/**
 * `OwnFact` names the facts this incident reads with its own readers (`facts`), besides the shared
 * ones (`FactName`).
 */
export interface Incident<Name extends string = string, OwnFact extends string = never> {
  name: Name;
  /**
   * The CloudTrail event sources it handles (`kms.amazonaws.com` when absent): an incident about
   * another service's calls (the trail, the rules, the functions that watch KMS) names them here,
   * and routing, precheck and triage then accept those records for it.
   */
  eventSources?: readonly string[];
  /** The CloudTrail event names this incident handles (routing and the rule pattern). */
  eventNames: readonly string[];
  /** Whether a normalised KMS event of one of `eventNames` belongs here (e.g. CreateKey only with a policy). */
  matches(event: KmsEvent): boolean;
  /**
   * The rule's pattern. `own` is the loop-prevention clause (the responder roles' calls never
   * match), to spread into `detail`.
   */
  pattern(own: Record<string, unknown>): EventPattern;
  /** `ALL_MANAGEMENT_EVENTS` when the rule must see failed or read-only calls. */
  ruleState?: typeof ALL_MANAGEMENT_EVENTS;
  /** Pure: the same code runs in the Lambda, triage and the drill. */
  decide(event: KmsEvent, config: Config, facts: KeyFacts): Decision;
  /** Every executor this incident may ever run (its handler's static table). */
  executors: readonly Executor[];
  /** The action types it can plan under a config: the function's role is derived from these. */
  plans(config: Config): readonly ActionType[];
  /** What it reads before deciding again, under a config (also derives the role). */
  reads(config: Config): readonly (FactName | OwnFact)[];
  /**
   * Its own config options: valibot entries (usually `options.ts` in its folder), the fields
   * `incidents.<name>` accepts besides `mode`. Checked with the whole config where the registry is
   * at hand (CLI, stack), and by its own handler when it is created; read with `incidentOptions`.
   */
  options?: v.ObjectEntries;
  /** Its own fact readers, by name (each with the IAM actions it needs): read like the shared ones. */
  facts?: Readonly<Record<OwnFact, FactReader>>;
  /**
   * Its own event fields: parsers for the records of the event names they list, whose detail
   * kinds the incident adds to `EventDetails` (event.ts) from its folder.
   */
  details?: readonly DetailParser[];
  /**
   * The event names of the key's earlier calls this incident's `decide` reads (`facts.earlier`,
   * with the `earlier` fact): CloudTrail history deployed, the run's earlier records in triage.
   */
  remembers?: readonly string[];
  /** The CloudTrail history reader, for incidents that read `history` (bundled only into them). */
  history?: HistoryReader;
  /**
   * Its events name no key (custom key stores): nothing is read about a key, not even the key's
   * aliases for the notification, so the role holds no KMS read.
   */
  keyless?: true;
  /** Reserved concurrency (see the sizing notes in each declaration). */
  reservedConcurrency?: number;
  /** One line for the README and `--help`. */
  summary: string;
  /** The ASFF finding type (`namespace/category/classifier`) its Security Hub findings carry. */
  securityHubType: string;
  /**
   * Its event means the key is gone for good: with `securityHub` on, the key's open findings there
   * are archived and resolved once its own finding is imported (the role gets
   * securityhub:GetFindings and BatchUpdateFindings for it).
   */
  closesKeyFindings?: true;
  /**
   * How it judges a key's current state (the sweep), with its own reason codes; absent for
   * incidents about an act that leaves no trace in the key's state (who disabled a key, an alias
   * moved, material deleted, a key pending deletion used).
   */
  state?: StateJudgement;
}
