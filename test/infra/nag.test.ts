/**
 * cdk-nag's AwsSolutions pack finds nothing unacknowledged, and every acknowledgement is one of
 * the few we mean, with its reason. cdk-nag 3 is a CDK policy-validation plugin: findings are not
 * annotations any more, so the test asks the pack directly (`validateScope`, its documented entry
 * point for tests) and also synthesizes the app with the plugin registered, as `cdk synth` does.
 */
import { App, Stack, Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, parseConfig } from "../../functions/shared/config.js";
import { ResponderStack } from "../../infra/stack.js";
import { type BuiltStack, buildStack, logicalId, stubDist } from "./stack-fixture.js";

let built: BuiltStack;
beforeAll(() => {
  built = buildStack();
});
afterAll(() => built.cleanup());

/** Every acknowledged finding of a stack, with the constructs it is acknowledged on (sorted). */
function acknowledgedIn(stack: BuiltStack): Record<string, string[]> {
  const acknowledged = new Map<string, Set<string>>();
  for (const construct of stack.stack.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        expect(reason.length, `reason for ${id}`).toBeGreaterThan(80);
        const rule = id.replace(/^annotation::/i, "");
        acknowledged.set(rule, (acknowledged.get(rule) ?? new Set()).add(construct.node.path));
      }
    }
  }
  return Object.fromEntries([...acknowledged].map(([rule, paths]) => [rule, [...paths].sort()]));
}

describe("cdk-nag AwsSolutions", () => {
  it("reports no error and no warning", () => {
    const { violations } = new AwsSolutionsChecks(built.app, { verbose: true }).validateScope(built.stack);
    expect(violations.filter((v) => v.severity === "error")).toEqual([]);
    expect(violations.filter((v) => v.severity === "warning")).toEqual([]);
    expect(violations).toEqual([]);
  });

  it("acknowledges exactly the intended findings, each with a reason", () => {
    expect(acknowledgedIn(built)).toEqual({
      // The failure queues are themselves dead-letter queues (the runbook, synchronous, has none).
      "AwsSolutions-SQS3": [
        "kms-responder/alias-changed/Failures",
        "kms-responder/custom-key-store-changed/Failures",
        "kms-responder/exemption-tampered/Failures",
        "kms-responder/key-deleted/Failures",
        "kms-responder/key-deletion-scheduled/Failures",
        "kms-responder/key-disabled/Failures",
        "kms-responder/key-material-deleted/Failures",
        "kms-responder/key-material-expiring/Failures",
        "kms-responder/key-material-imported/Failures",
        "kms-responder/key-policy-violation/Failures",
        "kms-responder/key-region-changed/Failures",
        "kms-responder/key-rotation-disabled/Failures",
        "kms-responder/key-rotation-weakened/Failures",
        "kms-responder/pending-deletion-key-used/Failures",
        "kms-responder/responder-tampered/Failures",
        "kms-responder/rogue-grant/Failures",
        "kms-responder/sweep/scan/Failures",
      ],
      // Every function role about keys reads them (at least DescribeKey, to name the key in
      // its notification) and so holds key/* (the runbook's too); the SSM documents' role may only
      // invoke the runbook function.
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]": [
        "kms-responder/alias-changed/Role",
        "kms-responder/exemption-tampered/Role",
        "kms-responder/key-deleted/Role",
        "kms-responder/key-deletion-scheduled/Role",
        "kms-responder/key-disabled/Role",
        "kms-responder/key-material-deleted/Role",
        "kms-responder/key-material-expiring/Role",
        "kms-responder/key-material-imported/Role",
        "kms-responder/key-policy-violation/Role",
        "kms-responder/key-region-changed/Role",
        "kms-responder/key-rotation-disabled/Role",
        "kms-responder/key-rotation-weakened/Role",
        "kms-responder/pending-deletion-key-used/Role",
        "kms-responder/rogue-grant/Role",
        "kms-responder/runbook/Role",
        "kms-responder/sweep/scan/Role",
      ],
      // The runbook reads the automation execution that invoked it (who started it); ids are per run.
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-execution/*]":
        ["kms-responder/runbook/Role"],
      // Read-only actions without resource-level permissions: kms:ListAliases (every function names
      // the key by its aliases in the notification) and cloudtrail:LookupEvents (restore after a
      // cancelled deletion, afterCancel restore by default).
      "AwsSolutions-IAM5[Resource::*]": [
        "kms-responder/alias-changed/Role",
        "kms-responder/exemption-tampered/Role",
        "kms-responder/key-deleted/Role",
        "kms-responder/key-deletion-scheduled/Role",
        "kms-responder/key-disabled/Role",
        "kms-responder/key-material-deleted/Role",
        "kms-responder/key-material-expiring/Role",
        "kms-responder/key-material-imported/Role",
        "kms-responder/key-policy-violation/Role",
        "kms-responder/key-region-changed/Role",
        "kms-responder/key-rotation-disabled/Role",
        "kms-responder/key-rotation-weakened/Role",
        "kms-responder/pending-deletion-key-used/Role",
        "kms-responder/rogue-grant/Role",
        "kms-responder/runbook/Role",
        "kms-responder/sweep/scan/Role",
      ],
      // The sweep's record of what it notified: one object per account and Region, in its own bucket.
      [`AwsSolutions-IAM5[Resource::<${logicalId(built.stack.sweep.bucket)}.Arn>/notified/*]`]: [
        "kms-responder/sweep/scan/Role",
      ],
      // The sweep's bucket: no server access logs of the stack's own reads.
      "AwsSolutions-S1": ["kms-responder/sweep/Bucket"],
    });
  });

  it("acknowledges only what a role derived from another config holds (every role reads aliases on *; with no CloudTrail read that is its only reason)", () => {
    const custom = buildStack({
      config: parseConfig({
        afterCancel: "keep-disabled",
        reenableDisabledKeys: true,
        onCritical: "remove-statements",
      }),
    });
    try {
      const { violations } = new AwsSolutionsChecks(custom.app).validateScope(custom.stack);
      expect(violations).toEqual([]);
      const acknowledged = acknowledgedIn(custom);
      const star = acknowledged["AwsSolutions-IAM5[Resource::*]"] ?? [];
      expect(star.length).toBeGreaterThan(0);
      expect(
        acknowledged[
          "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]"
        ],
      ).toContain("kms-responder/key-disabled/Role");
    } finally {
      custom.cleanup();
    }
  });

  it("is live: an unacknowledged finding is reported and fails the synth", () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, "bad");
    new sqs.Queue(stack, "NoDlq", { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    const { violations } = new AwsSolutionsChecks(app).validateScope(stack);
    expect(violations.map((v) => v.ruleName)).toEqual(["AwsSolutions-SQS3"]);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it("synthesizes with the plugin registered, as cdk synth does (built-in CloudFormation validation on)", () => {
    const dist = stubDist();
    try {
      const app = new App();
      new ResponderStack(app, "kms-responder", { config: DEFAULT_CONFIG, distDir: dist.dir });
      Validations.of(app).addPlugins(
        new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
      );
      expect(() => app.synth()).not.toThrow();
    } finally {
      dist.remove();
    }
  }, 60_000);
});
