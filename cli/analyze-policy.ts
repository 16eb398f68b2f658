/**
 * `kms-responder analyze-policy [--json] [--account ID | --key-arn ARN] [--config FILE] FILE|-`:
 * the key-policy analyser's findings for a policy document. Exit 1 when a finding is high or
 * critical; 2 when the input or the key's account is not usable.
 *
 * FILE is a policy document, or what `aws kms get-key-policy` prints without
 * `--query Policy --output text` (`{"Policy": "<the policy as a JSON string>", "PolicyName": ...}`).
 * Statements are numbered from 1 everywhere: in the table, in the explanations and in `--json`.
 */
import { readFile } from "node:fs/promises";
import { parseKeyArn } from "../functions/shared/arn.js";
import type { Config } from "../functions/shared/config.js";
import { ConfigError } from "../functions/shared/errors.js";
import { isObject } from "../functions/shared/json.js";
import { analysePolicy, type PolicyFinding } from "../functions/shared/policy/analyse.js";
import { severityRank } from "../functions/shared/types.js";

async function readInput(file: string): Promise<string> {
  if (file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The policy text inside what the user gave: `get-key-policy`'s JSON output
 * (`{"Policy": "...", "PolicyName": "default"}`) or a policy serialised once more as a JSON string
 * (`--query Policy --output json`) are unwrapped; anything else is returned as it is, for the
 * analyser to judge (and to name what is wrong with it).
 */
export function policyText(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof value === "string") return value;
  if (isObject(value) && !Object.hasOwn(value, "Statement") && typeof value.Policy === "string") {
    return value.Policy;
  }
  return text;
}

const ACCOUNT_ID = /^\d{12}$/;
/** A 12-digit run not inside a longer number: an account id the policy names somewhere. */
const ACCOUNT_MENTION = /(?<!\d)\d{12}(?!\d)/g;

/** Every distinct account id the policy text names (principals, conditions, ARNs, numbers). */
export function accountsNamed(text: string): string[] {
  return [...new Set(text.match(ACCOUNT_MENTION) ?? [])];
}

/** Where the key's account came from, shown with the findings. */
export type AccountSource = "--account" | "--key-arn";

/**
 * The key's account: `--account`, else the account of `--key-arn`, else the one account the
 * policy names, if it names exactly one. A policy alone never decides between two accounts: the
 * owner's root may carry a condition while a foreign root does not, or the only root may be an
 * intruder's beside the owner's roles, and guessing wrong reports the owner as external and the
 * intruder as the owner.
 *
 * @throws ConfigError naming `--account`/`--key-arn` when they are invalid or disagree, or when
 *   the policy does not name exactly one account.
 */
export function keyAccountOf(
  policy: string,
  account: string | undefined,
  keyArn: string | undefined,
): { account: string; source: AccountSource } {
  if (account !== undefined && !ACCOUNT_ID.test(account))
    throw new ConfigError(`--account must be a 12-digit account id (got "${account}")`);
  let fromArn: string | undefined;
  if (keyArn !== undefined) {
    fromArn = parseKeyArn(keyArn)?.account;
    if (fromArn === undefined)
      throw new ConfigError(
        `--key-arn must be a KMS key ARN like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (got "${keyArn}")`,
      );
  }
  if (account !== undefined && fromArn !== undefined && account !== fromArn)
    throw new ConfigError(`--account ${account} and --key-arn (account ${fromArn}) disagree`);
  if (account !== undefined) return { account, source: "--account" };
  if (fromArn !== undefined) return { account: fromArn, source: "--key-arn" };
  // Never from the policy: a takeover names only the intruder's account, and taking it for the
  // owner reports nothing.
  const named = accountsNamed(policy);
  const which =
    named.length === 0
      ? "it names no account"
      : `it names ${named.length === 1 ? "account" : "accounts"} ${named.slice(0, 5).join(", ")}${named.length > 5 ? ", ..." : ""}, which may not be the owner's`;
  throw new ConfigError(
    `the key's account cannot be inferred from the policy (${which}): pass --account 123456789012 or --key-arn ARN`,
  );
}

export interface AnalyzeOptions {
  file: string;
  account: string | undefined;
  /** The key's ARN (`--key-arn`): its account is the key's account. */
  keyArn?: string | undefined;
  json: boolean;
  config: Config;
}

/** A finding as `--json` prints it: `statement` numbered from 1 (absent for policy-wide findings). */
interface JsonFinding {
  reason: string;
  severity: string;
  statement?: number;
  sid?: string;
  explanation: string;
  hint?: string;
}

function jsonFinding(f: PolicyFinding): JsonFinding {
  const out: JsonFinding = { reason: f.reason, severity: f.severity, explanation: f.explanation };
  if (f.statementIndex !== undefined) out.statement = f.statementIndex + 1;
  if (f.sid !== undefined) out.sid = f.sid;
  if (f.hint !== undefined) out.hint = f.hint;
  return out;
}

/** The findings as text, one line each; a line saying so when there are none. */
function printFindings(
  analysis: ReturnType<typeof analysePolicy>,
  account: string,
  out: (line: string) => void,
): void {
  if (analysis.findings.length === 0) {
    out(`No findings (key account ${account}, ${analysis.statements.length} statements).`);
    return;
  }
  for (const f of analysis.findings) {
    const where =
      f.statementIndex === undefined
        ? "policy"
        : `statement ${f.statementIndex + 1}${f.sid ? ` (Sid "${f.sid}")` : ""}`;
    const hint = f.hint === undefined ? "" : ` Hint: ${f.hint}.`;
    out(`${f.severity.toUpperCase().padEnd(8)} ${f.reason.padEnd(32)} ${where}: ${f.explanation}${hint}`);
  }
}

export async function runAnalyzePolicy(
  options: AnalyzeOptions,
  out: (line: string) => void,
): Promise<number> {
  let text: string;
  try {
    text = policyText(await readInput(options.file));
  } catch (error) {
    throw new ConfigError(
      `cannot read ${options.file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // An unusable document is reported as such before asking for an account it would not need.
  const usable = analysePolicy(text, { keyAccount: "", trustedAccounts: [], trustedOrganizationIds: [] });
  if (usable.error !== undefined)
    throw new ConfigError(`${options.file} is not a usable key policy: ${usable.error}`);
  const { account, source } = keyAccountOf(text, options.account, options.keyArn);
  const analysis = analysePolicy(text, {
    keyAccount: account,
    trustedAccounts: options.config.trustedAccounts,
    trustedOrganizationIds: options.config.trustedOrganizationIds,
    keyOrganizationId: options.config.organization?.id,
  });

  if (options.json) {
    out(
      JSON.stringify(
        { account, accountSource: source, findings: analysis.findings.map(jsonFinding) },
        null,
        2,
      ),
    );
  } else {
    printFindings(analysis, account, out);
  }
  return analysis.findings.some((f) => severityRank(f.severity) <= severityRank("high")) ? 1 : 0;
}
