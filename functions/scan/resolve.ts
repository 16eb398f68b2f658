/**
 * Resolving in Security Hub the findings a sweep no longer sees, through the shared archive path
 * (archived and workflow RESOLVED: clients/securityhub.ts). Loaded only when `securityHub` is on.
 */
import { archiveResolved } from "../shared/clients/securityhub.js";
import type { PipelineDeps } from "../shared/pipeline.js";
import { importTarget, toAsff } from "../shared/securityhub.js";
import type { NotifiedFinding } from "./notified.js";
import { stubOf } from "./sweep.js";

export async function resolveGone(
  gone: readonly NotifiedFinding[],
  deps: PipelineDeps,
  now: Date,
): Promise<void> {
  const documents = gone.flatMap((record) => {
    const finding = stubOf(record);
    const target = importTarget(deps, finding);
    if (!target) return [];
    const doc = toAsff({
      finding: { ...finding, summary: `No longer seen by the sweep: ${finding.summary}` },
      results: [],
      target,
      now,
    });
    return [{ ...doc, Compliance: { Status: "PASSED" as const } }];
  });
  if (documents.length === 0) return;
  await archiveResolved(documents, "The scheduled sweep no longer sees this finding.");
}
