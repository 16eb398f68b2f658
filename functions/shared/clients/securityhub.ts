/**
 * The Security Hub client at module scope (see clients/kms.ts). Only `functions/shared/securityhub.ts`
 * loads this module, with a dynamic `import()` and only when `securityHub` is on in the config: a
 * function that does not publish findings there never evaluates the client at cold start.
 */
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { RETRY } from "./retry.js";

export const securityHub = new SecurityHubClient(RETRY);

/**
 * Imports findings (at most 100, Security Hub's batch limit) into the caller's account and Region.
 * @throws Error naming the finding and Security Hub's error code when a finding was refused:
 * BatchImportFindings answers 200 with `FailedCount`/`FailedFindings` for findings it rejects
 * (a malformed field, a product ARN of another account), so a successful call is not enough.
 */
export async function batchImport(findings: AwsSecurityFinding[]): Promise<void> {
  const out = await securityHub.send(new BatchImportFindingsCommand({ Findings: findings }));
  const failed = out.FailedFindings ?? [];
  if ((out.FailedCount ?? 0) > 0 || failed.length > 0) {
    const why = failed.map((f) => `${f.Id ?? "?"}: ${f.ErrorCode ?? "?"} ${f.ErrorMessage ?? ""}`.trim());
    throw new Error(
      `Security Hub refused ${out.FailedCount ?? failed.length} finding${(out.FailedCount ?? failed.length) === 1 ? "" : "s"}: ${why.join("; ") || "no detail"}`,
    );
  }
}
