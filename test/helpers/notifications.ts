/** Reading what the SNS mock received: one decoder for every handler and runbook test. */
import { PublishCommand, type PublishCommandInput, type SNSClient } from "@aws-sdk/client-sns";
import type { AwsClientStub } from "aws-sdk-client-mock";

export interface Published {
  input: PublishCommandInput;
  subject: string;
  /** The readable text (`default`, identical to `email`). */
  text: string;
  /** The machine document (`sqs`, identical to `lambda` and `https`). */
  doc: {
    schema: string;
    incident: string;
    severity: string;
    reasons: string[];
    outcome: string;
    key: { arn?: string; id?: string };
    actions: Array<{ type: string; status: string; detail: string; verified?: boolean; error?: string }>;
    undo: string[];
    details: string[];
    request?: { at?: string; executedBy?: string; statedBy?: string; reason: string; ticket?: string };
    /** How the current state compared with the event's claim (`grant-gone`, `policy-differs`, ...). */
    verdicts?: string[];
    extra?: { findings?: Array<{ reason: string; severity: string }> };
  };
  attributes: Record<string, string | undefined>;
}

/** Every Publish the SNS mock received, decoded, oldest first. */
export function published(sns: AwsClientStub<SNSClient>): Published[] {
  return sns.commandCalls(PublishCommand).map(({ args: [{ input }] }) => {
    const message = JSON.parse(input.Message ?? "{}") as Record<string, string>;
    return {
      input,
      subject: input.Subject ?? "",
      text: message.default ?? "",
      doc: JSON.parse(message.sqs ?? "{}") as Published["doc"],
      attributes: Object.fromEntries(
        Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
      ),
    };
  });
}

/** The only notification published; fails the test when there is not exactly one. */
export function onlyNotification(sns: AwsClientStub<SNSClient>): Published {
  const all = published(sns);
  const [only] = all;
  if (!only || all.length !== 1) throw new Error(`expected exactly one Publish, got ${all.length}`);
  return only;
}
