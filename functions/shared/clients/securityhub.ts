/**
 * The Security Hub client at module scope (see clients/kms.ts). Only `functions/shared/securityhub.ts`
 * loads this module, with a dynamic `import()` and only when `securityHub` is on in the config: a
 * function that does not publish findings there never evaluates the client at cold start.
 */
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
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

/** Security Hub's batch limit (BatchImportFindings, BatchUpdateFindings, a GetFindings page). */
const BATCH = 100;

/**
 * Closes findings this responder imported earlier: each re-imported with `RecordState: ARCHIVED`
 * (only the provider changes the record state, through BatchImportFindings) and its workflow set
 * to RESOLVED with `note` (BatchUpdateFindings: the customer-side field, which the provider's
 * import cannot set). `documents` are the findings as they should read once archived.
 * @throws what either call throws, or a refused import (batchImport).
 */
export async function archiveResolved(documents: readonly AwsSecurityFinding[], note: string): Promise<void> {
  for (let i = 0; i < documents.length; i += BATCH) {
    const batch = documents.slice(i, i + BATCH).map((d) => ({ ...d, RecordState: "ARCHIVED" as const }));
    await batchImport(batch);
    await securityHub.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: batch.map((d) => ({ Id: d.Id, ProductArn: d.ProductArn })),
        Workflow: { Status: "RESOLVED" },
        Note: { Text: note, UpdatedBy: "kms-responder" },
      }),
    );
  }
}

/**
 * The open findings (record ACTIVE, workflow NEW or NOTIFIED) a product imported about one
 * resource, every page. Throws what GetFindings throws.
 */
export async function openFindingsAbout(
  productArn: string,
  resourceId: string,
): Promise<AwsSecurityFinding[]> {
  const found: AwsSecurityFinding[] = [];
  let token: string | undefined;
  do {
    const out = await securityHub.send(
      new GetFindingsCommand({
        Filters: {
          ProductArn: [{ Value: productArn, Comparison: "EQUALS" }],
          ResourceId: [{ Value: resourceId, Comparison: "EQUALS" }],
          RecordState: [{ Value: "ACTIVE", Comparison: "EQUALS" }],
          WorkflowStatus: [
            { Value: "NEW", Comparison: "EQUALS" },
            { Value: "NOTIFIED", Comparison: "EQUALS" },
          ],
        },
        MaxResults: BATCH,
        NextToken: token,
      }),
    );
    found.push(...(out.Findings ?? []));
    token = out.NextToken || undefined;
  } while (token);
  return found;
}
