/** The SSM client at module scope, used by the runbook only (who ran an automation execution). */
import { SSMClient } from "@aws-sdk/client-ssm";
import { RETRY } from "./retry.js";

export const ssm = new SSMClient(RETRY);
