/** The SNS client at module scope (see clients/kms.ts). */
import { RETRY } from "./retry.js";
import { SNSClient } from "./sns-sdk.js";

export const sns = new SNSClient(RETRY);
