/** The one structured logger (Powertools). Handlers append eventId, keyArn and incident per invocation. */
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: "kms-responder" });
