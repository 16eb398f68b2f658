/**
 * Regression corpus: real key policies (AWS documentation, AWS managed keys, landing-zone, CDK and
 * Terraform module defaults, and the attack shapes the fidelity review found), each with the
 * verdict an expert gives it. The analyser must produce exactly that set of reasons and
 * severities: no finding missing, none added.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analysePolicy, type PolicyContext } from "../../functions/shared/policy/analyse.js";

interface CorpusEntry {
  description: string;
  source: string;
  /** Analyser settings besides the key's account (trusted accounts, keyManager, ...). */
  context: Partial<Omit<PolicyContext, "keyAccount">>;
  policy: unknown;
  expert: { keyAccount: string; findings: Array<{ reason: string; severity: string }> };
}

const CORPUS = join(import.meta.dirname, "corpus");
const entries = readdirSync(CORPUS)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => ({ name, entry: JSON.parse(readFileSync(join(CORPUS, name), "utf8")) as CorpusEntry }));

/** Findings as sorted `reason/severity` strings: a multiset comparison, order aside. */
function keys(findings: ReadonlyArray<{ reason: string; severity: string }>): string[] {
  return findings.map((f) => `${f.reason}/${f.severity}`).sort();
}

describe("key-policy corpus: the analyser agrees with the expert verdict", () => {
  it("holds 25 to 40 policies, safe ones among them", () => {
    expect(entries.length).toBeGreaterThanOrEqual(25);
    expect(entries.length).toBeLessThanOrEqual(40);
    expect(entries.filter(({ entry }) => entry.expert.findings.length === 0).length).toBeGreaterThanOrEqual(
      10,
    );
  });

  it.each(entries)("$name", ({ entry }) => {
    // Prepare
    const context: PolicyContext = {
      trustedAccounts: [],
      trustedOrganizationIds: [],
      ...entry.context,
      keyAccount: entry.expert.keyAccount,
    };

    // Act: as CloudTrail records it, a JSON string
    const analysis = analysePolicy(JSON.stringify(entry.policy), context);

    // Assess
    expect(analysis.error).toBeUndefined();
    expect(keys(analysis.findings)).toEqual(keys(entry.expert.findings));
  });
});
