/**
 * Approval mode: the responder verifies and decides as in enforce, then starts the action's
 * approval document instead of acting (moto has no SSM Automation: the SSM client is mocked).
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { KMSClient, ListGrantsCommand, RetireGrantCommand, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../functions/shared/config.js";
import { GRANT_KEY_ARN, loadEvent } from "../helpers/fixtures.js";
import { coldStart, fakeKey, grantClaimedBy, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const ssm = mockClient(SSMClient);
const cloudTrail = mockClient(CloudTrailClient);

const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const CLAIMED = grantClaimedBy(loadEvent("rogue-grant/external-grantee"));
const EXECUTION = "0123abcd-4567-89ab-cdef-0123456789ab";
const APPROVING = {
  mode: "enforce",
  incidents: { "rogue-grant": { mode: "approve" } },
  approval: { approvers: ["arn:aws:iam::111122223333:role/security-oncall"] },
};

beforeEach(() => {
  kms.reset();
  sns.reset();
  ssm.reset();
  cloudTrail.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: EXECUTION });
});

afterEach(() => vi.unstubAllEnvs());

describe("rogue-grant in approval mode", () => {
  it("verifies the grant, then starts the approval document with the key and grant, and changes nothing in KMS", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [CLAIMED] });
    vi.stubEnv("APPROVAL_STACK_NAME", "kms-responder");
    const handler = await coldStart("rogue-grant", APPROVING);

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(kms).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: GRANT_KEY_ARN, GrantId: GRANT_ID });
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(kms).toHaveReceivedCommandTimes(RetireGrantCommand, 0);
    expect(ssm).toHaveReceivedCommandTimes(StartAutomationExecutionCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(StartAutomationExecutionCommand, {
      DocumentName: "kms-responder-Approved-RevokeGrant",
      Parameters: {
        KeyId: [GRANT_KEY_ARN],
        GrantId: [GRANT_ID],
        Reason: ["approval of the rogue-grant response to event 7404c6cc-a32e-4c17-bddb-150a93c40481"],
        StatedBy: ["kms-responder rogue-grant"],
      },
    });
    expect(result).toMatchObject({
      outcome: "pending-approval",
      actions: [{ type: "revoke-grant", status: "pending-approval" }],
    });
    const note = onlyNotification(sns);
    expect(note.attributes.outcome).toBe("pending-approval");
    expect(note.subject).toContain("approval requested");
    expect(note.text).toContain(
      `aws ssm send-automation-signal --automation-execution-id ${EXECUTION} --signal-type Approve --region us-east-1`,
    );
    expect(note.text).not.toContain("How to undo");
  });

  it("a grant already gone: nothing to approve, no automation started", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [] });
    vi.stubEnv("APPROVAL_STACK_NAME", "kms-responder");
    const handler = await coldStart("rogue-grant", APPROVING);

    // Act
    await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(ssm).toHaveReceivedCommandTimes(StartAutomationExecutionCommand, 0);
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
  });

  it("a failed StartAutomationExecution is a failed action: notified, then the invocation fails for a retry", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [CLAIMED] });
    ssm.on(StartAutomationExecutionCommand).rejects(new Error("AccessDenied"));
    vi.stubEnv("APPROVAL_STACK_NAME", "kms-responder");
    const handler = await coldStart("rogue-grant", APPROVING);

    // Act
    const run = handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    await expect(run).rejects.toThrow("approval request failed");
    expect(onlyNotification(sns).attributes.outcome).toBe("failed");
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
  });

  it("without the stack's approval documents, nothing is done: the action is skipped, never run unapproved", async () => {
    // Prepare
    fakeKey(kms, { arn: GRANT_KEY_ARN, grants: [CLAIMED] });
    const handler = await coldStart("rogue-grant", APPROVING);

    // Act
    const result = await handler(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(result.actions).toMatchObject([{ status: "skipped" }]);
    expect(ssm).toHaveReceivedCommandTimes(StartAutomationExecutionCommand, 0);
    expect(kms).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
  });
});

describe("config approval", () => {
  it("is required when an incident approves, naming the incident", () => {
    expect(() => parseConfig({ incidents: { "rogue-grant": { mode: "approve" } } })).toThrow(
      'approval: is required (approvers) because incidents.rogue-grant.mode is "approve"',
    );
  });

  it.each([
    [{ approvers: [] }, "approval.approvers: must list at least one approver"],
    [{ approvers: ["arn:aws:iam::111122223333:role/*"] }, "approval.approvers.0"],
    [{ approvers: ["arn:aws:iam::111122223333:role/a"], timeoutMinutes: 0 }, "approval.timeoutMinutes"],
  ])("refuses %j", (approval, named) => {
    expect(() => parseConfig({ approval })).toThrow(named);
  });

  it("defaults the timeout to 60 minutes", () => {
    expect(parseConfig(APPROVING).approval).toEqual({ ...APPROVING.approval, timeoutMinutes: 60 });
  });
});
