/** The SNS client at module scope (see clients/kms.ts). */
import { SNSClient } from "@aws-sdk/client-sns";
import { RETRY } from "./retry.js";

export const sns = new SNSClient(RETRY);
