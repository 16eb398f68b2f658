/**
 * The statements every responder role ends with, as the template must hold them: publish to the
 * topic, encrypt with the notification key, repair that key (and nothing else on it: the Deny),
 * and write its own logs. Written out here, not derived from infra/ code.
 */
import type { IConstruct } from "constructs";
import type { ResponderStack } from "../../infra/stack.js";
import { getAtt, ref } from "./stack-fixture.js";

export function responderRoleStatements(stack: ResponderStack, logGroup: IConstruct): unknown[] {
  const key = getAtt(stack.notificationKey);
  return [
    { Sid: "Notify", Effect: "Allow", Action: "sns:Publish", Resource: ref(stack.topic) },
    {
      Sid: "EncryptNotifications",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: key,
    },
    {
      Sid: "RepairTheNotificationKey",
      Effect: "Allow",
      Action: ["kms:DescribeKey", "kms:EnableKey", "kms:CancelKeyDeletion"],
      Resource: key,
    },
    {
      Sid: "NeverChangeTheNotificationKey",
      Effect: "Deny",
      Action: [
        "kms:DisableKey",
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "kms:CreateGrant",
        "kms:RevokeGrant",
        "kms:RetireGrant",
        "kms:DisableKeyRotation",
        "kms:EnableKeyRotation",
        "kms:DeleteImportedKeyMaterial",
      ],
      Resource: key,
    },
    {
      Sid: "WriteLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: getAtt(logGroup),
    },
  ];
}
