/**
 * Resolving in Security Hub the findings a sweep no longer sees: the finding re-imported with
 * `RecordState: ARCHIVED` (only the provider changes the record state, through BatchImportFindings)
 * and its workflow set to RESOLVED (BatchUpdateFindings, the customer-side field). Loaded only when
 * `securityHub` is on.
 */
import { BatchUpdateFindingsCommand } from "@aws-sdk/client-securityhub";
import { batchImport, securityHub } from "../shared/clients/securityhub.js";
import type { PipelineDeps } from "../shared/pipeline.js";
import { importTarget, toAsff } from "../shared/securityhub.js";
import type { NotifiedFinding } from "./notified.js";
import { stubOf } from "./sweep.js";

/** Security Hub's batch limit for both calls. */
const BATCH = 100;

export async function resolveGone(
  gone: readonly NotifiedFinding[],
  deps: PipelineDeps,
  now: Date,
): Promise<void> {
  for (let i = 0; i < gone.length; i += BATCH) {
    const documents = gone.slice(i, i + BATCH).flatMap((record) => {
      const finding = stubOf(record);
      const target = importTarget(deps, finding);
      if (!target) return [];
      const doc = toAsff({
        finding: { ...finding, summary: `No longer seen by the sweep: ${finding.summary}` },
        results: [],
        target,
        now,
      });
      return [{ ...doc, RecordState: "ARCHIVED" as const, Compliance: { Status: "PASSED" as const } }];
    });
    if (documents.length === 0) continue;
    await batchImport(documents);
    await securityHub.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: documents.map((d) => ({ Id: d.Id, ProductArn: d.ProductArn })),
        Workflow: { Status: "RESOLVED" },
        Note: { Text: "The scheduled sweep no longer sees this finding.", UpdatedBy: "kms-responder" },
      }),
    );
  }
}
