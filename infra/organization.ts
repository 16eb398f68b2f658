/**
 * The central responder's organisation wiring (only with `organization` in the config):
 *
 *   member account, any configured Region: KMS event -> forwarding rule (member template)
 *     -> central bus (policy: events:PutEvents from the organisation only)
 *     -> the incident rules on it (the same patterns as on the default bus) -> the same functions
 *   function -> sts:AssumeRole <memberRoleName> in the key's account (inside the organisation)
 *     -> KMS in the key's Region
 *   CloudFormation StackSet (service-managed, auto-deployment) -> the member template in every
 *     account of the units, in every configured Region
 *
 * The central account's own keys are reached with the functions' own roles, in every configured
 * Region (the stack's rules see its home Region; its other Regions forward like a member's).
 */
import { CfnOutput, CfnStackSet, Fn, Stack, Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct, type IConstruct } from "constructs";
import type { Config } from "../functions/shared/config.js";
import type { RolePermissions } from "../functions/shared/permissions.js";
import { ASSUME_MEMBER_ROLE, DESCRIBE_ACCOUNT, isRepairAction } from "../functions/shared/permissions.js";
import {
  MEMBER_PARAMETERS,
  type MemberPermissions,
  type MemberTemplateProps,
  memberTemplate,
} from "./member-template.js";

export type Organization = NonNullable<Config["organization"]>;

/** Who creates the StackSet: the management account (`SELF`) or a delegated administrator. */
export type StackSetCallAs = "SELF" | "DELEGATED_ADMIN";

/**
 * The key ARNs a central function's own role acts on: its own account's keys in the stack's
 * Region and in every configured Region (keys of other accounts go through the member role).
 */
export function centralKeyResources(stack: Stack, organization: Organization | undefined): string[] {
  const here = stack.formatArn({ service: "kms", resource: "key", resourceName: "*" });
  if (!organization) return [here];
  const others = organization.regions.map((region) =>
    stack.formatArn({ service: "kms", region, resource: "key", resourceName: "*" }),
  );
  return [here, ...others];
}

/**
 * `sts:AssumeRole` on the member role name in any account, only when the role belongs to the
 * organisation (`aws:ResourceOrgID`): a look-alike role in an outside account cannot be used.
 */
export function assumeMemberRoleStatement(stack: Stack, organization: Organization): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "AssumeTheMemberRole",
    // SetSourceIdentity: the member role's trust requires the responder's SourceIdentity.
    actions: [ASSUME_MEMBER_ROLE, "sts:SetSourceIdentity"],
    resources: [memberRoleArnPattern(stack, organization)],
    conditions: { StringEquals: { "aws:ResourceOrgID": organization.id } },
  });
}

/** The organisation's accounts, as Organizations names them (any management account id). */
function organizationAccountsPattern(stack: Stack, organization: Organization): string {
  return `arn:${stack.partition}:organizations::*:account/${organization.id}/*`;
}

/**
 * `organizations:DescribeAccount` on the organisation's accounts only: a central function names
 * the account it notifies about (its name in the organisation).
 */
export function describeAccountStatement(stack: Stack, organization: Organization): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "NameTheOrganisationsAccounts",
    actions: [DESCRIBE_ACCOUNT],
    resources: [organizationAccountsPattern(stack, organization)],
  });
}

/** Acknowledges the wildcard of describeAccountStatement, with its reason. */
export function acknowledgeDescribeAccount(role: IConstruct, organization: Organization): void {
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:account/${organization.id}/*]`,
    reason:
      "A central responder names the account of whichever key a KMS event comes from, and accounts " +
      "join the organisation at any time, so no list of account ids exists at deploy time. Read-only " +
      "(organizations:DescribeAccount), limited to the accounts of the configured organisation.",
  });
}

function memberRoleArnPattern(stack: Stack, organization: Organization): string {
  return `arn:${stack.partition}:iam::*:role/${organization.memberRoleName}`;
}

/**
 * The union of what the central functions do to keys: the member role's permissions (naming
 * accounts is the central account's business, not the member role's).
 */
export function memberPermissionsOf(roles: readonly RolePermissions[]): MemberPermissions {
  const kms = [...new Set(roles.flatMap((r) => r.kms))].sort();
  // Only the read-only actions without a resource ARN: a repair of the responder's own resources
  // (its rules, trail, functions) is the central account's, never a member's.
  const resourceless = [...new Set(roles.flatMap((r) => r.other))]
    .filter((a) => a !== ASSUME_MEMBER_ROLE && a !== DESCRIBE_ACCOUNT && !isRepairAction(a))
    .sort();
  return { kms, resourceless };
}

export interface CentralOrganizationProps {
  readonly organization: Organization;
  readonly config: Config;
  /** The functions' roles that may assume the member role: the member role trusts exactly these. */
  readonly assumers: readonly iam.IRole[];
  readonly memberPermissions: MemberPermissions;
  /** Default `DELEGATED_ADMIN`: the central stack lives in a security account, not the management account. */
  readonly callAs?: StackSetCallAs;
}

export class CentralOrganization extends Construct {
  readonly bus: events.EventBus;
  readonly stackSet: CfnStackSet;
  /** The member template the StackSet deploys (also what to deploy as a plain stack in the management account). */
  readonly memberTemplate: Record<string, unknown>;
  /** What the member template is built from (the app also synthesizes it as a stack of its own). */
  readonly memberProps: MemberTemplateProps;

  constructor(scope: Construct, id: string, props: CentralOrganizationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { organization } = props;

    // The policy sits on the bus itself (one resource, no separate EventBusPolicy): a fixed name
    // lets it name its own ARN without referring to its own attributes.
    const busName = `${stack.stackName}-organization`;
    this.bus = new events.EventBus(this, "Bus", {
      eventBusName: busName,
      description: "kms-responder: KMS events the organisation's accounts forward",
    });
    (this.bus.node.defaultChild as events.CfnEventBus).policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OrganizationForwardsKmsEvents",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "events:PutEvents",
          Resource: stack.formatArn({ service: "events", resource: "event-bus", resourceName: busName }),
          Condition: { StringEquals: { "aws:PrincipalOrgID": organization.id } },
        },
      ],
    };

    const [roleRegion] = organization.regions;
    if (roleRegion === undefined) throw new Error("organization.regions is empty");
    this.memberProps = {
      config: props.config,
      memberRoleName: organization.memberRoleName,
      roleRegion,
      permissions: props.memberPermissions,
    };
    this.memberTemplate = memberTemplate(this.memberProps);
    const body = JSON.stringify(this.memberTemplate);
    if (body.length > TEMPLATE_BODY_LIMIT) {
      throw new Error(
        `the member template is ${body.length} bytes, over the StackSet's ${TEMPLATE_BODY_LIMIT}`,
      );
    }
    if (props.assumers.length === 0) {
      throw new Error("no central function acts on keys: the member role would trust nobody");
    }

    this.stackSet = new CfnStackSet(this, "MemberStackSet", {
      stackSetName: `${stack.stackName}-member`,
      description:
        "kms-responder member: the member role and the rules forwarding KMS events to the central bus",
      permissionModel: "SERVICE_MANAGED",
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: props.callAs ?? "DELEGATED_ADMIN",
      // The member role has a fixed name (the central functions assume it by name).
      capabilities: ["CAPABILITY_NAMED_IAM"],
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: "PARALLEL",
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      parameters: [
        { parameterKey: MEMBER_PARAMETERS.centralBusArn, parameterValue: this.bus.eventBusArn },
        {
          parameterKey: MEMBER_PARAMETERS.centralRoleArns,
          parameterValue: Fn.join(
            ",",
            props.assumers.map((r) => r.roleArn),
          ),
        },
      ],
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...organization.organizationalUnitIds] },
          regions: [...organization.regions],
        },
      ],
      templateBody: body,
    });

    new CfnOutput(stack, "OrganizationEventBusArn", {
      value: this.bus.eventBusArn,
      description: "Member accounts forward KMS events here (the member template's CentralBusArn)",
    });
    new CfnOutput(stack, "MemberStackSetName", {
      value: `${stack.stackName}-member`,
      description: "The service-managed StackSet of the member template",
    });
  }
}

/** CloudFormation's limit on an inline TemplateBody. */
const TEMPLATE_BODY_LIMIT = 51_200;

/**
 * Acknowledges a central function role's wildcard findings: the member role name in any account
 * of the organisation, and the central account's keys in the other configured Regions.
 */
export function acknowledgeCentralRole(role: IConstruct, stack: Stack, organization: Organization): void {
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${organization.memberRoleName}]`,
    reason:
      "A central responder acts on keys in whichever account of the organisation a KMS event comes " +
      "from, and accounts join at any time, so no list of account ids exists at deploy time. Limited " +
      "to the one member role name, and by aws:ResourceOrgID to roles inside the organisation.",
  });
  for (const region of organization.regions) {
    if (region === stack.region) continue;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:<AWS::AccountId>:key/*]`,
      reason:
        "The central account's own keys in another configured Region: the function acts on whichever " +
        "customer managed key a KMS event names, and keys are created at any time. Limited to this " +
        "account's keys (key/*, no aliases) and to the actions this function needs (never kms:*).",
    });
  }
}
