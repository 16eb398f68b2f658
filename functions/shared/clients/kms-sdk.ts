/**
 * The one module of the functions that imports values (the client class, the commands) from the
 * KMS SDK package; every other module imports them from here, and may import the SDK's types from
 * the package itself. An architecture test keeps it so.
 *
 * Why: the package is CommonJS. A bundle turns a CommonJS package's exports (some 370 names for
 * KMS) into an ES module once per module that imports it, at every cold start: eleven modules
 * importing it directly cost a function about 5 ms of CPU before it ran anything. Through this
 * module it is done once, as for a program that only creates the client. Nothing here runs at
 * import: the client itself is made in ./kms.ts.
 */
export {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-kms";
