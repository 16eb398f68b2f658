/**
 * The KMS key-policy analyser: the key-policy checks of AWS's KMS best practices as reason codes
 * with severities (product.md, "key-policy-violation"). Pure: no AWS calls, no logging. The same
 * function serves the key-policy-violation handler, the runbook's analyze-key-policy action and
 * `kms-responder analyze-policy`.
 *
 * Policies are attacker-controlled input (whoever can call PutKeyPolicy writes them), so nothing
 * here throws on a malformed document, builds a RegExp from it or recurses into it: the work is
 * one pass over the statements, linear in the size of the document.
 */

import { type Severity, severityRank } from "../types.js";
import {
  type ActionMask,
  ActionResolver,
  ADMIN_ACTIONS,
  ALL_ACTIONS,
  actionCount,
  actionNames,
  CREATE_GRANT,
  NO_ACTIONS,
  PUT_KEY_POLICY,
  USAGE_ACTIONS,
} from "./actions.js";
import {
  hasServiceCondition,
  isUnconditioned,
  mentionsViaService,
  pinVerdict,
  type Trust,
} from "./conditions.js";
import {
  identify,
  isRecord,
  type PolicyPrincipal,
  type PrincipalIdentity,
  readPrincipals,
  stringList,
} from "./principals.js";

export type PolicyReason =
  | "public-principal"
  | "external-account"
  | "bypass-lockout-safety-check"
  | "wildcard-action"
  | "deny-with-notprincipal"
  | "missing-root-delegation"
  | "grant-without-service-condition"
  | "admin-and-usage-combined";

export const POLICY_REASON_SEVERITY: Readonly<Record<PolicyReason, Severity>> = Object.freeze({
  "public-principal": "critical",
  "external-account": "high",
  "bypass-lockout-safety-check": "high",
  "wildcard-action": "medium",
  "deny-with-notprincipal": "medium",
  "missing-root-delegation": "medium",
  "grant-without-service-condition": "low",
  "admin-and-usage-combined": "low",
});

export interface PolicyFinding {
  reason: PolicyReason;
  severity: Severity;
  /** Index in `PolicyAnalysis.statements`; undefined for policy-wide findings (missing-root-delegation, bypass). */
  statementIndex: number | undefined;
  sid: string | undefined;
  /** One line, plain English, naming the principal and actions concerned. */
  explanation: string;
}

export interface PolicyContext {
  /** 12-digit account that owns the key. */
  keyAccount: string;
  /** Other accounts we trust. */
  trustedAccounts: readonly string[];
  /** `o-xxxx` organisation ids we trust. */
  trustedOrganizationIds: readonly string[];
  /** From the API call's request parameters. */
  bypassPolicyLockoutSafetyCheck?: boolean;
}

export interface PolicyAnalysis {
  /** Sorted by severity (most severe first), then statement index (policy-wide findings first). */
  findings: PolicyFinding[];
  /** The parsed Statement list (a single Statement object becomes a one-element list), malformed entries included, so indexes line up. */
  statements: unknown[];
  /** Set when the document is not a usable policy (not JSON, not an object, no Statement...); findings are then []. */
  error: string | undefined;
}

/**
 * Analyses a key policy.
 *
 * @param policy the policy as CloudTrail records it (a JSON string) or an already parsed object.
 * @returns findings, the parsed statements, and `error` when the document is unusable.
 *   Never throws: an unusable document (or, defensively, any unexpected failure) yields `error`
 *   and no findings; malformed statements (numbers, null, wrong-typed fields) are skipped and the
 *   rest are analysed.
 */
export function analysePolicy(policy: unknown, context: PolicyContext): PolicyAnalysis {
  const document = readDocument(policy);
  if (!document.ok) return { findings: [], statements: [], error: document.error };
  try {
    return {
      findings: analyseStatements(document.statements, context),
      statements: document.statements,
      error: undefined,
    };
  } catch (error) {
    // Only reachable with exotic already-parsed input (throwing getters, proxies): still never throw.
    return {
      findings: [],
      statements: document.statements,
      error: `policy could not be analysed: ${describe(error)}`,
    };
  }
}

/**
 * Returns the policy without the statements at the given indexes (indexes into
 * `PolicyAnalysis.statements`; out-of-range ones are ignored), keeping `Version` and `Id`.
 * Used by the remove-statements response to put back a policy without the offending statements.
 *
 * @throws TypeError when the document is not a usable policy (check `analysePolicy(...).error`
 *   first): returning an empty policy instead would lock everyone out of the key.
 */
export function removeStatements(
  policy: unknown,
  indexes: readonly number[],
): { Version?: string; Id?: string; Statement: unknown[] } {
  const document = readDocument(policy);
  if (!document.ok) throw new TypeError(`cannot remove statements: ${document.error}`);
  const drop = new Set(indexes);
  const result: { Version?: string; Id?: string; Statement: unknown[] } = {
    Statement: document.statements.filter((_statement, index) => !drop.has(index)),
  };
  const version = own(document.root, "Version");
  const id = own(document.root, "Id");
  if (typeof version === "string") result.Version = version;
  if (typeof id === "string") result.Id = id;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading the document

type ReadDocument =
  | { ok: true; root: Record<string, unknown>; statements: unknown[] }
  | { ok: false; error: string };

function readDocument(policy: unknown): ReadDocument {
  let value = policy;
  if (typeof policy === "string") {
    try {
      value = JSON.parse(policy);
    } catch (error) {
      return { ok: false, error: `policy is not valid JSON (${describe(error)})` };
    }
  }
  if (!isRecord(value)) return { ok: false, error: `policy is ${kindOf(value)}, not a JSON object` };
  try {
    const statement = own(value, "Statement");
    if (statement === undefined) return { ok: false, error: "policy has no Statement" };
    if (Array.isArray(statement)) return { ok: true, root: value, statements: statement };
    if (isRecord(statement)) return { ok: true, root: value, statements: [statement] };
    return { ok: false, error: `Statement is ${kindOf(statement)}, neither an object nor an array` };
  } catch (error) {
    return { ok: false, error: `policy could not be read: ${describe(error)}` };
  }
}

interface Statement {
  index: number;
  sid: string | undefined;
  effect: "allow" | "deny" | undefined;
  principals: PolicyPrincipal[];
  notPrincipals: PolicyPrincipal[];
  hasNotPrincipal: boolean;
  actions: string[];
  notActions: string[];
  hasNotAction: boolean;
  condition: unknown;
}

function readStatement(raw: Record<string, unknown>, index: number): Statement {
  const sid = own(raw, "Sid");
  const effect = own(raw, "Effect");
  const lowered = typeof effect === "string" ? effect.toLowerCase() : undefined;
  return {
    index,
    sid: typeof sid === "string" ? sid : undefined,
    effect: lowered === "allow" || lowered === "deny" ? lowered : undefined,
    principals: readPrincipals(own(raw, "Principal")),
    notPrincipals: readPrincipals(own(raw, "NotPrincipal")),
    hasNotPrincipal: own(raw, "NotPrincipal") !== undefined,
    actions: stringList(own(raw, "Action")),
    notActions: stringList(own(raw, "NotAction")),
    hasNotAction: own(raw, "NotAction") !== undefined,
    condition: own(raw, "Condition"),
  };
}

// ---------------------------------------------------------------------------------------------
// The checks

/** Where a finding points: a statement's index and Sid. */
interface Where {
  index: number;
  sid: string | undefined;
}

/** A principal that holds both key administration and use, collected across Allow statements. */
interface Holder {
  name: string;
  admin: ActionMask;
  usage: ActionMask;
  statements: number[];
}

function analyseStatements(statements: readonly unknown[], context: PolicyContext): PolicyFinding[] {
  const trust: Trust = {
    keyAccount: context.keyAccount,
    accounts: new Set(context.trustedAccounts),
    organizations: new Set(context.trustedOrganizationIds),
  };
  const resolver = new ActionResolver();
  const findings: PolicyFinding[] = [];
  const holders = new Map<string, Holder>();
  const sids: (string | undefined)[] = [];
  let rootDelegated = false;

  const add = (reason: PolicyReason, where: Where | undefined, explanation: string): void => {
    findings.push({
      reason,
      severity: POLICY_REASON_SEVERITY[reason],
      statementIndex: where?.index,
      sid: where?.sid,
      explanation,
    });
  };

  if (context.bypassPolicyLockoutSafetyCheck === true) {
    add(
      "bypass-lockout-safety-check",
      undefined,
      "The call set BypassPolicyLockoutSafetyCheck, so KMS did not check that the new policy still lets the caller manage the key.",
    );
  }

  for (let index = 0; index < statements.length; index++) {
    const raw = statements[index];
    if (!isRecord(raw)) continue; // a number, null or array where a statement should be: skipped
    const statement = readStatement(raw, index);
    sids[index] = statement.sid;
    const label = statementLabel(statement);
    const acts = describeActions(statement);

    if (statement.effect === "deny") {
      if (statement.hasNotPrincipal) {
        add(
          "deny-with-notprincipal",
          statement,
          `${label} denies ${acts} to every principal except ${describePrincipals(statement.notPrincipals)}, which also denies AWS services and the account's own administrators.`,
        );
      }
      continue;
    }
    if (statement.effect !== "allow") continue;

    const actionMask = resolver.resolveAll(statement.actions);
    const allowed = statement.hasNotAction
      ? actionMask | (ALL_ACTIONS & ~resolver.resolveAll(statement.notActions))
      : actionMask;
    const grantsEverything = actionMask === ALL_ACTIONS || statement.hasNotAction;

    const { everyone, others, grantees, external, isPublic, namesRoot } = sortPrincipals(statement, trust);

    if (isPublic) {
      const pin = pinVerdict(statement.condition, trust);
      if (pin.kind === "none") {
        const via = mentionsViaService(statement.condition)
          ? " (kms:ViaService limits the calling service, not the caller)"
          : "";
        add(
          "public-principal",
          statement,
          `${label} allows ${acts} to ${everyone} with no condition that pins the caller's account or organization${via}.`,
        );
      } else if (pin.kind === "untrusted") {
        for (const name of pin.names) external.add(() => `callers pinned to ${display(name)}`);
      }
    }
    if (external.total > 0) {
      add(
        "external-account",
        statement,
        `${label} allows ${acts} to ${external}, outside the key's account and the trusted accounts and organizations.`,
      );
    }

    const wildcard = grantsEverything && grantees.total > 0;
    if (wildcard) {
      add(
        "wildcard-action",
        statement,
        `${label} allows ${acts} to ${grantees}; only the key account's root should hold every KMS action (whoever holds kms:PutKeyPolicy can rewrite the policy).`,
      );
    }

    // A pure administration statement (PutKeyPolicy, no cryptographic use) is exempt: its holder
    // can already rewrite the whole policy, and the console's own "Allow access for Key
    // Administrators" statement grants kms:Create* (hence CreateGrant) this way.
    const adminOnly = (allowed & PUT_KEY_POLICY) !== NO_ACTIONS && (allowed & USAGE_ACTIONS) === NO_ACTIONS;
    if (
      (allowed & CREATE_GRANT) !== NO_ACTIONS &&
      grantees.total > 0 &&
      !adminOnly &&
      !hasServiceCondition(statement.condition)
    ) {
      add(
        "grant-without-service-condition",
        statement,
        `${label} allows kms:CreateGrant${createGrantSource(statement, resolver)} to ${grantees} without a kms:ViaService or kms:GrantIsForAWSResource condition, so they can delegate use of the key to any principal.`,
      );
    }

    // Administration and use per principal; a statement already reported as wildcard-action does
    // not count again (one finding per principal is enough).
    if (!wildcard) {
      const admin = allowed & ADMIN_ACTIONS;
      const usage = allowed & USAGE_ACTIONS;
      if (admin !== NO_ACTIONS || usage !== NO_ACTIONS) {
        for (const { principal, identity } of others)
          collect(holders, principal, identity, index, admin, usage);
      }
    }

    if (
      namesRoot &&
      !statement.hasNotAction &&
      actionMask === ALL_ACTIONS &&
      isUnconditioned(statement.condition)
    ) {
      rootDelegated = true;
    }
  }

  const memo = new Map<ActionMask, string>();
  for (const holder of holders.values()) {
    if (holder.admin === NO_ACTIONS || holder.usage === NO_ACTIONS) continue;
    const first = holder.statements[0];
    add(
      "admin-and-usage-combined",
      first === undefined ? undefined : { index: first, sid: sids[first] },
      `${holder.name} gets both key administration (${namesOf(holder.admin, memo)}) and cryptographic use (${namesOf(holder.usage, memo)}) from ${holder.statements.length === 1 ? "statement" : "statements"} ${listHead(holder.statements, String)}; separate key administrators from key users.`,
    );
  }

  if (!rootDelegated) {
    const root = `arn:aws:iam::${display(trust.keyAccount)}:root`;
    add(
      "missing-root-delegation",
      undefined,
      `No statement allows ${root} kms:* without conditions, so IAM policies in account ${display(trust.keyAccount)} cannot grant access to the key and a lockout is likely.`,
    );
  }

  return sortFindings(findings);
}

interface Grantees {
  /** How to name "everyone" in this statement: `everyone (*)` or `every principal except ...`. */
  everyone: string;
  /** The principals allowed apart from the key account's root. */
  others: Array<{ principal: PolicyPrincipal; identity: PrincipalIdentity }>;
  /** `others` for explanations, preceded by the NotPrincipal "everyone except" when there is one. */
  grantees: Listing;
  /** Principals in accounts that are neither the key's nor trusted. */
  external: Listing;
  /** `*`, an ARN with a wildcard account, or a NotPrincipal. */
  isPublic: boolean;
  /** The key account's root (ARN or bare account id) is among the principals. */
  namesRoot: boolean;
}

/** Sorts an Allow statement's principals into the groups the checks need. */
function sortPrincipals(statement: Statement, trust: Trust): Grantees {
  const everyone = statement.hasNotPrincipal
    ? `every principal except ${describePrincipals(statement.notPrincipals)}`
    : "everyone (*)";
  const result: Grantees = {
    everyone,
    others: [],
    grantees: new Listing(),
    external: new Listing(),
    isPublic: statement.hasNotPrincipal,
    namesRoot: false,
  };
  if (statement.hasNotPrincipal) result.grantees.add(() => everyone);
  for (const principal of statement.principals) {
    const identity = identify(principal);
    if (identity.type === "public") result.isPublic = true;
    if (identity.type === "account" && identity.root && identity.account === trust.keyAccount) {
      result.namesRoot = true;
      continue;
    }
    result.others.push({ principal, identity });
    result.grantees.add(() => displayPrincipal(principal));
    if (identity.type === "account" && !isTrustedAccount(identity.account, trust)) {
      result.external.add(() => `${displayPrincipal(principal)} (account ${display(identity.account)})`);
    }
  }
  return result;
}

function collect(
  holders: Map<string, Holder>,
  principal: PolicyPrincipal,
  identity: PrincipalIdentity,
  index: number,
  admin: ActionMask,
  usage: ActionMask,
): void {
  // A bare account id and that account's root ARN are the same principal.
  const key =
    identity.type === "account" && identity.root
      ? `account:${identity.account}`
      : `${principal.kind}:${principal.value}`;
  let holder = holders.get(key);
  if (holder === undefined) {
    holder = { name: displayPrincipal(principal), admin: NO_ACTIONS, usage: NO_ACTIONS, statements: [] };
    holders.set(key, holder);
  }
  holder.admin |= admin;
  holder.usage |= usage;
  if (holder.statements[holder.statements.length - 1] !== index) holder.statements.push(index);
}

function isTrustedAccount(account: string, trust: Trust): boolean {
  return account === trust.keyAccount || trust.accounts.has(account);
}

/** How a statement came to allow CreateGrant, when it was not by name: " (through kms:Create*)". */
function createGrantSource(statement: Statement, resolver: ActionResolver): string {
  for (const pattern of statement.actions) {
    if ((resolver.resolve(pattern) & CREATE_GRANT) === NO_ACTIONS) continue;
    return pattern.toLowerCase() === "kms:creategrant" ? "" : ` (through ${display(pattern)})`;
  }
  return ` (through NotAction ${listHead(statement.notActions, display)})`;
}

function sortFindings(findings: PolicyFinding[]): PolicyFinding[] {
  // Array.prototype.sort is stable, so equal findings keep the order they were found in.
  return findings.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (a.statementIndex ?? -1) - (b.statementIndex ?? -1),
  );
}

// ---------------------------------------------------------------------------------------------
// Explanations: one line each, bounded in length whatever the policy holds

const MAX_TEXT = 80;
const MAX_LISTED = 3;

/** Truncates to a readable length and turns control characters (newlines...) into spaces. */
function display(text: string): string {
  const cut = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}...` : text;
  let out = "";
  let clean = 0; // cut[clean..i) has no control character yet to be copied
  for (let i = 0; i < cut.length; i++) {
    const code = cut.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      out += `${cut.slice(clean, i)} `;
      clean = i + 1;
    }
  }
  return clean === 0 ? cut : out + cut.slice(clean);
}

/** A list shown as its first few items and a count: only the shown items are ever rendered. */
class Listing {
  readonly #shown: string[] = [];
  #total = 0;

  get total(): number {
    return this.#total;
  }

  add(render: () => string): void {
    if (this.#shown.length < MAX_LISTED) this.#shown.push(render());
    this.#total++;
  }

  toString(): string {
    return listOf(this.#shown, this.#total);
  }
}

/** The first few items, then "and N more" counted against `total` (callers may pass a prefix). */
function listOf(items: readonly string[], total = items.length): string {
  if (total === 0) return "nothing";
  const shown = items.slice(0, MAX_LISTED).join(", ");
  return total > MAX_LISTED ? `${shown} and ${total - MAX_LISTED} more` : shown;
}

/** Displays only the first few of a possibly huge list, so explanations stay linear and short. */
function listHead<T>(items: readonly T[], show: (item: T) => string): string {
  return listOf(items.slice(0, MAX_LISTED).map(show), items.length);
}

/** Action names of a mask for an explanation; memoised, as many principals share a mask. */
function namesOf(mask: ActionMask, memo: Map<ActionMask, string>): string {
  const known = memo.get(mask);
  if (known !== undefined) return known;
  const count = actionCount(mask);
  const names = actionNames(mask, MAX_LISTED).join(", ");
  const text = count > MAX_LISTED ? `${names} and ${count - MAX_LISTED} more` : names;
  memo.set(mask, text);
  return text;
}

function statementLabel(statement: Statement): string {
  return statement.sid === undefined || statement.sid === ""
    ? `Statement ${statement.index}`
    : `Statement ${statement.index} ("${display(statement.sid)}")`;
}

function describeActions(statement: Statement): string {
  if (!statement.hasNotAction) return listHead(statement.actions, display);
  return `every action except ${listHead(statement.notActions, display)}`;
}

function displayPrincipal(principal: PolicyPrincipal): string {
  if (principal.kind === "AWS") return principal.value === "*" ? "everyone (*)" : display(principal.value);
  return `${display(principal.value)} (${principal.kind})`;
}

function describePrincipals(principals: readonly PolicyPrincipal[]): string {
  return listHead(principals, displayPrincipal);
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function describe(error: unknown): string {
  return display(error instanceof Error ? error.message : String(error));
}
