/**
 * The KMS key-policy analyser: the key-policy checks of AWS's KMS best practices as reason codes
 * with severities (docs/incidents.md lists them). Pure: no AWS calls, no logging. The same
 * function serves the key-policy handler, the runbook's analyze-key-policy action and
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
  EXTERNAL_CRITICAL_ACTIONS,
  GET_PUBLIC_KEY,
  GRANT_OPERATIONS,
  NO_ACTIONS,
  NON_SENSITIVE_READS,
  PUT_KEY_POLICY,
  USAGE_ACTIONS,
} from "./actions.js";
import {
  conditionValues,
  hasServiceCondition,
  hasSourceCondition,
  isPerimeterDeny,
  isUnconditioned,
  mentionsViaService,
  type PinVerdict,
  pinsKeyAccountOnly,
  pinVerdict,
  type Trust,
} from "./conditions.js";
import {
  identify,
  isRecord,
  type PolicyPrincipal,
  principalKind,
  principalList,
  readPrincipals,
  stringList,
} from "./principals.js";

export type PolicyReason =
  | "public-principal"
  | "external-account"
  | "bypass-lockout-safety-check"
  | "public-read-only"
  | "service-without-source-condition"
  | "wildcard-action"
  | "deny-with-notprincipal"
  | "missing-root-delegation"
  | "grant-without-service-condition"
  | "admin-and-usage-combined"
  | "account-wide-admin";

/**
 * The severities each reason can carry, the usual one first:
 * `external-account` is critical when the untrusted account gets cryptographic or administrative
 * actions, else high; `bypass-lockout-safety-check` is critical together with
 * `missing-root-delegation`; `public-read-only` is low for `kms:GetPublicKey` alone.
 */
export const POLICY_REASON_SEVERITIES: Readonly<Record<PolicyReason, readonly Severity[]>> = Object.freeze({
  "public-principal": ["critical"],
  "external-account": ["critical", "high"],
  "bypass-lockout-safety-check": ["high", "critical"],
  "public-read-only": ["medium", "low"],
  "service-without-source-condition": ["low"],
  "wildcard-action": ["medium"],
  "deny-with-notprincipal": ["medium"],
  "missing-root-delegation": ["medium"],
  "grant-without-service-condition": ["low"],
  "admin-and-usage-combined": ["low"],
  "account-wide-admin": ["high"],
});

export interface PolicyFinding {
  reason: PolicyReason;
  severity: Severity;
  /**
   * 0-based index in `PolicyAnalysis.statements`; undefined for policy-wide findings
   * (missing-root-delegation, bypass). People see statements numbered from 1: the explanation
   * says "Statement 1" for index 0, and so should anything that prints this index.
   */
  statementIndex: number | undefined;
  sid: string | undefined;
  /** One line, plain English, naming the principal and actions concerned. */
  explanation: string;
  /** Which setting would change the verdict, when one would (an organisation nobody vouched for). */
  hint?: string;
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
  /**
   * The organisation (`o-xxxx`) the key's account belongs to, when known (config
   * `organization.id`, or learnt from organizations:DescribeOrganization): trusted like the key's
   * own account. Unknown, a pin to an organisation nobody vouched for stays high with a hint.
   */
  keyOrganizationId?: string | undefined;
  /**
   * DescribeKey's `KeyManager`. `AWS` (an AWS managed key, whose policy AWS writes and nobody can
   * change) takes missing-root-delegation out of scope.
   */
  keyManager?: "AWS" | "CUSTOMER" | undefined;
}

export interface PolicyAnalysis {
  /** Sorted by severity (most severe first), then statement index (policy-wide findings first). */
  findings: PolicyFinding[];
  /** The parsed Statement list (a single Statement object becomes a one-element list), malformed entries included, so indexes line up. */
  statements: unknown[];
  /** Set when the document is not a usable policy (not JSON, not an object, no Statement, nested too deep...); findings are then []. */
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
      findings: examine(document.statements, context).findings,
      statements: document.statements,
      error: undefined,
    };
  } catch (error) {
    // Only reachable with exotic already-parsed input (throwing getters, proxies): still never throw.
    return {
      findings: [],
      statements: [],
      error: `policy could not be analysed: ${describe(error)}`,
    };
  }
}

/** A key policy document as `removeStatements` writes it back. */
export interface KeyPolicyDocument {
  Version?: string;
  Id?: string;
  Statement: unknown[];
}

/** What `removeStatements` took out of one statement. */
export interface Removed {
  /** 0-based index of the statement in the policy it was given. */
  statementIndex: number;
  sid: string | undefined;
  /** The principal values removed, or `"statement"` when the whole statement went. */
  principals: string[] | "statement";
}

/**
 * The outcome of {@link removeStatements}:
 * - `nothing-to-remove`: the policy has no critical finding (`analysis` is the policy's);
 * - `repaired`: `policy` is the policy without the offending principals, and `analysis` (of the
 *   repaired policy) has no critical finding and no missing-root-delegation: safe to put back;
 * - `unsafe`: removal cannot make the policy safe (`reason` says why; `analysis` is of the policy
 *   given): do not put anything back, fall back to disabling the key.
 */
export type StatementRemoval =
  | { outcome: "nothing-to-remove"; analysis: PolicyAnalysis }
  | { outcome: "repaired"; policy: KeyPolicyDocument; removed: Removed[]; analysis: PolicyAnalysis }
  | { outcome: "unsafe"; reason: string; analysis: PolicyAnalysis };

/**
 * The remove-statements response's repair: takes the offending principals out of the statements
 * with a critical finding (the `*`, the untrusted account's principals), and the statement itself
 * when nothing else is left in it or it offends as a whole (an Allow with NotPrincipal). The key
 * account's root is never an offending principal, so its delegation stays. The result is analysed
 * again (as a policy put back without BypassPolicyLockoutSafetyCheck) and refused as `unsafe` when
 * it would still have a critical finding or missing-root-delegation, or no statement at all.
 *
 * Never throws: an unusable document is `unsafe`.
 */
export function removeStatements(policy: unknown, context: PolicyContext): StatementRemoval {
  const document = readDocument(policy);
  if (!document.ok) {
    return {
      outcome: "unsafe",
      reason: `the policy cannot be read: ${document.error}`,
      analysis: { findings: [], statements: [], error: document.error },
    };
  }
  let examined: Examination;
  try {
    examined = examine(document.statements, context);
  } catch (error) {
    const why = `policy could not be analysed: ${describe(error)}`;
    return { outcome: "unsafe", reason: why, analysis: { findings: [], statements: [], error: why } };
  }
  const analysis: PolicyAnalysis = {
    findings: examined.findings,
    statements: document.statements,
    error: undefined,
  };
  if (!analysis.findings.some((f) => f.severity === "critical"))
    return { outcome: "nothing-to-remove", analysis };

  const kept: unknown[] = [];
  const removed: Removed[] = [];
  document.statements.forEach((raw, index) => {
    const removal = examined.removals.get(index);
    if (removal === undefined || !isRecord(raw)) {
      kept.push(raw);
      return;
    }
    const sid = typeof own(raw, "Sid") === "string" ? String(own(raw, "Sid")) : undefined;
    const principal = removal.statement
      ? undefined
      : withoutPrincipals(own(raw, "Principal"), removal.principals);
    if (principal === undefined) {
      removed.push({ statementIndex: index, sid, principals: "statement" });
      return;
    }
    kept.push({ ...raw, Principal: principal });
    removed.push({ statementIndex: index, sid, principals: [...removal.values] });
  });
  const repaired: KeyPolicyDocument = { Statement: kept };
  const version = own(document.root, "Version");
  const id = own(document.root, "Id");
  if (typeof version === "string") repaired.Version = version;
  if (typeof id === "string") repaired.Id = id;

  if (kept.length === 0) {
    return {
      outcome: "unsafe",
      reason: "every statement offends: the key would be left with an empty policy",
      analysis,
    };
  }
  const after = analysePolicy(repaired, { ...context, bypassPolicyLockoutSafetyCheck: false });
  const left = after.findings.filter(
    (f) => f.severity === "critical" || f.reason === "missing-root-delegation",
  );
  if (after.error !== undefined || left.length > 0) {
    const reasons = after.error ?? [...new Set(left.map((f) => f.reason))].join(", ");
    return {
      outcome: "unsafe",
      reason: `without the offending principals the policy would still have ${reasons}`,
      analysis,
    };
  }
  return { outcome: "repaired", policy: repaired, removed, analysis: after };
}

// ---------------------------------------------------------------------------------------------
// Reading the document

/**
 * Deepest nesting a document may have. A real key policy is about 6 levels deep (document,
 * Statement list, statement, Condition, operator, value list); anything deeper is refused before
 * anyone (a notification preview, JSON.stringify) recurses into it and overflows the stack.
 */
const MAX_DEPTH = 64;

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
    if (deeperThan(value, MAX_DEPTH)) {
      return { ok: false, error: `policy is nested deeper than ${MAX_DEPTH} levels` };
    }
    const statement = own(value, "Statement");
    if (statement === undefined) return { ok: false, error: "policy has no Statement" };
    if (Array.isArray(statement)) return { ok: true, root: value, statements: statement };
    if (isRecord(statement)) return { ok: true, root: value, statements: [statement] };
    return { ok: false, error: `Statement is ${kindOf(statement)}, neither an object nor an array` };
  } catch (error) {
    return { ok: false, error: `policy could not be read: ${describe(error)}` };
  }
}

/**
 * True when objects and arrays nest deeper than `limit`. Iterative (a recursive walk would itself
 * overflow), and it stops at the first level too deep, so a cyclic object given already parsed
 * ends too.
 */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ node: object; depth: number }> = [];
  if (typeof value === "object" && value !== null) stack.push({ node: value, depth: 1 });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > limit) return true;
    const children: unknown[] = Array.isArray(top.node) ? top.node : Object.values(top.node);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push({ node: child, depth: top.depth + 1 });
    }
  }
  return false;
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

/** A principal holding key administration and use under one set of conditions. */
interface Holder {
  name: string;
  admin: ActionMask;
  usage: ActionMask;
  statements: number[];
}

/** What removal takes out of one statement: the whole statement, or these principals. */
interface Removal {
  statement: boolean;
  /** `kind \0 value` of each principal to remove. */
  principals: Set<string>;
  /** The same principals' values, for the report. */
  values: Set<string>;
}

interface Examination {
  findings: PolicyFinding[];
  /** Per statement index: what takes away its critical findings. */
  removals: Map<number, Removal>;
}

/**
 * The state one examination builds: the findings, what removal takes out, and what the checks
 * over the whole policy need (administration and use per principal, the root's delegation).
 */
class Examiner {
  readonly findings: PolicyFinding[] = [];
  readonly removals = new Map<number, Removal>();
  readonly holders = new Map<string, Holder>();
  readonly sids: (string | undefined)[] = [];
  readonly resolver = new ActionResolver();
  readonly trust: Trust;
  readonly keyOrganizationKnown: boolean;
  readonly perimeter: ActionMask;
  rootDelegated = false;
  rootDenied = false;

  constructor(
    statements: readonly unknown[],
    readonly context: PolicyContext,
  ) {
    this.keyOrganizationKnown = context.keyOrganizationId !== undefined && context.keyOrganizationId !== "";
    const organizations = new Set(context.trustedOrganizationIds);
    if (context.keyOrganizationId !== undefined && this.keyOrganizationKnown) {
      organizations.add(context.keyOrganizationId);
    }
    this.trust = {
      keyAccount: context.keyAccount,
      accounts: new Set(context.trustedAccounts),
      organizations,
    };
    this.perimeter = perimeterActions(statements, this.trust, this.resolver);
  }

  add(
    reason: PolicyReason,
    severity: Severity,
    where: Where | undefined,
    explanation: string,
    hint?: string,
  ): void {
    const finding: PolicyFinding = {
      reason,
      severity,
      statementIndex: where?.index,
      sid: where?.sid,
      explanation,
    };
    if (hint !== undefined) finding.hint = hint;
    this.findings.push(finding);
  }

  remove(index: number, principals: readonly PolicyPrincipal[] | "statement"): void {
    let removal = this.removals.get(index);
    if (removal === undefined) {
      removal = { statement: false, principals: new Set(), values: new Set() };
      this.removals.set(index, removal);
    }
    if (principals === "statement") {
      removal.statement = true;
      return;
    }
    for (const p of principals) {
      removal.principals.add(`${p.kind}\u0000${p.value}`);
      removal.values.add(p.value);
    }
  }
}

/** One Allow statement as every rule reads it: computed once, before the rules run. */
interface AllowView {
  statement: Statement;
  label: string;
  acts: string;
  /** Every action the statement allows (NotAction: all but the listed ones). */
  allowed: ActionMask;
  grantsEverything: boolean;
  /** A kms: pattern that matches no action we know: maybe a newer action, never counted as a read. */
  unknownKms: boolean;
  readOnly: boolean;
  sensitive: boolean;
  principals: Principals;
  pin: PinVerdict | undefined;
  publicTargets: readonly PolicyPrincipal[] | "statement";
  /** Everyone may call with no pin: public-read-only or public-principal reported it. */
  publicReported: boolean;
  /** Set by the external-account rule when it reported the statement's outside principals. */
  externalReported: boolean;
  /** The principals wildcard-action reports (the key account's, or everyone under a trusted pin). */
  wildcardTargets: Listing;
}

type AllowRule = (view: AllowView, exam: Examiner) => void;

/** The checks of one Allow statement, in the order they run (a later rule may read an earlier's flag). */
const ALLOW_RULES: readonly AllowRule[] = [
  publicAccess,
  externalAccess,
  accountWideAdmin,
  wildcardAction,
  grantWithoutServiceCondition,
  serviceWithoutSourceCondition,
  collectHolders,
  noteRootDelegation,
];

/** The checks over the whole policy, after every statement was examined. */
const POLICY_RULES: ReadonlyArray<(exam: Examiner) => void> = [
  adminAndUsageCombined,
  lockoutAndRootDelegation,
];

function examine(statements: readonly unknown[], context: PolicyContext): Examination {
  const exam = new Examiner(statements, context);
  for (let index = 0; index < statements.length; index++) {
    const raw = statements[index];
    if (!isRecord(raw)) continue; // a number, null or array where a statement should be: skipped
    const statement = readStatement(raw, index);
    exam.sids[index] = statement.sid;
    if (statement.effect === "deny") examineDeny(statement, exam);
    if (statement.effect !== "allow") continue;
    const view = viewAllow(statement, exam);
    for (const rule of ALLOW_RULES) rule(view, exam);
  }
  for (const rule of POLICY_RULES) rule(exam);
  return { findings: sortFindings(exam.findings), removals: exam.removals };
}

function examineDeny(statement: Statement, exam: Examiner): void {
  if (statement.hasNotPrincipal) {
    exam.add(
      "deny-with-notprincipal",
      "medium",
      statement,
      `${statementLabel(statement)} denies ${describeActions(statement)} to every principal except ${describePrincipals(statement.notPrincipals)}, which also denies AWS services and the account's own administrators.`,
    );
  } else if (deniesRootAdministration(statement, exam.trust, exam.resolver)) {
    exam.rootDenied = true;
  }
}

function viewAllow(statement: Statement, exam: Examiner): AllowView {
  const { resolver, trust } = exam;
  const actionMask = resolver.resolveAll(statement.actions);
  const allowed = statement.hasNotAction
    ? actionMask | (ALL_ACTIONS & ~resolver.resolveAll(statement.notActions))
    : actionMask;
  const grantsEverything = actionMask === ALL_ACTIONS || statement.hasNotAction;
  const unknownKms = statement.actions.some(
    (pattern) => resolver.resolve(pattern) === NO_ACTIONS && pattern.toLowerCase().startsWith("kms:"),
  );
  const readOnly =
    !statement.hasNotAction &&
    !unknownKms &&
    allowed !== NO_ACTIONS &&
    (allowed & ~NON_SENSITIVE_READS) === NO_ACTIONS;
  const sensitive =
    statement.hasNotAction || unknownKms || (allowed & EXTERNAL_CRITICAL_ACTIONS) !== NO_ACTIONS;
  const principals = sortPrincipals(statement, trust);
  const pin = pinOf(statement, principals, allowed, exam);
  return {
    statement,
    label: statementLabel(statement),
    acts: describeActions(statement),
    allowed,
    grantsEverything,
    unknownKms,
    readOnly,
    sensitive,
    principals,
    pin,
    publicTargets: statement.hasNotPrincipal ? "statement" : principals.public,
    publicReported: principals.isPublic && pin?.kind === "none",
    externalReported: false,
    wildcardTargets: wildcardTargetsOf(grantsEverything, principals, pin),
  };
}

/**
 * How the statement's condition pins its callers. One pin judges every principal of the
 * statement: a condition that confines callers to trusted accounts confines the named principals
 * too. A Deny to everyone outside our organisation or accounts (a data perimeter) narrows a public
 * Allow when it covers every action the Allow grants: only trusted callers get them.
 */
function pinOf(
  statement: Statement,
  principals: Principals,
  allowed: ActionMask,
  exam: Examiner,
): PinVerdict | undefined {
  const { isPublic } = principals;
  const conditionPin =
    isPublic || principals.external.length > 0 ? pinVerdict(statement.condition, exam.trust) : undefined;
  const narrowed =
    isPublic &&
    conditionPin?.kind === "none" &&
    !statement.hasNotAction &&
    (allowed & ~exam.perimeter) === NO_ACTIONS;
  return narrowed ? { kind: "trusted" } : conditionPin;
}

/**
 * kms:* for principals of the key's account other than its root; also for everyone when a
 * condition confines "everyone" to trusted callers (every principal of the account then holds it).
 */
function wildcardTargetsOf(
  grantsEverything: boolean,
  principals: Principals,
  pin: PinVerdict | undefined,
): Listing {
  const targets = new Listing();
  if (!grantsEverything) return targets;
  for (const principal of principals.ownAccount) targets.add(() => displayPrincipal(principal));
  if (principals.isPublic && pin?.kind === "trusted") {
    targets.add(() => `${principals.everyone} (under its condition)`);
  }
  return targets;
}

/** public-read-only or public-principal: everyone may call, with no pin on the caller. */
function publicAccess(view: AllowView, exam: Examiner): void {
  if (!view.publicReported) return;
  const { statement, label, allowed } = view;
  const { everyone } = view.principals;
  if (view.readOnly) {
    const severity: Severity = allowed === GET_PUBLIC_KEY ? "low" : "medium";
    exam.add(
      "public-read-only",
      severity,
      statement,
      `${label} lets ${everyone} read ${namesOf(allowed)} with no condition that pins the caller's account or organization; nothing that uses or changes the key.`,
    );
    return;
  }
  const via = mentionsViaService(statement.condition)
    ? " (kms:ViaService limits the calling service, not the caller)"
    : "";
  exam.add(
    "public-principal",
    "critical",
    statement,
    `${label} allows ${view.acts} to ${everyone} with no condition that pins the caller's account or organization${via}.`,
  );
  exam.remove(statement.index, view.publicTargets);
}

/** external-account: principals, or callers the condition pins, outside the trusted accounts. */
function externalAccess(view: AllowView, exam: Examiner): void {
  const { pin, principals, statement } = view;
  if (pin === undefined || pin.kind === "trusted") return;
  const pinned = principals.isPublic && pin.kind === "untrusted" ? pin : undefined;
  const external = externalListing(principals, pinned);
  if (external.total === 0) return;
  view.externalReported = true;
  const organizationsOnly = principals.external.length === 0 && (pinned?.accounts.length ?? 0) === 0;
  // Nobody vouched for the organisation and the key's own is unknown: it may be ours.
  const maybeOurs = organizationsOnly && !exam.keyOrganizationKnown;
  const severity: Severity = view.sensitive && !maybeOurs ? "critical" : "high";
  exam.add(
    "external-account",
    severity,
    statement,
    `${view.label} allows ${view.acts} to ${external}, outside the key's account and the trusted accounts and organizations.`,
    organizationHint(pinned?.organizations ?? [], exam.keyOrganizationKnown),
  );
  if (severity !== "critical") return;
  exam.remove(
    statement.index,
    principals.external.map((e) => e.principal),
  );
  if (pinned !== undefined) exam.remove(statement.index, view.publicTargets);
}

type UntrustedPin = Extract<PinVerdict, { kind: "untrusted" }>;

function externalListing(principals: Principals, pinned: UntrustedPin | undefined): Listing {
  const external = new Listing();
  for (const { principal, account } of principals.external) {
    external.add(() => `${displayPrincipal(principal)} (account ${display(account)})`);
  }
  for (const account of pinned?.accounts ?? []) {
    external.add(() => `callers pinned to account ${display(account)}`);
  }
  for (const org of pinned?.organizations ?? []) {
    external.add(() => `callers pinned to organization ${display(org)}`);
  }
  return external;
}

function organizationHint(orgs: readonly string[], keyOrganizationKnown: boolean): string | undefined {
  if (orgs.length === 0) return undefined;
  return keyOrganizationKnown
    ? `add ${listHead(orgs, display)} to trustedOrganizationIds if you trust that organization`
    : `set trustedOrganizationIds or organization.id to ${listHead(orgs, display)} if this is your organization`;
}

/**
 * account-wide-admin: everyone in the key's account may rewrite the policy, delete, disable or
 * re-delegate the key. A kms:ViaService or kms:GrantIsForAWSResource condition (AWS managed keys'
 * own policy) admits only calls an AWS service makes for a resource: never a policy change,
 * deletion or disable.
 */
function accountWideAdmin(view: AllowView, exam: Examiner): void {
  const { statement } = view;
  const takeover = hasServiceCondition(statement.condition) ? NO_ACTIONS : view.allowed & TAKEOVER_ACTIONS;
  if (
    !view.principals.isPublic ||
    view.pin?.kind !== "trusted" ||
    takeover === NO_ACTIONS ||
    !pinsKeyAccountOnly(statement.condition, exam.trust)
  ) {
    return;
  }
  exam.add(
    "account-wide-admin",
    "high",
    statement,
    `${view.label} allows ${namesOf(takeover)} to ${view.principals.everyone} in account ${display(exam.trust.keyAccount)}: anyone in the account may take the key over.`,
  );
}

/** wildcard-action: only the key account's root should hold every KMS action. */
function wildcardAction(view: AllowView, exam: Examiner): void {
  if (view.wildcardTargets.total === 0) return;
  exam.add(
    "wildcard-action",
    "medium",
    view.statement,
    `${view.label} allows ${view.acts} to ${view.wildcardTargets}; only the key account's root should hold every KMS action (whoever holds kms:PutKeyPolicy can rewrite the policy).`,
  );
}

/**
 * grant-without-service-condition. A pure administration statement (PutKeyPolicy, no
 * cryptographic use) is exempt: its holder can already rewrite the whole policy, and the console's
 * own "Allow access for Key Administrators" statement grants kms:Create* (hence CreateGrant) this way.
 */
function grantWithoutServiceCondition(view: AllowView, exam: Examiner): void {
  const { statement, allowed } = view;
  const adminOnly = (allowed & PUT_KEY_POLICY) !== NO_ACTIONS && (allowed & USAGE_ACTIONS) === NO_ACTIONS;
  if ((allowed & CREATE_GRANT) === NO_ACTIONS || adminOnly || hasServiceCondition(statement.condition)) {
    return;
  }
  const grantees = granteesOf(view);
  if (grantees.total === 0) return;
  exam.add(
    "grant-without-service-condition",
    "low",
    statement,
    `${view.label} allows kms:CreateGrant${createGrantSource(statement, exam.resolver)} to ${grantees} without a kms:ViaService or kms:GrantIsForAWSResource condition, so they can delegate use of the key to any principal.`,
  );
}

/** The statement's principals not already reported (public, external, wildcard-action). */
function granteesOf(view: AllowView): Listing {
  const { principals } = view;
  const grantees = new Listing();
  if (!view.publicReported) {
    if (view.statement.hasNotPrincipal) grantees.add(() => principals.everyone);
    for (const p of principals.public) grantees.add(() => displayPrincipal(p));
  }
  if (!view.externalReported) {
    for (const { principal } of principals.external) grantees.add(() => displayPrincipal(principal));
  }
  if (view.wildcardTargets.total === 0) {
    for (const p of principals.ownAccount) grantees.add(() => displayPrincipal(p));
  }
  for (const p of [...principals.trusted, ...principals.unknown]) grantees.add(() => displayPrincipal(p));
  return grantees;
}

/**
 * service-without-source-condition (confused deputy). Grant operations confined to AWS resources
 * (kms:GrantIsForAWSResource) are how a service attaches the key to the resource it was given;
 * reads leak little. The rest is use.
 */
function serviceWithoutSourceCondition(view: AllowView, exam: Examiner): void {
  const { statement, principals } = view;
  const serviceIgnores = hasServiceCondition(statement.condition)
    ? NON_SENSITIVE_READS | GRANT_OPERATIONS
    : NON_SENSITIVE_READS;
  const uses = statement.hasNotAction || view.unknownKms || (view.allowed & ~serviceIgnores) !== NO_ACTIONS;
  if (principals.services.length === 0 || !uses || hasSourceCondition(statement.condition)) return;
  exam.add(
    "service-without-source-condition",
    "low",
    statement,
    `${view.label} allows ${view.acts} to ${describePrincipals(principals.services)} without an aws:SourceAccount or aws:SourceArn condition, so the service can be made to use the key for resources of any account (confused deputy).`,
  );
}

/**
 * Administration and use per principal and per condition: two statements with different
 * conditions are two different grants. Principals already reported as wildcard-action do not
 * count again, and other accounts' principals are out: KMS never lets another account
 * administer a key, whatever the policy says.
 */
function collectHolders(view: AllowView, exam: Examiner): void {
  const { statement, principals, grantsEverything } = view;
  const admin = view.allowed & ADMIN_ACTIONS;
  const usage = view.allowed & USAGE_ACTIONS;
  if (admin === NO_ACTIONS && usage === NO_ACTIONS) return;
  const conditionKey = canonicalCondition(statement.condition);
  const candidates = [...principals.unknown];
  if (!grantsEverything) candidates.push(...principals.ownAccount);
  if (!view.publicReported && !(grantsEverything && view.pin?.kind === "trusted")) {
    candidates.push(...principals.public);
  }
  for (const principal of candidates) {
    collect(exam.holders, principal, conditionKey, statement.index, admin, usage);
  }
}

/**
 * The root can administer the key when named, or when everyone (`*`) may without conditions
 * (public-principal's business, but no lockout).
 */
function noteRootDelegation(view: AllowView, exam: Examiner): void {
  const { principals, statement } = view;
  if (
    (principals.namesRoot || principals.public.length > 0) &&
    isUnconditioned(statement.condition) &&
    (view.allowed & PUT_KEY_POLICY) !== NO_ACTIONS
  ) {
    exam.rootDelegated = true;
  }
}

/** admin-and-usage-combined: one principal, under one set of conditions, holds both. */
function adminAndUsageCombined(exam: Examiner): void {
  for (const holder of exam.holders.values()) {
    if (holder.admin === NO_ACTIONS || holder.usage === NO_ACTIONS) continue;
    const first = holder.statements[0];
    exam.add(
      "admin-and-usage-combined",
      "low",
      first === undefined ? undefined : { index: first, sid: exam.sids[first] },
      `${holder.name} gets both key administration (${namesOf(holder.admin)}) and cryptographic use (${namesOf(holder.usage)}) from ${holder.statements.length === 1 ? "statement" : "statements"} ${listHead(holder.statements, (i) => String(i + 1))}; separate key administrators from key users.`,
    );
  }
}

/** bypass-lockout-safety-check and missing-root-delegation. */
function lockoutAndRootDelegation(exam: Examiner): void {
  const { context, trust } = exam;
  const root = `arn:aws:iam::${display(trust.keyAccount)}:root`;
  const missingRoot = context.keyManager !== "AWS" && (!exam.rootDelegated || exam.rootDenied);
  if (context.bypassPolicyLockoutSafetyCheck === true) {
    exam.add(
      "bypass-lockout-safety-check",
      missingRoot ? "critical" : "high",
      undefined,
      missingRoot
        ? `The call set BypassPolicyLockoutSafetyCheck and the policy leaves ${root} no way to administer the key: a takeover no automatic action can undo.`
        : "The call set BypassPolicyLockoutSafetyCheck, so KMS did not check that the new policy still lets the caller manage the key.",
    );
  }
  if (!missingRoot) return;
  exam.add(
    "missing-root-delegation",
    "medium",
    undefined,
    exam.rootDenied
      ? `A Deny statement takes kms:PutKeyPolicy from ${root}, so IAM policies in account ${display(trust.keyAccount)} cannot rescue the key if its administrators are lost.`
      : `No statement lets ${root} administer the key (kms:*, kms:Put* or kms:PutKeyPolicy without conditions), so IAM policies in account ${display(trust.keyAccount)} cannot rescue the key if its administrators are lost.`,
  );
}

/** What takes a key over: rewriting its policy, deleting or disabling it, delegating it. */
const TAKEOVER_ACTIONS: ActionMask =
  PUT_KEY_POLICY | CREATE_GRANT | maskOfNames(["ScheduleKeyDeletion", "DisableKey"]);

function maskOfNames(names: readonly string[]): ActionMask {
  const resolver = new ActionResolver();
  return resolver.resolveAll(names.map((n) => `kms:${n}`));
}

/**
 * The actions Deny statements take from every caller outside the trusted organisations and
 * accounts (data perimeters, `isPerimeterDeny`), as one mask.
 */
function perimeterActions(
  statements: readonly unknown[],
  trust: Trust,
  resolver: ActionResolver,
): ActionMask {
  let mask = NO_ACTIONS;
  for (let index = 0; index < statements.length; index++) {
    const raw = statements[index];
    if (!isRecord(raw)) continue;
    const statement = readStatement(raw, index);
    if (statement.effect !== "deny" || statement.hasNotPrincipal) continue;
    const everyone = statement.principals.some((p) => p.kind === "AWS" && p.value.trim() === "*");
    if (!everyone || !isPerimeterDeny(statement.condition, trust)) continue;
    mask |= statement.hasNotAction
      ? ALL_ACTIONS & ~resolver.resolveAll(statement.notActions)
      : resolver.resolveAll(statement.actions);
  }
  return mask;
}

/** An unconditioned Deny of kms:PutKeyPolicy to everyone or to the key account's root. */
function deniesRootAdministration(statement: Statement, trust: Trust, resolver: ActionResolver): boolean {
  if (!isUnconditioned(statement.condition)) return false;
  const denied = statement.hasNotAction
    ? ALL_ACTIONS & ~resolver.resolveAll(statement.notActions)
    : resolver.resolveAll(statement.actions);
  if ((denied & PUT_KEY_POLICY) === NO_ACTIONS) return false;
  return statement.principals.some((principal) => {
    const identity = identify(principal);
    return (
      identity.type === "public" ||
      (identity.type === "account" && identity.root && identity.account === trust.keyAccount)
    );
  });
}

interface Principals {
  /** How to name "everyone" in this statement: `everyone (*)` or `every principal except ...`. */
  everyone: string;
  /** `*` and ARNs with a wildcard account. */
  public: PolicyPrincipal[];
  /** Principals of the key's account other than its root. */
  ownAccount: PolicyPrincipal[];
  /** Principals in accounts that are neither the key's nor trusted. */
  external: Array<{ principal: PolicyPrincipal; account: string }>;
  /** Principals of trusted accounts. */
  trusted: PolicyPrincipal[];
  /** AWS service principals. */
  services: PolicyPrincipal[];
  /** AWS principals whose account cannot be told (unique ids such as `AIDA...`). */
  unknown: PolicyPrincipal[];
  /** `*`, an ARN with a wildcard account, or a NotPrincipal. */
  isPublic: boolean;
  /** The key account's root (ARN or bare account id) is among the principals. */
  namesRoot: boolean;
}

/** Sorts an Allow statement's principals into the groups the checks need. */
function sortPrincipals(statement: Statement, trust: Trust): Principals {
  const everyone = statement.hasNotPrincipal
    ? `every principal except ${describePrincipals(statement.notPrincipals)}`
    : "everyone (*)";
  const result: Principals = {
    everyone,
    public: [],
    ownAccount: [],
    external: [],
    trusted: [],
    services: [],
    unknown: [],
    isPublic: statement.hasNotPrincipal,
    namesRoot: false,
  };
  for (const principal of statement.principals) {
    if (principal.kind === "Service") {
      result.services.push(principal);
      continue;
    }
    const identity = identify(principal);
    if (identity.type === "account" && identity.root && identity.account === trust.keyAccount) {
      result.namesRoot = true;
      continue;
    }
    if (identity.type === "public") {
      result.isPublic = true;
      result.public.push(principal);
    } else if (identity.type === "account") {
      if (identity.account === trust.keyAccount) result.ownAccount.push(principal);
      else if (trust.accounts.has(identity.account)) result.trusted.push(principal);
      else result.external.push({ principal, account: identity.account });
    } else if (principal.kind === "AWS") {
      result.unknown.push(principal);
    }
  }
  return result;
}

function collect(
  holders: Map<string, Holder>,
  principal: PolicyPrincipal,
  conditionKey: string,
  index: number,
  admin: ActionMask,
  usage: ActionMask,
): void {
  const key = `${principal.kind}:${principal.value}\u0000${conditionKey}`;
  let holder = holders.get(key);
  if (holder === undefined) {
    const name = displayPrincipal(principal);
    holder = {
      name: conditionKey === "" ? name : `${name} (under the same conditions)`,
      admin: NO_ACTIONS,
      usage: NO_ACTIONS,
      statements: [],
    };
    holders.set(key, holder);
  }
  holder.admin |= admin;
  holder.usage |= usage;
  if (holder.statements[holder.statements.length - 1] !== index) holder.statements.push(index);
}

/**
 * A condition block as a comparable text: operators and keys lower-cased and sorted (IAM compares
 * them case-insensitively), each key's values sorted (they are an OR). "" when unconditioned.
 */
function canonicalCondition(condition: unknown): string {
  if (isUnconditioned(condition)) return "";
  if (!isRecord(condition)) return `?${kindOf(condition)}`;
  const parts: string[] = [];
  for (const operator of Object.keys(condition)) {
    const block = condition[operator];
    if (!isRecord(block)) {
      parts.push(`${operator.toLowerCase()}\u0000?`);
      continue;
    }
    for (const key of Object.keys(block)) {
      const values = conditionValues(block[key]).sort();
      parts.push(`${operator.toLowerCase()}\u0000${key.toLowerCase()}\u0000${values.join("\u0001")}`);
    }
  }
  return parts.sort().join("\u0002");
}

/**
 * A Principal element without the given principals (`kind \0 value`), in the shape it came in;
 * `undefined` when nothing is left.
 */
function withoutPrincipals(element: unknown, drop: ReadonlySet<string>): unknown {
  // Numbers are principals too (an unquoted account id): read the way readPrincipals reads them.
  const dropped = (kind: string, value: unknown) =>
    principalList(value).some((text) => drop.has(`${kind}\u0000${text}`));
  const keep = (kind: string, values: unknown): unknown => {
    if (!Array.isArray(values)) return dropped(kind, values) ? undefined : values;
    const left = values.filter((v) => !dropped(kind, v));
    return left.length === 0 ? undefined : left;
  };
  if (typeof element === "string" || typeof element === "number" || Array.isArray(element)) {
    return keep("AWS", element);
  }
  if (!isRecord(element)) return element;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(element)) {
    const left = keep(principalKind(key), element[key]);
    if (left !== undefined) out[key] = left;
  }
  return Object.keys(out).length === 0 ? undefined : out;
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

/** Action names of a mask for an explanation, the first few of them. */
function namesOf(mask: ActionMask): string {
  const count = actionCount(mask);
  const names = actionNames(mask, MAX_LISTED).join(", ");
  return count > MAX_LISTED ? `${names} and ${count - MAX_LISTED} more` : names;
}

function statementLabel(statement: Statement): string {
  return statement.sid === undefined || statement.sid === ""
    ? `Statement ${statement.index + 1}`
    : `Statement ${statement.index + 1} ("${display(statement.sid)}")`;
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
