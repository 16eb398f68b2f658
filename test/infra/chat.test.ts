/** The chat channel in the template: the channel configuration, its topic, its role, who publishes. */
import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/shared/config.js";
import { type BuiltStack, buildStack } from "./stack-fixture.js";

const SLACK = { slack: { workspaceId: "T0123ABCD", channelId: "C0123ABCD" } };
const TEAMS = {
  teams: {
    teamId: "a1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d",
    tenantId: "b1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d",
    channelId: "19:b6ef35dc342d56ba5654e6fc6d25a071@thread.tacv2",
  },
};

const built: BuiltStack[] = [];
function stackWith(chat: object | undefined): BuiltStack {
  const b = buildStack({ config: parseConfig({ mode: "enforce", ...(chat && { chat }) }) });
  built.push(b);
  return b;
}
afterAll(() => {
  for (const b of built) b.cleanup();
});

describe("chat channel", () => {
  const { template, stack } = stackWith(SLACK);

  it("subscribes a Slack channel configuration to an encrypted chat topic, with a role that may do nothing", () => {
    const topics = template.findResources("AWS::SNS::Topic");
    expect(Object.keys(topics)).toHaveLength(2);
    const chatTopicId = stack.getLogicalId(stack.chat?.topic.node.defaultChild as never);
    expect(topics[chatTopicId]?.Properties.KmsMasterKeyId).toEqual({
      "Fn::GetAtt": [stack.getLogicalId(stack.notificationKey.node.defaultChild as never), "Arn"],
    });
    template.resourceCountIs("AWS::Chatbot::SlackChannelConfiguration", 1);
    template.hasResourceProperties("AWS::Chatbot::SlackChannelConfiguration", {
      ConfigurationName: "kms-responder-chat",
      SlackWorkspaceId: "T0123ABCD",
      SlackChannelId: "C0123ABCD",
      SnsTopicArns: [{ Ref: chatTopicId }],
      GuardrailPolicies: [
        { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::aws:policy/ReadOnlyAccess"]] },
      ],
      UserRoleRequired: false,
    });
    const roleId = stack.getLogicalId(stack.chat?.role.node.defaultChild as never);
    const role = template.findResources("AWS::IAM::Role")[roleId];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: "chatbot.amazonaws.com" }, Action: "sts:AssumeRole" }),
    ]);
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties.Policies).toBeUndefined();
    const policiesOfRole = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleId),
    );
    expect(policiesOfRole).toEqual([]);
  });

  it("every function publishes to the chat topic and knows it; no one else may publish", () => {
    const chatTopicId = stack.getLogicalId(stack.chat?.topic.node.defaultChild as never);
    const functions = template.findResources("AWS::Lambda::Function");
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Environment.Variables.CHAT_TOPIC_ARN).toEqual({ Ref: chatTopicId });
    }
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: "NotifyChat", Effect: "Allow", Action: "sns:Publish", Resource: { Ref: chatTopicId } },
        ]),
      },
    });
    const notifyChat = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('"NotifyChat"'),
    );
    expect(notifyChat).toHaveLength(Object.keys(functions).length);
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: chatTopicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: "NoOtherPrincipalPublishes", Effect: "Deny", Action: "sns:Publish" }),
        ]),
      },
    });
  });

  it("a Teams channel gets a Teams channel configuration", () => {
    const { template: teams } = stackWith(TEAMS);
    teams.resourceCountIs("AWS::Chatbot::SlackChannelConfiguration", 0);
    teams.hasResourceProperties("AWS::Chatbot::MicrosoftTeamsChannelConfiguration", {
      TeamId: TEAMS.teams.teamId,
      TeamsTenantId: TEAMS.teams.tenantId,
      TeamsChannelId: TEAMS.teams.channelId,
    });
  });

  it("without chat, no second topic and no CHAT_TOPIC_ARN", () => {
    const { template: plain } = stackWith(undefined);
    plain.resourceCountIs("AWS::SNS::Topic", 1);
    plain.resourceCountIs("AWS::Chatbot::SlackChannelConfiguration", 0);
    for (const fn of Object.values(plain.findResources("AWS::Lambda::Function"))) {
      expect(fn.Properties.Environment.Variables.CHAT_TOPIC_ARN).toBeUndefined();
    }
  });
});
