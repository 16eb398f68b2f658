/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`). Context:
 * - `config`: the config file (default `kms-responder.config.json` if present, else the defaults);
 * - `distDir`: where `npm run build` wrote the bundles (default `dist`);
 * - `reservedConcurrency=off`: for accounts whose concurrency limit leaves nothing to reserve;
 * - `stackSetCallAs`: with an `organization` block, `DELEGATED_ADMIN` (default, the central stack in
 *   a delegated administrator account) or `SELF` (in the management account).
 * With an `organization` block the app also synthesizes the member template as the stack
 * `kms-responder-member` (the StackSet embeds the same template): deploy it as a plain stack
 * where the StackSet never reaches (the management account, docs/organization.md). Deploy the
 * central stack by name then: `cdk deploy kms-responder`.
 * cdk-nag's AwsSolutions checks run on every synth: an unacknowledged finding fails it.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { describeError } from "../functions/shared/errors.js";
import { loadConfig } from "./config-file.js";
import { MemberStack } from "./member-template.js";
import type { StackSetCallAs } from "./organization.js";
import { ResponderStack } from "./stack.js";

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === "" ? undefined : String(value);
};

try {
  const { config, source } = loadConfig(context("config"));
  const callAs = context("stackSetCallAs");
  if (callAs !== undefined && callAs !== "SELF" && callAs !== "DELEGATED_ADMIN") {
    throw new Error(`stackSetCallAs must be SELF or DELEGATED_ADMIN (got ${callAs})`);
  }
  const central = new ResponderStack(app, "kms-responder", {
    description: `kms-responder: event-driven incident response for AWS KMS (config: ${source})`,
    config,
    distDir: context("distDir") ?? "dist",
    reservedConcurrency: !["off", "false"].includes(context("reservedConcurrency") ?? ""),
    ...(callAs !== undefined && { stackSetCallAs: callAs satisfies StackSetCallAs }),
  });
  if (central.organization) {
    new MemberStack(app, "kms-responder-member", central.organization.memberProps);
  }
  // cdk-nag 3 is a policy-validation plugin (not an Aspect): violations fail the synth, and
  // acknowledgements are written to the template's Metadata (`cdk_nag`) as an audit trail.
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
  app.synth();
} catch (error) {
  // A bad config or a missing bundle: say what is wrong, without a stack trace.
  console.error(`kms-responder: ${describeError(error)}`);
  process.exit(1);
}
