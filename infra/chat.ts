/**
 * Chat (config `chat`): a second topic, encrypted with the notification key like the main one,
 * that receives the chat message in Amazon Q Developer in chat applications' custom notification
 * schema (functions/shared/chat.ts), and the Slack or Microsoft Teams channel configuration
 * subscribed to it.
 *
 * The channel's role has no policy at all and its guardrail is AWS's `ReadOnlyAccess`: the
 * channel only shows messages; nobody in the channel can change anything through it (a custom
 * notification needs no permission to be rendered).
 */
import { aws_chatbot as chatbot, aws_iam as iam, type aws_kms as kms, aws_sns as sns } from "aws-cdk-lib";
import { Construct } from "constructs";
import type { ChatConfig } from "../functions/shared/config.js";

export interface ChatChannelProps {
  chat: ChatConfig;
  notificationKey: kms.IKey;
  /** `<stack name>-chat`, the channel configuration's name. */
  name: string;
}

export class ChatChannel extends Construct {
  readonly topic: sns.Topic;
  readonly role: iam.Role;
  readonly configuration:
    | chatbot.CfnSlackChannelConfiguration
    | chatbot.CfnMicrosoftTeamsChannelConfiguration;

  constructor(scope: Construct, id: string, props: ChatChannelProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Topic", {
      displayName: "kms-responder chat",
      masterKey: props.notificationKey,
      enforceSSL: true,
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("chatbot.amazonaws.com"),
      description: "kms-responder chat channel: shows messages, may do nothing",
    });
    const common = {
      configurationName: props.name,
      iamRoleArn: this.role.roleArn,
      snsTopicArns: [this.topic.topicArn],
      guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("ReadOnlyAccess").managedPolicyArn],
      loggingLevel: "ERROR",
      userRoleRequired: false,
    };
    const { slack, teams } = props.chat;
    if (slack) {
      this.configuration = new chatbot.CfnSlackChannelConfiguration(this, "Slack", {
        ...common,
        slackWorkspaceId: slack.workspaceId,
        slackChannelId: slack.channelId,
      });
    } else if (teams) {
      this.configuration = new chatbot.CfnMicrosoftTeamsChannelConfiguration(this, "Teams", {
        ...common,
        teamId: teams.teamId,
        teamsTenantId: teams.tenantId,
        teamsChannelId: teams.channelId,
      });
    } else {
      throw new Error('config chat: name "slack" or "teams"');
    }
  }

  /**
   * Only the responder roles publish (as on the main topic): a forged chat message saying
   * "remediated" would mislead on-call as much as a forged notification.
   */
  restrictPublishers(responderRoleArns: readonly string[]): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "RespondersPublish",
        principals: responderRoleArns.map((arn) => new iam.ArnPrincipal(arn)),
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "NoOtherPrincipalPublishes",
        effect: iam.Effect.DENY,
        principals: [new iam.StarPrincipal()],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: { ArnNotEquals: { "aws:PrincipalArn": [...responderRoleArns] } },
      }),
    );
  }
}
