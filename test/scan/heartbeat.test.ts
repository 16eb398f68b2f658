/**
 * The member heartbeat alarms the sweep function keeps: every active account under the units,
 * times the Regions, gets an alarm unless it has one (listed by the stack or discovered before),
 * but the management account (no canary) and the stack's own pair; discovered alarms of accounts
 * gone, or now listed, are deleted; a change is notified naming the pairs.
 */
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { maintainHeartbeatAlarms } from "../../functions/scan/heartbeat.js";
import { parseConfig } from "../../functions/shared/config.js";

const cwMock = mockClient(CloudWatchClient);
const orgMock = mockClient(OrganizationsClient);
const snsMock = mockClient(SNSClient);

const TOPIC = "arn:aws:sns:us-east-1:111111111111:kms-responder-Notifications";
const HOME = { account: "111111111111", region: "us-east-1" };
const MANAGEMENT = "999999999999";
const config = parseConfig({
  resourcePrefix: "kr-",
  organization: {
    id: "o-a1b2c3d4e5",
    regions: ["us-east-1", "eu-west-1"],
    organizationalUnitIds: ["r-ab12"],
  },
});

function organisation(accounts: string[]): void {
  orgMock
    .on(ListAccountsForParentCommand, { ParentId: "r-ab12", NextToken: undefined })
    .resolves({
      Accounts: accounts.slice(0, 2).map((Id) => ({ Id, State: "ACTIVE" })),
      NextToken: "p2",
    })
    .on(ListAccountsForParentCommand, { ParentId: "r-ab12", NextToken: "p2" })
    .resolves({
      Accounts: [
        ...accounts.slice(2).map((Id) => ({ Id, State: "ACTIVE" as const })),
        { Id: "555555555555", State: "SUSPENDED" },
      ],
    });
  orgMock.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
  orgMock.on(DescribeOrganizationCommand).resolves({ Organization: { MasterAccountId: MANAGEMENT } });
}

function alarms(pages: string[][]): void {
  const describe = cwMock.on(DescribeAlarmsCommand);
  pages.forEach((names, i) => {
    cwMock.on(DescribeAlarmsCommand, { NextToken: i === 0 ? undefined : `a${i}` }).resolves({
      MetricAlarms: names.map((AlarmName) => ({ AlarmName })),
      ...(i < pages.length - 1 && { NextToken: `a${i + 1}` }),
    });
  });
  if (!pages.length) describe.resolves({ MetricAlarms: [] });
}

const run = () =>
  maintainHeartbeatAlarms({
    config,
    sns: new SNSClient({ region: "us-east-1" }),
    topicArn: TOPIC,
    home: HOME,
    cloudwatch: new CloudWatchClient({ region: "us-east-1" }),
    organizations: new OrganizationsClient({ region: "us-east-1" }),
  });

beforeEach(() => {
  cwMock.reset();
  orgMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m" });
});

describe("maintainHeartbeatAlarms", () => {
  it("puts an alarm on each pair without one: missing data breaching, the topic as action, named after the pair", async () => {
    organisation([HOME.account, MANAGEMENT, "222222222222", "333333333333"]);
    // 222222222222 is listed in the config (the stack's alarms); 333333333333 joined later.
    alarms([
      ["kr-heartbeat-222222222222-us-east-1"],
      ["kr-heartbeat-222222222222-eu-west-1", "kr-heartbeat-other"],
    ]);

    const result = await run();

    const puts = cwMock.commandCalls(PutMetricAlarmCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.AlarmName).sort()).toEqual([
      "kr-heartbeat-discovered-111111111111-eu-west-1",
      "kr-heartbeat-discovered-333333333333-eu-west-1",
      "kr-heartbeat-discovered-333333333333-us-east-1",
    ]);
    expect(puts.find((p) => p.AlarmName === "kr-heartbeat-discovered-333333333333-eu-west-1")).toEqual({
      AlarmName: "kr-heartbeat-discovered-333333333333-eu-west-1",
      AlarmDescription: expect.stringMatching(
        /^kms-responder: member account 333333333333 in eu-west-1 went quiet/,
      ),
      Namespace: "kms-responder",
      MetricName: "Heartbeat",
      Dimensions: [
        { Name: "account", Value: "333333333333" },
        { Name: "region", Value: "eu-west-1" },
      ],
      Statistic: "Sum",
      Period: 900,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
      AlarmActions: [TOPIC],
    });
    // The management account (no canary) and the stack's own pair get none; nothing is deleted.
    expect(JSON.stringify(puts)).not.toContain(MANAGEMENT);
    expect(cwMock).not.toHaveReceivedCommand(DeleteAlarmsCommand);
    expect(cwMock).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNamePrefix: "kr-heartbeat-",
      AlarmTypes: ["MetricAlarm"],
    });
    expect(result).toEqual({
      watched: 5,
      created: ["111111111111 eu-west-1", "333333333333 us-east-1", "333333333333 eu-west-1"],
      deleted: [],
      pending: 0,
    });

    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const message = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(message?.Subject).toBe("kms-responder heartbeat: 3 pair(s) now watched, 0 no longer");
    expect(message?.Message).toContain("  333333333333 us-east-1\n  333333333333 eu-west-1");
    expect(message?.Message).toContain("5 member account-Region pairs have a heartbeat alarm.");
    expect(message?.MessageAttributes?.severity?.StringValue).toBe("info");
  });

  it("deletes the discovered alarms of accounts gone and of pairs now listed; a run with nothing to do is silent", async () => {
    organisation(["222222222222"]);
    alarms([
      [
        "kr-heartbeat-222222222222-us-east-1",
        "kr-heartbeat-discovered-222222222222-us-east-1",
        "kr-heartbeat-discovered-222222222222-eu-west-1",
        "kr-heartbeat-discovered-444444444444-us-east-1",
      ],
    ]);

    const result = await run();

    expect(cwMock).not.toHaveReceivedCommand(PutMetricAlarmCommand);
    expect(cwMock).toHaveReceivedCommandWith(DeleteAlarmsCommand, {
      AlarmNames: [
        "kr-heartbeat-discovered-222222222222-us-east-1",
        "kr-heartbeat-discovered-444444444444-us-east-1",
      ],
    });
    expect(result).toEqual({
      watched: 2,
      created: [],
      deleted: ["222222222222 us-east-1", "444444444444 us-east-1"],
      pending: 0,
    });
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      "Heartbeat alarms removed for 2 pair(s)",
    );

    snsMock.resetHistory();
    cwMock.reset();
    alarms([["kr-heartbeat-222222222222-us-east-1", "kr-heartbeat-discovered-222222222222-eu-west-1"]]);
    await run();
    expect(cwMock).not.toHaveReceivedCommand(PutMetricAlarmCommand);
    expect(cwMock).not.toHaveReceivedCommand(DeleteAlarmsCommand);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it("a pair whose alarm cannot be written does not stop the others; the run notifies and fails naming it", async () => {
    organisation(["222222222222"]);
    alarms([[]]);
    cwMock
      .on(PutMetricAlarmCommand)
      .resolves({})
      .on(PutMetricAlarmCommand, { AlarmName: "kr-heartbeat-discovered-222222222222-us-east-1" })
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "LimitExceededFault" }));

    await expect(run()).rejects.toThrow(/222222222222 us-east-1: PutMetricAlarm failed/);

    expect(cwMock).toHaveReceivedCommandWith(PutMetricAlarmCommand, {
      AlarmName: "kr-heartbeat-discovered-222222222222-eu-west-1",
    });
    const message = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(message?.MessageAttributes?.severity?.StringValue).toBe("medium");
    expect(message?.Message).toContain(
      "Could not be changed (the next run tries again):\n  222222222222 us-east-1",
    );
  });

  it("puts at most the bound in one run and says how many are left for the next runs", async () => {
    organisation(["222222222222", "333333333333"]);
    alarms([[]]);
    cwMock.on(PutMetricAlarmCommand).resolves({});

    const result = await maintainHeartbeatAlarms({
      config,
      sns: new SNSClient({ region: "us-east-1" }),
      topicArn: TOPIC,
      home: HOME,
      cloudwatch: new CloudWatchClient({ region: "us-east-1" }),
      organizations: new OrganizationsClient({ region: "us-east-1" }),
      maxPuts: 3,
    });

    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 3);
    expect(result).toMatchObject({ watched: 3, pending: 1 });
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      "1 more pair(s) without an alarm get theirs in the next hourly runs",
    );
  });

  it("refuses to run without an organisation", async () => {
    await expect(
      maintainHeartbeatAlarms({
        config: parseConfig({}),
        sns: new SNSClient({}),
        topicArn: TOPIC,
        home: HOME,
      }),
    ).rejects.toThrow(/organization/);
  });
});
