/**
 * The Organizations call the key-policy responder makes once per cold start, when the config names
 * no organisation (organization.ts): loaded on demand, like every client but KMS and SNS.
 */
import { DescribeOrganizationCommand, OrganizationsClient } from "@aws-sdk/client-organizations";

/** The organisation id of the caller's account. Throws what Organizations throws. */
export async function describeOwnOrganization(): Promise<string | undefined> {
  const out = await new OrganizationsClient({ maxAttempts: 3 }).send(new DescribeOrganizationCommand({}));
  return out.Organization?.Id;
}
