/**
 * The one module of the functions that imports values from the SNS SDK package (see ./kms-sdk.ts
 * for why): every other module imports the client class and the commands from here.
 */
export { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
