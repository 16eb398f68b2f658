/**
 * `kms-responder analyze-policy [--json] [--account ID] [--config FILE] FILE|-`: the key-policy
 * analyser's findings for a policy document. Exit 1 when a finding is high or critical.
 */
import { readFile } from "node:fs/promises";
import type { Config } from "../shared/config.js";
import { ConfigError } from "../shared/errors.js";
import { analysePolicy } from "../shared/policy/analyse.js";
import { severityRank } from "../shared/types.js";

async function readInput(file: string): Promise<string> {
  if (file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** Candidate accounts tried at most when inferring the key account (one analysis each). */
const MAX_CANDIDATES = 8;

/**
 * The key account when not given: the account whose root the policy delegates to (`kms:*`
 * without conditions, as the analyser judges it), or the only account root the policy names.
 * A cross-account policy names the partner's root too, so naming one root is not enough.
 * Undefined when that is ambiguous.
 */
export function inferAccount(text: string): string | undefined {
  const roots = [
    ...new Set([...text.matchAll(/arn:aws[a-z-]*:iam::(\d{12}):root/g)].flatMap((m) => m[1] ?? [])),
  ];
  if (roots.length <= 1) return roots[0];
  if (roots.length > MAX_CANDIDATES) return undefined;
  const delegating = roots.filter(
    (account) =>
      !analysePolicy(text, {
        keyAccount: account,
        trustedAccounts: [],
        trustedOrganizationIds: [],
      }).findings.some((f) => f.reason === "missing-root-delegation"),
  );
  return delegating.length === 1 ? delegating[0] : undefined;
}

export interface AnalyzeOptions {
  file: string;
  account: string | undefined;
  json: boolean;
  config: Config;
}

export async function runAnalyzePolicy(
  options: AnalyzeOptions,
  out: (line: string) => void,
): Promise<number> {
  let text: string;
  try {
    text = await readInput(options.file);
  } catch (error) {
    throw new ConfigError(
      `cannot read ${options.file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const account = options.account ?? inferAccount(text);
  if (account !== undefined && !/^\d{12}$/.test(account))
    throw new ConfigError(`--account must be a 12-digit account id (got "${account}")`);
  const analysis = analysePolicy(text, {
    keyAccount: account ?? "",
    trustedAccounts: options.config.trustedAccounts,
    trustedOrganizationIds: options.config.trustedOrganizationIds,
  });
  // An unusable document is reported as such before asking for an account it would not need.
  if (analysis.error !== undefined)
    throw new ConfigError(`${options.file} is not a usable key policy: ${analysis.error}`);
  if (!account) {
    throw new ConfigError("cannot tell the key's account from the policy: pass --account 123456789012");
  }

  if (options.json) {
    out(JSON.stringify({ account, findings: analysis.findings }, null, 2));
  } else if (analysis.findings.length === 0) {
    out(`No findings (key account ${account}, ${analysis.statements.length} statements).`);
  } else {
    for (const f of analysis.findings) {
      const where =
        f.statementIndex === undefined
          ? "policy"
          : `statement #${f.statementIndex}${f.sid ? ` (Sid "${f.sid}")` : ""}`;
      out(`${f.severity.toUpperCase().padEnd(8)} ${f.reason.padEnd(32)} ${where}: ${f.explanation}`);
    }
  }
  return analysis.findings.some((f) => severityRank(f.severity) <= severityRank("high")) ? 1 : 0;
}
