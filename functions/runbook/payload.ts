/**
 * The runbook function's payload, validated before anything happens: a bad payload gets an error
 * naming the field and no AWS call is made. Free text (`reason`, `statedBy`, `ticket`) may not hold
 * control characters: a newline there would forge lines in the email notification.
 */
import * as v from "valibot";
import { ACTIONS, type Actions } from "../shared/actions/index.js";
import { PayloadError } from "../shared/errors.js";
import { parseWith, strictObject } from "../shared/schema.js";

/** The action types whose module declares a runbook document. */
export type RunbookAction = {
  [T in keyof Actions]: Actions[T] extends { runbook: object } ? T : never;
}[keyof Actions];

/**
 * The runbook actions in the order the documents, `--help` and errors list them. Typed both ways
 * against the modules: a name without a runbook, or a runbook module missing here, fails to compile.
 */
export const RUNBOOK_ACTIONS = [
  "revoke-grant",
  "revoke-grantee-grants",
  "disable-key",
  "enable-key",
  "cancel-key-deletion",
  "enable-key-rotation",
  "analyze-key-policy",
] as const satisfies readonly RunbookAction[];
type Missing = Exclude<RunbookAction, (typeof RUNBOOK_ACTIONS)[number]>;
const everyRunbookAction: [Missing] extends [never] ? true : Missing = true;
void everyRunbookAction;

/** The payload field a runbook document's `target` parameter fills. */
const TARGET_FIELD = { GrantId: "grantId", GranteePrincipal: "granteePrincipal" } as const;

/** A key id (`1234abcd-...`, `mrk-...`), a key ARN, an alias name (`alias/x`) or an alias ARN. */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const MRK = "mrk-[0-9a-f]{32}";
const ALIAS = "alias/[A-Za-z0-9/_-]+";
const KEY_REF = new RegExp(
  `^(?:${UUID}|${MRK}|${ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(?:key/(?:${UUID}|${MRK})|${ALIAS}))$`,
);

/** Grant ids are 64 hex characters; allow a little latitude but no spaces or shell characters. */
const GRANT_ID = /^[A-Za-z0-9]{1,128}$/;
/** An SSM Automation execution id (a UUID). */
const EXECUTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const noControl = v.check(
  (s: string) => !CONTROL.test(s),
  "must not contain control characters (line breaks, tabs, escapes)",
);

/** Free text, trimmed; control characters are refused before anything else is checked. */
const text = (max: number) =>
  v.pipe(v.string(), noControl, v.trim(), v.maxLength(max, `must be at most ${max} characters`));

export const payloadSchema = strictObject({
  action: v.picklist(RUNBOOK_ACTIONS),
  keyId: v.pipe(
    v.string(),
    v.regex(KEY_REF, "must be a key id, key ARN, alias name (alias/...) or alias ARN"),
  ),
  grantId: v.optional(v.pipe(v.string(), v.regex(GRANT_ID, "must be a KMS grant id (letters and digits)"))),
  granteePrincipal: v.optional(
    v.pipe(
      v.string(),
      noControl,
      v.minLength(1, "must not be empty"),
      v.maxLength(2048, "must be at most 2048 characters"),
      v.check((p: string) => !p.includes("*"), "must be one exact principal, not a pattern"),
    ),
  ),
  dryRun: v.optional(v.boolean(), false),
  reason: v.pipe(text(1024), v.minLength(3, "must say why (at least 3 characters)")),
  /** Who the caller says they are: shown as "stated by", never as the person who ran it. */
  statedBy: v.optional(text(512)),
  /** The older name of `statedBy`, still accepted. */
  requestedBy: v.optional(text(512)),
  // "" means no ticket: the SSM documents always send the parameter, with "" as its default.
  ticket: v.optional(text(256)),
  /** Set by the SSM Automation documents: the function reads who ran it (`ExecutedBy`) from SSM. */
  automationExecutionId: v.optional(
    v.pipe(v.string(), v.regex(EXECUTION_ID, "must be an SSM Automation execution id")),
  ),
});

export type RunbookPayloadInput = v.InferInput<typeof payloadSchema>;
export interface RunbookPayload {
  action: RunbookAction;
  keyId: string;
  grantId?: string;
  granteePrincipal?: string;
  dryRun: boolean;
  reason: string;
  statedBy?: string;
  ticket?: string;
  automationExecutionId?: string;
}

/** @throws PayloadError naming every wrong field, e.g. `grantId: is required for revoke-grant`. */
export function parsePayload(input: unknown): RunbookPayload {
  const result = parseWith(payloadSchema, input, "payload");
  const raw = typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {};
  const problems = result.ok ? [] : [...result.problems];
  const action = RUNBOOK_ACTIONS.find((a) => a === raw.action);
  const target = action && ACTIONS[action].runbook.target;
  const field = target && TARGET_FIELD[target];
  if (field && (raw[field] === undefined || raw[field] === "")) {
    problems.push(`${field}: is required for ${action}`);
  }
  if (!result.ok || problems.length) {
    throw new PayloadError(`invalid runbook payload: ${[...new Set(problems)].join("; ")}`);
  }
  const p = result.value;
  const stated = p.statedBy || p.requestedBy;
  return {
    action: p.action,
    keyId: p.keyId,
    dryRun: p.dryRun,
    reason: p.reason,
    ...(p.grantId && { grantId: p.grantId }),
    ...(p.granteePrincipal && { granteePrincipal: p.granteePrincipal }),
    ...(stated && { statedBy: stated }),
    ...(p.ticket && { ticket: p.ticket }),
    ...(p.automationExecutionId && { automationExecutionId: p.automationExecutionId }),
  };
}
