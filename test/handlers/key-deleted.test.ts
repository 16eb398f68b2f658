/**
 * key-deleted: the DeleteKey service event ends the key for good. With Security Hub on, the
 * finding is imported and then every other open finding the responder imported about the key is
 * closed through the sweep's archive path (re-imported ARCHIVED, workflow RESOLVED with a note); a
 * failure there leaves them open and never fails the invocation.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient } from "@aws-sdk/client-kms";
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKms, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const cloudTrail = mockClient(CloudTrailClient);
const hub = mockClient(SecurityHubClient);

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const PRODUCT = "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default";

/** An open finding about the key, as GetFindings returns it (Security Hub's own fields too). */
function openFinding(id: string, incident: string): AwsSecurityFinding {
  return {
    SchemaVersion: "2018-10-08",
    Id: id,
    ProductArn: PRODUCT,
    ProductName: "kms-responder",
    CompanyName: "Personal",
    GeneratorId: `kms-responder/${incident}`,
    AwsAccountId: "111122223333",
    Types: ["Unusual Behaviors/KMS"],
    CreatedAt: "2026-11-20T10:00:00.000Z",
    UpdatedAt: "2026-11-20T10:00:00.000Z",
    Severity: { Label: "HIGH", Original: "high" },
    Title: "An earlier finding",
    Description: "about the key",
    Resources: [{ Type: "AwsKmsKey", Id: KEY_ARN, Partition: "aws", Region: "us-east-1" }],
    ProductFields: { "aws/securityhub/FindingId": "x" },
    Workflow: { Status: "NEW" },
    RecordState: "ACTIVE",
  };
}

beforeEach(() => {
  kms.reset();
  sns.reset();
  cloudTrail.reset();
  hub.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  hub.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
  hub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
  fakeKms(kms, cloudTrail);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("key-deleted handler", () => {
  it("closes the key's other open findings: found by key and product, archived, workflow RESOLVED", async () => {
    // Prepare: two pages of open findings about the key
    hub
      .on(GetFindingsCommand)
      .resolvesOnce({
        Findings: [openFinding("kms-responder/rogue-grant/e-1/aa", "rogue-grant")],
        NextToken: "p2",
      })
      .resolvesOnce({
        Findings: [openFinding("kms-responder/key-deletion-scheduled/e-2/bb", "key-deletion-scheduled")],
      });
    const handler = await coldStart("key-deleted", { securityHub: true });
    const info = vi.spyOn((await import("../../functions/shared/logger.js")).logger, "info");

    // Act
    const result = await handler(loadEvent("key-deleted/delete-unapproved-key"));

    // Assess
    expect(result).toMatchObject({ outcome: "notified", severity: "critical" });
    expect(info).toHaveBeenCalledWith("closed the deleted key's findings", {
      closed: ["kms-responder/rogue-grant/e-1/aa", "kms-responder/key-deletion-scheduled/e-2/bb"],
    });
    expect(onlyNotification(sns).attributes).toMatchObject({ incident: "key-deleted" });
    expect(hub.commandCalls(GetFindingsCommand)[0]?.args[0].input).toEqual({
      Filters: {
        ProductArn: [{ Value: PRODUCT, Comparison: "EQUALS" }],
        ResourceId: [{ Value: KEY_ARN, Comparison: "EQUALS" }],
        RecordState: [{ Value: "ACTIVE", Comparison: "EQUALS" }],
        WorkflowStatus: [
          { Value: "NEW", Comparison: "EQUALS" },
          { Value: "NOTIFIED", Comparison: "EQUALS" },
        ],
      },
      MaxResults: 100,
      NextToken: undefined,
    });
    expect(hub.commandCalls(GetFindingsCommand)[1]?.args[0].input.NextToken).toBe("p2");
    // The key-deleted finding itself first (ACTIVE), then the two earlier ones archived.
    const imports = hub.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings ?? []);
    expect(imports).toHaveLength(2);
    expect(imports[0]?.map((f) => [f.GeneratorId, f.RecordState])).toEqual([
      ["kms-responder/key-deleted", "ACTIVE"],
    ]);
    expect(imports[1]?.map((f) => [f.Id, f.RecordState])).toEqual([
      ["kms-responder/rogue-grant/e-1/aa", "ARCHIVED"],
      ["kms-responder/key-deletion-scheduled/e-2/bb", "ARCHIVED"],
    ]);
    // Security Hub's own fields are not sent back as the provider's.
    expect(imports[1]?.[0]).not.toHaveProperty("ProductFields");
    expect(imports[1]?.[0]).not.toHaveProperty("Workflow");
    expect(hub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
    expect(hub.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input).toMatchObject({
      FindingIdentifiers: [
        { Id: "kms-responder/rogue-grant/e-1/aa", ProductArn: PRODUCT },
        { Id: "kms-responder/key-deletion-scheduled/e-2/bb", ProductArn: PRODUCT },
      ],
      Workflow: { Status: "RESOLVED" },
      Note: {
        Text: "The key was deleted (KMS DeleteKey, event 54015ccf-56e6-f5db-4769-48d5b923e54f): nothing about it can be fixed any more.",
        UpdatedBy: "kms-responder",
      },
    });
  });

  it("never closes its own finding (a retry finds it open)", async () => {
    const handler = await coldStart("key-deleted", { securityHub: true });
    // The import's id, found again by the lookup on a retry.
    hub.on(GetFindingsCommand).callsFake(() => {
      const own = hub.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0]?.Id ?? "";
      return { Findings: [openFinding(own, "key-deleted")] };
    });

    await handler(loadEvent("key-deleted/delete-unapproved-key"));

    expect(hub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 1);
    expect(hub).not.toHaveReceivedCommand(BatchUpdateFindingsCommand);
  });

  it("a lookup that fails leaves the findings open and the invocation succeeds", async () => {
    hub.on(GetFindingsCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const handler = await coldStart("key-deleted", { securityHub: true });
    // The handler's own logger (coldStart loads fresh modules): the pipeline logs the import's report.
    const error = vi.spyOn((await import("../../functions/shared/logger.js")).logger, "error");

    await expect(handler(loadEvent("key-deleted/delete-unapproved-key"))).resolves.toMatchObject({
      outcome: "notified",
    });
    expect(hub).not.toHaveReceivedCommand(BatchUpdateFindingsCommand);
    expect(error).toHaveBeenCalledWith("closing the deleted key's findings failed; they stay open", {
      error: "AccessDeniedException: denied",
    });
  });

  it("without Security Hub nothing is looked up", async () => {
    const handler = await coldStart("key-deleted");
    await handler(loadEvent("key-deleted/delete-unapproved-key"));
    expect(hub.calls()).toHaveLength(0);
  });
});
