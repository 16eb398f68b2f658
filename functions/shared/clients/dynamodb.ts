/**
 * The DynamoDB client at module scope, used by the runbook only (an SSM Automation execution id is
 * claimed once, across every Lambda environment), loaded on demand with the one call made through it.
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { awsErrorName } from "../errors.js";
import { RETRY } from "./retry.js";

export const dynamodb = new DynamoDBClient(RETRY);

/** What is written with a claim: the id, when the item may expire, and what it was used for. */
export interface Claim {
  /** The table's partition key. */
  id: string;
  /** Epoch seconds: the table's TTL attribute. */
  expiresAt: number;
  /** Kept beside the id for whoever reads the table after an incident. */
  usedFor: string;
}

/**
 * Writes `claim` unless its id is in `table` already (a conditional PutItem): true when this call
 * claimed it, false when someone had. `client` for tests.
 * @throws what DynamoDB throws for anything else (the caller then refuses: it cannot know).
 */
export async function claimOnce(
  table: string,
  claim: Claim,
  client: DynamoDBClient = dynamodb,
): Promise<boolean> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          executionId: { S: claim.id },
          expiresAt: { N: String(claim.expiresAt) },
          usedFor: { S: claim.usedFor },
        },
        ConditionExpression: "attribute_not_exists(executionId)",
      }),
    );
    return true;
  } catch (error) {
    if (awsErrorName(error) === "ConditionalCheckFailedException") return false;
    throw error;
  }
}
