/**
 * responder-tampered's Lambda entry end to end on mocked clients: the finding is notified with a
 * subject and text that name the resource changed, its account and Region (no key); with `repair`
 * on, the repair is sent and read back on the Region's EventBridge, CloudTrail or Lambda client,
 * and nothing is sent without it.
 */
import { CloudTrailClient, GetTrailStatusCommand, StartLoggingCommand } from "@aws-sdk/client-cloudtrail";
import {
  DescribeRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
} from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from "@aws-sdk/client-lambda";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadEvent } from "../helpers/fixtures.js";
import { coldStart, onlyNotification } from "./harness.js";

const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const events = mockClient(EventBridgeClient);
const cloudTrail = mockClient(CloudTrailClient);
const lambda = mockClient(LambdaClient);

const RULE = "kms-responder-rogueGrantrule8D1F2A3B-EXAMPLE1";
const TRAIL = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";
const FUNCTION = "kms-responder-rogueGrantFunction5E6F7A8B-EXAMPLE2";
const REPAIR = { incidents: { "responder-tampered": { repair: true, trails: ["management-events"] } } };

beforeEach(() => {
  for (const m of [kms, sns, events, cloudTrail, lambda]) m.reset();
  sns.on(PublishCommand).resolves({ MessageId: "msg-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("responder-tampered handler", () => {
  it("notifies a disabled rule, critical, naming the rule, account and Region, and changes nothing without repair", async () => {
    // Prepare
    const handler = await coldStart("responder-tampered");

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(result).toMatchObject({
      outcome: "notified",
      severity: "critical",
      reasons: ["rule-disabled"],
      actions: [],
    });
    expect(events.calls()).toHaveLength(0);
    expect(kms.calls()).toHaveLength(0);
    const note = onlyNotification(sns);
    // The stack's prefix is dropped to leave room for the account and Region.
    expect(note.subject).toMatch(
      /^\[CRITICAL\] kms-responder.*, for review: rule rogueGrantrule8D1F2A3B in 111122223333\/us-east-1$/,
    );
    expect(note.subject).not.toContain("key ");
    expect(note.text).toContain(`Resource changed: the responder's rule ${RULE}`);
    expect(note.text).toContain("Account/Region: 111122223333 / us-east-1");
    expect(note.text).not.toContain("Key: ");
    expect(note.text).toContain(`aws events enable-rule --name ${RULE}`);
    expect(note.attributes).toMatchObject({ incident: "responder-tampered", severity: "critical" });
  });

  it("with repair on, enables the rule and reads its state back", async () => {
    // Prepare
    events
      .on(DescribeRuleCommand)
      .resolvesOnce({ Name: RULE, State: "DISABLED" })
      .resolves({ Name: RULE, State: "ENABLED" });
    events.on(EnableRuleCommand).resolves({});
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(events).toHaveReceivedCommandExactlyOnceWith(EnableRuleCommand, { Name: RULE });
    expect(events).toHaveReceivedCommandTimes(DescribeRuleCommand, 2);
    expect(cloudTrail.calls()).toHaveLength(0);
    expect(lambda.calls()).toHaveLength(0);
    expect(result).toMatchObject({
      outcome: "remediated",
      actions: [{ type: "enable-rule", status: "succeeded", verified: true }],
    });
    const note = onlyNotification(sns);
    expect(note.subject).toContain("rule re-enabled");
    expect(note.text).toContain(`aws events disable-rule --name ${RULE} --region us-east-1`);
  });

  it("with repair on, a rule that takes read-only management events gets that state back (PutRule with its own pattern), not just ENABLED", async () => {
    // Prepare: the stack lists the rule as one that takes read-only management events.
    vi.stubEnv("KMS_RESPONDER_READ_ONLY_RULES", JSON.stringify(["kms-responder-other-rule", RULE]));
    const pattern = '{"source":["aws.kms"],"detail":{"eventName":["Decrypt"]}}';
    events
      .on(DescribeRuleCommand)
      .resolvesOnce({ Name: RULE, State: "DISABLED", EventPattern: pattern, Description: "kms-responder: x" })
      .resolvesOnce({ Name: RULE, State: "DISABLED", EventPattern: pattern, Description: "kms-responder: x" })
      .resolves({
        Name: RULE,
        State: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
        EventPattern: pattern,
      });
    events.on(PutRuleCommand).resolves({});
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(events).toHaveReceivedCommandTimes(EnableRuleCommand, 0);
    expect(events).toHaveReceivedCommandExactlyOnceWith(PutRuleCommand, {
      Name: RULE,
      EventPattern: pattern,
      Description: "kms-responder: x",
      State: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
    });
    expect(result.actions).toMatchObject([
      {
        type: "enable-rule",
        status: "succeeded",
        verified: true,
        detail: `rule ${RULE} ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`,
      },
    ]);
  });

  it("with repair on, a read-only-events rule someone enabled without them (ENABLED) is not taken as put back", async () => {
    // Prepare
    vi.stubEnv("KMS_RESPONDER_READ_ONLY_RULES", JSON.stringify([RULE]));
    events
      .on(DescribeRuleCommand)
      .resolvesOnce({ Name: RULE, State: "ENABLED", EventPattern: "{}" })
      .resolvesOnce({ Name: RULE, State: "ENABLED", EventPattern: "{}" })
      .resolves({ Name: RULE, State: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" });
    events.on(PutRuleCommand).resolves({});
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(events).toHaveReceivedCommandTimes(PutRuleCommand, 1);
    expect(result.actions).toMatchObject([{ type: "enable-rule", status: "succeeded" }]);
  });

  it("with repair on, restarts the listed trail and reads IsLogging back", async () => {
    // Prepare
    cloudTrail.on(GetTrailStatusCommand).resolvesOnce({ IsLogging: false }).resolves({ IsLogging: true });
    cloudTrail.on(StartLoggingCommand).resolves({});
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/stop-logging"));

    // Assess
    expect(cloudTrail).toHaveReceivedCommandExactlyOnceWith(StartLoggingCommand, { Name: TRAIL });
    expect(events.calls()).toHaveLength(0);
    expect(result.actions).toMatchObject([{ type: "start-logging", status: "succeeded", verified: true }]);
    expect(onlyNotification(sns).subject).toContain("trail restarted");
  });

  it("with repair on, puts back the reservation the stack declares (its tag) and reads it back", async () => {
    // Prepare: the stack reserves 5 and says so in the tag; someone set 0.
    const tags = { "kms-responder:reserved-concurrency": "5" };
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({ Concurrency: { ReservedConcurrentExecutions: 0 }, Tags: tags })
      .resolves({ Concurrency: { ReservedConcurrentExecutions: 5 }, Tags: tags });
    lambda.on(PutFunctionConcurrencyCommand).resolves({});
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/put-function-concurrency"));

    // Assess
    expect(lambda).toHaveReceivedCommandExactlyOnceWith(PutFunctionConcurrencyCommand, {
      FunctionName: FUNCTION,
      ReservedConcurrentExecutions: 5,
    });
    expect(lambda).not.toHaveReceivedCommand(DeleteFunctionConcurrencyCommand);
    expect(result).toMatchObject({
      reasons: ["function-throttled"],
      actions: [{ type: "restore-function-concurrency", status: "succeeded", verified: true }],
    });
    expect(onlyNotification(sns).text).toContain(
      `aws lambda put-function-concurrency --function-name ${FUNCTION} --reserved-concurrent-executions 0 --region us-east-1`,
    );
  });

  it("with repair on, removes a reservation of 0 from a function the stack reserves nothing for", async () => {
    // Prepare
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({ Concurrency: { ReservedConcurrentExecutions: 0 }, Tags: {} })
      .resolves({ Tags: {} });
    lambda.on(DeleteFunctionConcurrencyCommand).resolves({});
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/put-function-concurrency"));

    // Assess
    expect(lambda).toHaveReceivedCommandExactlyOnceWith(DeleteFunctionConcurrencyCommand, {
      FunctionName: FUNCTION,
    });
    expect(lambda).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
    expect(result.actions).toMatchObject([
      { type: "restore-function-concurrency", status: "succeeded", verified: true },
    ]);
  });

  it("a reservation already as the stack declares it: nothing sent but the read", async () => {
    // Prepare
    lambda.on(GetFunctionCommand).resolves({
      Concurrency: { ReservedConcurrentExecutions: 5 },
      Tags: { "kms-responder:reserved-concurrency": "5" },
    });
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/put-function-concurrency"));

    // Assess
    expect(lambda).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
    expect(lambda).not.toHaveReceivedCommand(DeleteFunctionConcurrencyCommand);
    expect(result.actions).toMatchObject([{ type: "restore-function-concurrency", status: "already-done" }]);
  });

  it("a rule already enabled again: nothing sent but the read", async () => {
    // Prepare
    events.on(DescribeRuleCommand).resolves({ Name: RULE, State: "ENABLED" });
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(events).not.toHaveReceivedCommand(EnableRuleCommand);
    expect(result.actions).toMatchObject([{ type: "enable-rule", status: "already-done", verified: true }]);
  });

  it("a denied repair fails the invocation after notifying, with the error", async () => {
    // Prepare
    lambda.on(GetFunctionCommand).resolves({ Concurrency: { ReservedConcurrentExecutions: 0 } });
    lambda
      .on(DeleteFunctionConcurrencyCommand)
      .rejects(Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }));
    const handler = await coldStart("responder-tampered", REPAIR);

    // Act + Assess
    await expect(handler(loadEvent("responder-tampered/put-function-concurrency"))).rejects.toThrow(
      /restore-function-concurrency: DeleteFunctionConcurrency failed/,
    );
    expect(onlyNotification(sns).attributes).toMatchObject({ incident: "responder-tampered" });
  });

  it("in notify mode with repair on: the repair is a dry run, nothing sent", async () => {
    // Prepare
    const handler = await coldStart("responder-tampered", { ...REPAIR, mode: "notify" });

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(events.calls()).toHaveLength(0);
    expect(result.actions).toMatchObject([{ type: "enable-rule", status: "dry-run" }]);
  });

  it("in approve mode the repair is proposed: nothing sent, no approval document started, the command to run notified", async () => {
    // Prepare
    vi.stubEnv("APPROVAL_STACK_NAME", "kms-responder");
    const handler = await coldStart("responder-tampered", {
      approval: { approvers: ["arn:aws:iam::111122223333:role/OnCall"] },
      incidents: { "responder-tampered": { mode: "approve", repair: true } },
    });

    // Act
    const result = await handler(loadEvent("responder-tampered/disable-rule"));

    // Assess
    expect(events.calls()).toHaveLength(0);
    expect(result.actions).toMatchObject([{ type: "enable-rule", status: "skipped" }]);
    const note = onlyNotification(sns);
    expect(note.text).toContain(
      `approve mode: a repair has no approval document; to approve it, run: aws events enable-rule --name ${RULE} --region us-east-1`,
    );
  });

  it("a rule of another account (a member's, forwarded) is not the stack's: not repaired, said so", async () => {
    // Prepare
    const handler = await coldStart("responder-tampered", REPAIR);
    const event = loadEvent("responder-tampered/disable-rule");
    event.account = "222233334444";
    const detail = event.detail as Record<string, unknown>;
    detail.recipientAccountId = "222233334444";
    (detail.userIdentity as Record<string, unknown>).accountId = "222233334444";

    // Act
    const result = await handler(event);

    // Assess
    expect(events.calls()).toHaveLength(0);
    expect(result.actions).toMatchObject([{ type: "enable-rule", status: "skipped" }]);
    expect(onlyNotification(sns).text).toContain(
      "the changed resource is in account 222233334444; the stack's own resources are in 111122223333: not repaired",
    );
  });
});
