/**
 * The Organizations calls the functions make: the key-policy responder's DescribeOrganization once
 * per cold start when the config names no organisation (organization.ts), and a central
 * responder's DescribeAccount for the name of an account its notifications name
 * (account-names.ts). Loaded on demand, like every client but KMS and SNS.
 */
import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";

let client: OrganizationsClient | undefined;
const organizations = () => {
  client ??= new OrganizationsClient({ maxAttempts: 3 });
  return client;
};

/** The organisation id of the caller's account. Throws what Organizations throws. */
export async function describeOwnOrganization(): Promise<string | undefined> {
  const out = await organizations().send(new DescribeOrganizationCommand({}));
  return out.Organization?.Id;
}

/** The name an account has in the organisation. Throws what Organizations throws. */
export async function describeAccountName(accountId: string): Promise<string | undefined> {
  const out = await organizations().send(new DescribeAccountCommand({ AccountId: accountId }));
  return out.Account?.Name;
}
