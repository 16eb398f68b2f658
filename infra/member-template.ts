/**
 * The member template: what the central responder's StackSet (infra/organization.ts) deploys to
 * every account of the organisational units, in every configured Region. No Lambda code, no
 * assets, no bootstrap: a plain CloudFormation template.
 *
 *   member account, each Region:
 *     CloudTrail KMS event -> rule on the default bus (one per incident, the member role's own
 *       calls left out) -> central bus (through a role allowed only events:PutEvents on it)
 *   member account, each Region (but the central account's own): the heartbeat's canary key, a
 *     schedule touching it, and a rule forwarding that key's UpdateKeyDescription to the central bus
 *   member account, first Region only (IAM is global):
 *     role <memberRoleName>, trusted by exactly the central functions' roles, with the KMS actions
 *     the central functions use on this account's keys (never kms:*), and the read-only actions that
 *     have no resource ARN (CloudTrail history, key aliases) when the central functions use them
 *
 * Parameters (the StackSet passes them): the central bus ARN and the central roles' ARNs. The
 * forwarding rules are left out in the central account's own Region, where the central stack's
 * rules on the default bus already see the events (forwarding them too would deliver them twice).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  App,
  Aws,
  CfnCondition,
  CfnParameter,
  DefaultStackSynthesizer,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import type { Construct } from "constructs";
import { INCIDENTS } from "../functions/registry.js";
import type { Config } from "../functions/shared/config.js";
import { forwardingRules } from "../functions/shared/forwarding-rules.js";
import { HEARTBEAT_ROLE_PATH } from "../functions/shared/heartbeat.js";
import { RESPONDER_SOURCE_IDENTITY } from "../functions/shared/source-identity.js";
import { HEARTBEAT_DESCRIPTION, HEARTBEAT_RATE_MINUTES } from "./heartbeat.js";

/** How long EventBridge keeps retrying a delivery to the central bus (its maximum). */
const FORWARD_RETRY_ATTEMPTS = 185;
const FORWARD_MAX_EVENT_AGE_SECONDS = 24 * 3600;

export { type ForwardingRule, forwardingRules } from "../functions/shared/forwarding-rules.js";

export interface MemberPermissions {
  /** The KMS actions the central functions use on a member account's keys (the union). */
  kms: readonly string[];
  /**
   * Read-only actions without a resource ARN they use there (cloudtrail:LookupEvents for the
   * key's history, kms:ListAliases to name the key), granted on `*`.
   */
  resourceless: readonly string[];
}

/** What the member template is built from: the central stack computes it from the config. */
export interface MemberTemplateProps {
  readonly config: Config;
  readonly memberRoleName: string;
  /** The Region whose stack instance creates the member role (IAM is global): the first configured. */
  readonly roleRegion: string;
  readonly permissions: MemberPermissions;
}

export type MemberStackProps = MemberTemplateProps & StackProps;

export const MEMBER_TEMPLATE_DESCRIPTION =
  "kms-responder member: the member role and the rules forwarding KMS events to the central responder's bus";

/** Parameter names of the member template (the StackSet sets them). */
export const MEMBER_PARAMETERS = {
  centralBusArn: "CentralBusArn",
  centralRoleArns: "CentralRoleArns",
} as const;

export class MemberStack extends Stack {
  readonly memberRole: iam.CfnRole;
  readonly forwardingRole: iam.CfnRole;
  readonly rules: events.CfnRule[] = [];
  readonly canary: MemberCanary;

  constructor(scope: Construct, id: string, allProps: MemberStackProps) {
    const { config, memberRoleName, roleRegion, permissions, ...stackProps } = allProps;
    super(scope, id, {
      // No CDK bootstrap in member accounts: a StackSet deploys plain CloudFormation.
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      analyticsReporting: false,
      description: MEMBER_TEMPLATE_DESCRIPTION,
      ...stackProps,
    });
    const props = { config, memberRoleName, roleRegion, permissions };
    const busArn = new CfnParameter(this, MEMBER_PARAMETERS.centralBusArn, {
      type: "String",
      description: "The central responder's event bus (its stack's output OrganizationEventBusArn)",
      allowedPattern: "^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/.+$",
    });
    const centralRoles = new CfnParameter(this, MEMBER_PARAMETERS.centralRoleArns, {
      type: "CommaDelimitedList",
      description: "The central functions' role ARNs: the only principals the member role trusts",
    });

    const createsRole = new CfnCondition(this, "CreatesMemberRole", {
      expression: Fn.conditionEquals(Aws.REGION, props.roleRegion),
    });
    // The central account's own Region already has the central rules on its default bus.
    const busAccount = Fn.select(4, Fn.split(":", busArn.valueAsString));
    const busRegion = Fn.select(3, Fn.split(":", busArn.valueAsString));
    const forwards = new CfnCondition(this, "ForwardsToCentralBus", {
      expression: Fn.conditionNot(
        Fn.conditionAnd(
          Fn.conditionEquals(Aws.ACCOUNT_ID, busAccount),
          Fn.conditionEquals(Aws.REGION, busRegion),
        ),
      ),
    });

    const statements: Record<string, unknown>[] = [];
    if (props.permissions.kms.length) {
      statements.push({
        Sid: "ActOnThisAccountsKeys",
        Effect: "Allow",
        Action: [...props.permissions.kms],
        Resource: `arn:${Aws.PARTITION}:kms:*:${Aws.ACCOUNT_ID}:key/*`,
      });
    }
    if (props.permissions.resourceless.length) {
      statements.push({
        Sid: "ReadOnlyWithoutResourceArn",
        Effect: "Allow",
        Action: [...props.permissions.resourceless],
        Resource: "*",
      });
    }
    this.memberRole = new iam.CfnRole(this, "MemberRole", {
      roleName: props.memberRoleName,
      description: "kms-responder member role: the central responder acts on this account's keys through it",
      assumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: centralRoles.valueAsList },
            // The central responder marks its sessions with a SourceIdentity, which CloudTrail
            // records and the session cannot change: its loop prevention recognises exactly those.
            Action: ["sts:AssumeRole", "sts:SetSourceIdentity"],
            Condition: { StringEquals: { "sts:SourceIdentity": RESPONDER_SOURCE_IDENTITY } },
          },
        ],
      },
      // The central session ends with its invocation (60 s timeout): the minimum is plenty.
      maxSessionDuration: 3600,
      ...(statements.length && {
        policies: [
          {
            policyName: "kms-responder-member",
            policyDocument: { Version: "2012-10-17", Statement: statements },
          },
        ],
      }),
    });
    this.memberRole.cfnOptions.condition = createsRole;
    acknowledgeMemberRole(this.memberRole, props.permissions);

    this.forwardingRole = new iam.CfnRole(this, "ForwardingRole", {
      description: "kms-responder: EventBridge forwards KMS events to the central bus, nothing else",
      assumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
          },
        ],
      },
      policies: [
        {
          policyName: "put-events-on-the-central-bus",
          policyDocument: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "events:PutEvents", Resource: busArn.valueAsString }],
          },
        },
      ],
    });
    this.forwardingRole.cfnOptions.condition = forwards;

    const memberRoleArn = Fn.sub(
      `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${props.memberRoleName}`,
    );
    for (const rule of forwardingRules(props.config, memberRoleArn, INCIDENTS)) {
      const { source, "detail-type": detailType, detail } = rule.pattern;
      const cfnRule = new events.CfnRule(this, `${rule.incident}-forward`, {
        description: `kms-responder: forward ${rule.incident} events to the central bus`,
        eventPattern: { source, "detail-type": detailType, detail },
        state: rule.state,
        targets: [
          {
            id: "central-bus",
            arn: busArn.valueAsString,
            roleArn: this.forwardingRole.attrArn,
            retryPolicy: {
              maximumRetryAttempts: FORWARD_RETRY_ATTEMPTS,
              maximumEventAgeInSeconds: FORWARD_MAX_EVENT_AGE_SECONDS,
            },
          },
        ],
      });
      cfnRule.cfnOptions.condition = forwards;
      this.rules.push(cfnRule);
    }
    this.canary = memberCanary(this, busArn.valueAsString, this.forwardingRole, forwards);
  }
}

/** The member's heartbeat: its canary key, the schedule touching it, and the rule forwarding it. */
export interface MemberCanary {
  key: kms.CfnKey;
  schedule: scheduler.CfnSchedule;
  scheduleRole: iam.CfnRole;
  rule: events.CfnRule;
}

/**
 * The member's own canary path (the central stack's heartbeat, infra/heartbeat.ts, in every member
 * account and Region): a schedule touches a canary key of this account, the event travels this
 * Region's trail and default bus, and a rule forwards exactly that key's UpdateKeyDescription to the
 * central bus, where it is counted by account and Region. Left out where the forwarding is (the
 * central account's own Region has the central stack's canary).
 */
function memberCanary(
  stack: Stack,
  busArn: string,
  forwardingRole: iam.CfnRole,
  forwards: CfnCondition,
): MemberCanary {
  const key = new kms.CfnKey(stack, "CanaryKey", {
    description: HEARTBEAT_DESCRIPTION,
    enableKeyRotation: true,
    pendingWindowInDays: 7,
    keyPolicy: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministersTheCanary",
          Effect: "Allow",
          Principal: { AWS: `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root` },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    },
  });
  key.applyRemovalPolicy(RemovalPolicy.DESTROY);
  const scheduleRole = new iam.CfnRole(stack, "CanaryScheduleRole", {
    description: "kms-responder heartbeat: touch the canary key's description",
    // The central heartbeat rule counts only beats made by a role on this path.
    path: HEARTBEAT_ROLE_PATH,
    assumeRolePolicyDocument: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "scheduler.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
        },
      ],
    },
    policies: [
      {
        policyName: "touch-the-canary",
        policyDocument: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "kms:UpdateKeyDescription", Resource: key.attrArn }],
        },
      },
    ],
  });
  const schedule = new scheduler.CfnSchedule(stack, "CanarySchedule", {
    description: "kms-responder heartbeat: one recorded KMS write on this account's canary key",
    scheduleExpression: `rate(${HEARTBEAT_RATE_MINUTES} minutes)`,
    flexibleTimeWindow: { mode: "OFF" },
    target: {
      arn: "arn:aws:scheduler:::aws-sdk:kms:updateKeyDescription",
      roleArn: scheduleRole.attrArn,
      input: stack.toJsonString({ KeyId: key.attrArn, Description: HEARTBEAT_DESCRIPTION }),
    },
  });
  const rule = new events.CfnRule(stack, "CanaryForward", {
    description: "kms-responder heartbeat: forward this account's canary event to the central bus",
    eventPattern: {
      source: ["aws.kms"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["kms.amazonaws.com"],
        eventName: ["UpdateKeyDescription"],
        errorCode: [{ exists: false }],
        // The record's resources name the key by ARN however the caller named it: a touch by
        // anyone else (by key id) is forwarded too, and the central stack alarms on it.
        resources: { ARN: [key.attrArn] },
      },
    },
    state: "ENABLED",
    targets: [
      {
        id: "central-bus",
        arn: busArn,
        roleArn: forwardingRole.attrArn,
        retryPolicy: {
          maximumRetryAttempts: FORWARD_RETRY_ATTEMPTS,
          maximumEventAgeInSeconds: FORWARD_MAX_EVENT_AGE_SECONDS,
        },
      },
    ],
  });
  for (const resource of [key, scheduleRole, schedule, rule]) resource.cfnOptions.condition = forwards;
  return { key, schedule, scheduleRole, rule };
}

/** cdk-nag's findings on the member role, acknowledged with their reasons. */
export const MEMBER_KEY_WILDCARD_FINDING =
  "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:*:<AWS::AccountId>:key/*]";

function acknowledgeMemberRole(role: iam.CfnRole, permissions: MemberPermissions): void {
  if (permissions.kms.length) {
    Validations.of(role).acknowledge({
      id: MEMBER_KEY_WILDCARD_FINDING,
      reason:
        "The central responder acts on whichever customer managed key of this account a CloudTrail " +
        "event names, in any of the organisation's Regions, and keys are created at any time, so no " +
        "list of key ARNs exists at deploy time. Limited to this account's keys (key/*, no aliases), " +
        "to the actions the central functions use (never kms:*), and only the central roles may assume it.",
    });
  }
  if (permissions.resourceless.length) {
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        `${permissions.resourceless.join(", ")}: no resource-level permissions, so * is the only valid ` +
        "resource. Read-only: the central deletion handlers read the key's last DisableKey/EnableKey " +
        "in this account to restore its prior state, and notifications name the key by its aliases.",
    });
  }
}

/**
 * The member template as CloudFormation JSON, synthesized offline in an app of its own (a temporary
 * output directory, so a `cdk synth` in progress is not disturbed): the StackSet's TemplateBody.
 */
export function memberTemplate(props: MemberTemplateProps): Record<string, unknown> {
  const outdir = mkdtempSync(path.join(tmpdir(), "kms-responder-member-"));
  try {
    const app = new App({ outdir, analyticsReporting: false, builtinCloudFormationValidation: false });
    const stack = new MemberStack(app, "kms-responder-member", props);
    const assembly = app.synth({ validateOnSynthesis: false });
    return assembly.getStackByName(stack.stackName).template as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
