/**
 * The kms-responder stack, as a wiring diagram:
 *
 *   CloudTrail KMS event -> rule (one per incident) -> function -> KMS actions
 *                                |                        |-> SNS topic (encrypted, own key)
 *                                '-> failure queue <------'   (delivery / invocation failures)
 *   function errors, throttles, failure queue depth -> alarms -> SNS topic
 *
 *   on-call -> SSM Automation document (one per action) -> runbook function -> KMS actions, SNS
 *   on-call -> kms-responder run / aws lambda invoke ------^   (synchronous: no rule, no queue)
 *
 * With `organization` in the config it is a central responder (infra/organization.ts): the same
 * rules also on an organisation event bus that member accounts forward to, the functions assume
 * the member role in the key's account, and a StackSet deploys the member template.
 *
 * Env-agnostic: no lookups, synthesizes offline.
 */
import {
  ArnFormat,
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { INCIDENTS, type IncidentName } from "../functions/registry.js";
import type { RunbookAction } from "../functions/runbook/payload.js";
import { approvalDocumentName } from "../functions/shared/approval.js";
import { approvingIncidents, type ChatConfig, type Config, parseConfig } from "../functions/shared/config.js";
import { incidentMode } from "../functions/shared/decision.js";
import { ALL_MANAGEMENT_EVENTS, type Incident } from "../functions/shared/incident.js";
import {
  ASSUME_MEMBER_ROLE,
  DESCRIBE_ACCOUNT,
  isRepairAction,
  RESOURCELESS_READS,
  type RolePermissions,
  rolePermissions,
} from "../functions/shared/permissions.js";
import { notByResponder } from "../functions/shared/rule.js";
import { ChatChannel } from "./chat.js";
import { Heartbeat } from "./heartbeat.js";
import { nodeOptionsEnvironment } from "./node-options.js";
import { Observability } from "./observability.js";
import {
  acknowledgeCentralRole,
  acknowledgeDescribeAccount,
  assumeMemberRoleStatement,
  CentralOrganization,
  centralKeyResources,
  describeAccountStatement,
  memberPermissionsOf,
  type Organization,
  type StackSetCallAs,
} from "./organization.js";
import { ResponderFunction } from "./responder-function.js";
import {
  claimExecutionStatement,
  RUNBOOK_RESERVED_CONCURRENCY,
  RunbookAutomation,
  runbookDocumentPrefix,
  runbookExecutionsTable,
  runbookPermissions,
} from "./runbook.js";
import { ScheduledScan } from "./scan.js";
import {
  suppressAutomationExecutionRead,
  suppressKeyWildcard,
  suppressResourcelessReads,
  suppressRunbookKeyWildcard,
} from "./suppressions.js";

export interface ResponderStackProps extends StackProps {
  /** The validated config; the stack adds its role ARNs and notification key before passing it on. */
  readonly config: Config;
  /** Where `npm run build` wrote `<function>/index.mjs` (default `dist`). */
  readonly distDir?: string;
  /**
   * Reserve the concurrency each incident declares (default true). Turn it off in accounts whose
   * concurrency limit is too low to reserve any (new accounts can start at 10).
   */
  readonly reservedConcurrency?: boolean;
  /**
   * With `organization`: who creates the member StackSet (default `DELEGATED_ADMIN`, the central
   * stack in a delegated administrator account; `SELF` in the management account).
   */
  readonly stackSetCallAs?: StackSetCallAs;
}

/** EventBridge's maximum retry budget for delivering to a target: late is better than lost. */
const TARGET_RETRY_ATTEMPTS = 185;
const TARGET_MAX_EVENT_AGE = Duration.hours(24);

export class ResponderStack extends Stack {
  readonly notificationKey: kms.Key;
  readonly topic: sns.Topic;
  readonly responders = new Map<IncidentName, ResponderFunction>();
  readonly rules = new Map<IncidentName, events.Rule>();
  /** The runbook function (`<stack name>-runbook`), invoked synchronously by people. */
  readonly runbook: ResponderFunction;
  /** The SSM Automation execution ids the runbook has used (each proves one request). */
  readonly runbookExecutions: dynamodb.Table;
  /** The SSM Automation documents that invoke it, and the role they run as. */
  readonly runbookAutomation: RunbookAutomation;
  /** The organisation bus and the member StackSet (central responder only). */
  readonly organization: CentralOrganization | undefined;
  /** The incident rules on the organisation bus (central responder only). */
  readonly organizationRules = new Map<IncidentName, events.Rule>();
  /** The dashboard, the failed-actions alarm and (when on) the Security Hub permission. */
  readonly observability: Observability;
  /** The scheduled sweep of every key's state (infra/scan.ts). */
  readonly sweep: ScheduledScan;
  /** The chat topic and channel configuration (config `chat` only). */
  readonly chat: ChatChannel | undefined;
  /** The canary key, its schedule and rule, and the alarm when the heartbeat stops. */
  readonly heartbeat: Heartbeat;

  constructor(scope: Construct, id: string, given: ResponderStackProps) {
    super(scope, id, given);
    // The config checked against the registry at synth: the one place that sees every incident's
    // options before they are deployed (an incident's Lambda checks only its own).
    const props = { ...given, config: parseConfig(given.config, "config", INCIDENTS) };
    const distDir = props.distDir ?? "dist";

    // Notifications: one topic, encrypted with a key of its own that the responders only ever
    // repair. An explicit (empty) policy replaces CDK's default root `kms:*`: the statements are
    // added by notificationKeyPolicy once the responder roles exist.
    this.notificationKey = new kms.Key(this, "NotificationKey", {
      description: "kms-responder: encrypts the notification topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(30),
      policy: new iam.PolicyDocument(),
    });
    this.topic = new sns.Topic(this, "Notifications", {
      displayName: "kms-responder",
      masterKey: this.notificationKey,
      enforceSSL: true,
    });

    // One function per incident of the registry, each with the role its declaration derives under
    // this config (its reads and the executors it can plan; nothing mutating in notify mode).
    // A central responder's own roles act on its own account's keys in every configured Region.
    const org = props.config.organization;
    const keys = centralKeyResources(this, org);
    const memberRoles: RolePermissions[] = [];
    const assumers: iam.IRole[] = [];
    this.addIncidentResponders(props, distDir, keys, { memberRoles, assumers });

    // The runbook: the same construct, invoked synchronously by people (CLI, SSM), so no rule and
    // no failure queue. Its name is fixed so the CLI finds it (`kms-responder-runbook` by default).
    // The runbook acts on member keys through the member role too (functions/runbook/run.ts).
    const runbookPermission = withMemberRole(runbookPermissions(props.config), props.config);
    this.runbookExecutions = runbookExecutionsTable(this);
    this.runbook = new ResponderFunction(this, "runbook", {
      name: "runbook",
      functionName: `${this.stackName}-runbook`,
      distDir,
      topic: this.topic,
      notificationKey: this.notificationKey,
      statements: [
        ...runbookStatements(this, runbookPermission, keys, org),
        claimExecutionStatement(this.runbookExecutions),
      ],
      invocation: "request-response",
      ...(props.reservedConcurrency !== false && { reservedConcurrency: RUNBOOK_RESERVED_CONCURRENCY }),
    });
    acknowledgeWildcards(this.runbook.role, runbookPermission, suppressRunbookKeyWildcard);
    if (org && runbookPermission.other.includes(DESCRIBE_ACCOUNT))
      acknowledgeDescribeAccount(this.runbook.role, org);
    if (org && runbookPermission.other.includes(ASSUME_MEMBER_ROLE)) {
      memberRoles.push(runbookPermission);
      assumers.push(this.runbook.role);
      acknowledgeCentralRole(this.runbook.role, this, org);
    }
    suppressAutomationExecutionRead(this.runbook.role);
    this.runbookAutomation = new RunbookAutomation(this, "runbook-automation", {
      function: this.runbook.function,
      namePrefix: this.stackName,
      invokers: props.config.runbookInvokers,
      approval: approvingIncidents(props.config.incidents).length ? props.config.approval : undefined,
    });
    this.approvalWiring(props.config);
    // The function trusts who ran an automation execution only when it ran one of these documents.
    this.runbook.function.addEnvironment("RUNBOOK_DOCUMENT_PREFIX", runbookDocumentPrefix(this.stackName));
    // An execution proves one request: its id is claimed in this table, across every environment.
    this.runbook.function.addEnvironment("RUNBOOK_EXECUTIONS_TABLE", this.runbookExecutions.tableName);

    // The scheduled sweep: what is exposed now, judged by the incidents' own rules.
    this.sweep = new ScheduledScan(this, "sweep", {
      config: props.config,
      distDir,
      topic: this.topic,
      notificationKey: this.notificationKey,
      keys,
    });
    if (org) {
      memberRoles.push(this.sweep.permissions);
      assumers.push(this.sweep.function.role);
      acknowledgeCentralRole(this.sweep.function.role, this, org);
    }

    // Every function knows every responder role (loop prevention: the rules and the handlers ignore
    // the runbook's calls too, it notifies itself) and the key it must not touch.
    const functions = [...this.responders.values(), this.runbook, this.sweep.function];
    const roleArns = functions.map((r) => r.role.roleArn);
    for (const statement of notificationKeyPolicy(this, roleArns, props.config.notificationKeyAdmins)) {
      this.notificationKey.addToResourcePolicy(statement);
    }
    for (const statement of topicPublishers(this, this.topic, roleArns)) {
      this.topic.addToResourcePolicy(statement);
    }
    this.chat = props.config.chat ? this.chatChannel(props.config.chat, functions, roleArns) : undefined;
    const deployment = deploymentRoleArn(this);
    const config = {
      ...props.config,
      // The heartbeat's member accounts are the stack's alone (its alarms): no function reads them,
      // and a long list would crowd the functions' 4 KB environment.
      organization: withoutHeartbeatAccounts(props.config.organization),
      responderRoleArns: [...props.config.responderRoleArns, ...roleArns],
      ignoredKeys: [...props.config.ignoredKeys, this.notificationKey.keyArn],
      // The one key the responders repair (never change otherwise): a disabled notification key
      // silences every notification and alarm.
      notificationKeyArn: this.notificationKey.keyArn,
      // What is the stack's own (responder-tampered): CloudFormation names the functions, rules,
      // roles and topic `<stack>-<logical id>-<suffix>`, and deploys as its execution role.
      resourcePrefix: `${this.stackName}-`,
      deploymentRoleArns: [
        ...props.config.deploymentRoleArns,
        ...(deployment === undefined ? [] : [deployment]),
      ],
    };
    checkEnvironmentSize(config);
    const configJson = this.toJsonString(withoutDefaults(config, DEFAULTS));
    for (const responder of functions) {
      responder.function.addEnvironment("KMS_RESPONDER_CONFIG", configJson);
    }

    // A central responder: the organisation bus, and the StackSet of the member template whose
    // role trusts exactly the functions that assume it, with the union of what they do to keys.
    this.organization = org
      ? new CentralOrganization(this, "organization", {
          organization: org,
          config: props.config,
          assumers,
          memberPermissions: memberPermissionsOf(memberRoles),
          ...(props.stackSetCallAs && { callAs: props.stackSetCallAs }),
        })
      : undefined;

    this.sweep.schedule(props.config);

    // One rule per incident, with the pattern its declaration gives (the responder roles' calls
    // left out); failed deliveries land in the function's failure queue. A central responder has
    // the same rules on the organisation bus (member accounts' events; the forwarding rules there
    // already left out the member role's own calls).
    const own = notByResponder(roleArns);
    for (const incident of INCIDENTS) {
      const declared: Incident = incident;
      const responder = this.responders.get(incident.name);
      if (!responder) throw new Error(`no function for ${declared.name}`);
      this.rules.set(incident.name, this.incidentRule(declared, responder, own, props.config));
      if (this.organization) {
        this.organizationRules.set(
          incident.name,
          this.incidentRule(declared, responder, own, props.config, this.organization.bus),
        );
      }
    }

    this.declareReadOnlyRules(props.config);

    // What the functions did, where people look: a dashboard of findings, actions and remediation
    // latency per incident, an alarm on the first failed action (to the topic), and the Security
    // Hub import permission when the config turns findings on there.
    this.observability = new Observability(this, "observability", {
      topic: this.topic,
      functions: new Map([
        ...[...this.responders].map(([name, r]) => [name, r.function] as const),
        ["runbook", this.runbook.function] as const,
      ]),
      config: props.config,
    });

    // Proof that a KMS call still reaches the rules: a schedule touches a canary key, its event
    // is counted, and an alarm tells the topic when the count stops (infra/heartbeat.ts).
    this.heartbeat = new Heartbeat(this, "heartbeat", { topic: this.topic });
    watchMembers(this.heartbeat, this.organization, org);

    new CfnOutput(this, "NotificationTopicArn", {
      value: this.topic.topicArn,
      description: "Subscribe responders here (email, chat, paging)",
    });
    new CfnOutput(this, "NotificationKeyArn", { value: this.notificationKey.keyArn });
    new CfnOutput(this, "RunbookFunctionName", {
      value: this.runbook.function.functionName,
      description: "kms-responder run --function-name (the default when the stack is named kms-responder)",
    });
    new CfnOutput(this, "RunbookFunctionArn", { value: this.runbook.function.functionArn });
    new CfnOutput(this, "RunbookAutomationRoleArn", {
      value: this.runbookAutomation.role.roleArn,
      description: "The SSM documents' default AutomationAssumeRole: on-call needs iam:PassRole on it",
    });
  }

  /**
   * One function per incident of the registry, each with the role its declaration derives under
   * the config; the roles that assume the member role are added to `central`.
   */
  private addIncidentResponders(
    props: ResponderStackProps,
    distDir: string,
    keys: ReturnType<typeof centralKeyResources>,
    central: { memberRoles: RolePermissions[]; assumers: iam.IRole[] },
  ): void {
    const org = props.config.organization;
    for (const incident of INCIDENTS) {
      const declared: Incident = incident;
      const permissions = rolePermissions(declared, props.config);
      // A switched-off incident keeps its function (turning it back on is a config change, not a
      // new resource) but reserves no concurrency: its rule is disabled below.
      const off = incidentMode(props.config, declared.name) === "off";
      const reserved = props.reservedConcurrency !== false && !off ? declared.reservedConcurrency : undefined;
      const responder = new ResponderFunction(this, declared.name, {
        name: declared.name,
        distDir,
        topic: this.topic,
        notificationKey: this.notificationKey,
        statements: [
          ...roleStatements(this, withoutRepairs(permissions), keys, "IncidentActions", org),
          ...repairStatements(this, permissions, repairTrails(declared, props.config)),
        ],
        ...(reserved !== undefined && { reservedConcurrency: reserved }),
      });
      acknowledgeWildcards(responder.role, permissions, suppressKeyWildcard);
      if (props.config.securityHub && declared.closesKeyFindings && !off)
        responder.role.addToPrincipalPolicy(closeFindingsStatement(this));
      if (org && permissions.other.includes(DESCRIBE_ACCOUNT))
        acknowledgeDescribeAccount(responder.role, org);
      acknowledgeRepairs(responder.role, this, permissions, repairTrails(declared, props.config));
      if (org && permissions.other.includes(ASSUME_MEMBER_ROLE)) {
        central.memberRoles.push(permissions);
        central.assumers.push(responder.role);
        acknowledgeCentralRole(responder.role, this, org);
      }
      this.responders.set(incident.name, responder);
    }
  }

  /**
   * Approval mode: each approving incident's function may start exactly the approval documents of
   * its own actions (and pass the automation role they run as); a rejected, timed-out or cancelled
   * approval reaches the topic through an EventBridge rule on the executions' status changes (no
   * code: the rule's input transformer writes the message).
   */
  private approvalWiring(config: Config): void {
    const approving = approvingIncidents(config.incidents);
    const documents = this.runbookAutomation.approvalDocuments;
    if (approving.length === 0 || documents.size === 0) return;
    for (const incident of INCIDENTS) {
      const responder = this.responders.get(incident.name);
      if (!responder || !approving.includes(incident.name)) continue;
      const declared: Incident = incident;
      const names = [...new Set(declared.plans(config))]
        .filter((type): type is RunbookAction => documents.has(type as RunbookAction))
        .map((type) => approvalDocumentName(this.stackName, type));
      responder.function.addEnvironment("APPROVAL_STACK_NAME", this.stackName);
      if (names.length === 0) continue;
      responder.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "RequestApproval",
          actions: ["ssm:StartAutomationExecution"],
          resources: names.map((name) =>
            this.formatArn({
              service: "ssm",
              resource: "automation-definition",
              resourceName: `${name}:$DEFAULT`,
            }),
          ),
        }),
      );
      responder.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "PassTheAutomationRole",
          actions: ["iam:PassRole"],
          resources: [this.runbookAutomation.role.roleArn],
          conditions: { StringEquals: { "iam:PassedToService": "ssm.amazonaws.com" } },
        }),
      );
    }
    this.approvalEndedRule([...documents.keys()].map((a) => approvalDocumentName(this.stackName, a)));
  }

  /** Rejected, timed out or cancelled approvals: a plain-text message on the topic. */
  private approvalEndedRule(documentNames: readonly string[]): void {
    const rule = new events.Rule(this, "ApprovalEnded", {
      description: "kms-responder: an approval request was rejected, timed out or cancelled",
      eventPattern: {
        source: ["aws.ssm"],
        detailType: ["EC2 Automation Execution Status-change Notification"],
        detail: { Definition: [...documentNames], Status: ["Rejected", "Failed", "TimedOut", "Cancelled"] },
      },
    });
    const detail = (field: string) => events.EventField.fromPath(`$.detail.${field}`);
    rule.addTarget(
      new targets.SnsTopic(this.topic, {
        message: events.RuleTargetInput.fromText(
          `kms-responder: approval request ${detail("ExecutionId")} (${detail("Definition")}) ended ${detail("Status")}: nothing was changed. Rejected or not answered in time; run the action with the runbook if it is still needed.`,
        ),
      }),
    );
    this.notificationKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "ApprovalRulePublishesToTheEncryptedTopic",
        principals: [new iam.ServicePrincipal("events.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: { StringEquals: { "aws:SourceAccount": this.account } },
      }),
    );
  }

  /** The chat topic and channel; every function publishes the chat message there too. */
  private chatChannel(
    chat: ChatConfig,
    functions: readonly ResponderFunction[],
    roleArns: readonly string[],
  ): ChatChannel {
    const channel = new ChatChannel(this, "chat", {
      chat,
      notificationKey: this.notificationKey,
      name: `${this.stackName}-chat`,
    });
    channel.restrictPublishers(roleArns);
    for (const responder of functions) {
      responder.function.addEnvironment("CHAT_TOPIC_ARN", channel.topic.topicArn);
      responder.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "NotifyChat",
          actions: ["sns:Publish"],
          resources: [channel.topic.topicArn],
        }),
      );
    }
    new CfnOutput(this, "ChatTopicArn", {
      value: channel.topic.topicArn,
      description: "The chat channel's topic (Amazon Q Developer in chat applications' message schema)",
    });
    return channel;
  }

  /** An incident's rule on the default bus (or `bus`), targeting its function. */
  /**
   * A function that may re-enable the stack's rules (responder-tampered's repair) is told which
   * take read-only management events: EnableRule would bring them back without those, so the
   * repair puts their state back with PutRule (functions/shared/actions/enable-rule.ts).
   */
  private declareReadOnlyRules(config: Config): void {
    const names = INCIDENTS.filter((i: Incident) => i.ruleState === ALL_MANAGEMENT_EVENTS).flatMap((i) =>
      [this.rules.get(i.name), this.organizationRules.get(i.name)].flatMap((r) => (r ? [r.ruleName] : [])),
    );
    for (const incident of INCIDENTS) {
      const declared: Incident = incident;
      const responder = this.responders.get(incident.name);
      if (!responder || !rolePermissions(declared, config).other.includes("events:EnableRule")) continue;
      responder.function.addEnvironment("KMS_RESPONDER_READ_ONLY_RULES", this.toJsonString(names));
    }
  }

  private incidentRule(
    declared: Incident,
    responder: ResponderFunction,
    own: Record<string, unknown>,
    config: Config,
    bus?: events.IEventBus,
  ): events.Rule {
    const { source, "detail-type": detailType, detail } = declared.pattern(own);
    const rule = new events.Rule(this, bus ? `${declared.name}-organization-rule` : `${declared.name}-rule`, {
      description: `kms-responder: ${declared.name}${bus ? " (organisation bus)" : ""}`,
      ...(bus && { eventBus: bus }),
      eventPattern: { source, detailType, detail } as events.EventPattern,
      targets: [
        new targets.LambdaFunction(responder.function, {
          deadLetterQueue: responder.failureQueue,
          retryAttempts: TARGET_RETRY_ATTEMPTS,
          maxEventAge: TARGET_MAX_EVENT_AGE,
        }),
      ],
    });
    // The L2 Rule only knows enabled/disabled: set the CloudTrail state on the L1 resource. A
    // switched-off incident's rule delivers nothing (its function would only ignore the events).
    const cfnRule = rule.node.defaultChild as events.CfnRule;
    if (incidentMode(config, declared.name) === "off") cfnRule.state = "DISABLED";
    else if (declared.ruleState) cfnRule.state = declared.ruleState;
    return rule;
  }
}

/**
 * What an incident whose event ends a key (`closesKeyFindings`) needs to close the key's open
 * Security Hub findings: find them (GetFindings) and resolve their workflow (BatchUpdateFindings),
 * on this account's hub only. Their archiving is an import (BatchImportFindings, granted to every
 * function with Security Hub on).
 */
function closeFindingsStatement(stack: Stack): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "CloseTheDeletedKeysFindings",
    actions: ["securityhub:BatchUpdateFindings", "securityhub:GetFindings"],
    resources: [stack.formatArn({ service: "securityhub", resource: "hub", resourceName: "default" })],
  });
}

const isRepair = isRepairAction;

function withoutRepairs(permissions: RolePermissions): RolePermissions {
  return { ...permissions, other: permissions.other.filter((a) => !isRepair(a)) };
}

/** The trails a repairing incident may restart: those its `trails` option lists. */
function repairTrails(declared: Incident, config: Config): string[] {
  const options = (config.incidents as Record<string, { trails?: unknown } | undefined>)[declared.name];
  const trails = options?.trails;
  return Array.isArray(trails) ? trails.filter((t): t is string => typeof t === "string") : [];
}

/**
 * The repairs' statements, each on the responder's own resources only: its rules (the stack's
 * name prefix, on the default bus and on its organisation bus), the trails listed, its functions.
 */
function repairStatements(
  stack: Stack,
  permissions: RolePermissions,
  trails: readonly string[],
): iam.PolicyStatement[] {
  const actions = permissions.other.filter(isRepair);
  const prefix = `${stack.stackName}-`;
  const of = (service: string) => actions.filter((a) => a.startsWith(`${service}:`));
  const statements: iam.PolicyStatement[] = [];
  if (of("events").length) {
    statements.push(
      new iam.PolicyStatement({
        sid: "RepairOwnRules",
        actions: of("events"),
        resources: [
          stack.formatArn({ service: "events", resource: "rule", resourceName: `${prefix}*` }),
          stack.formatArn({
            service: "events",
            resource: "rule",
            resourceName: `${prefix}organization/${prefix}*`,
          }),
        ],
      }),
    );
  }
  if (of("cloudtrail").length && trails.length) {
    statements.push(
      new iam.PolicyStatement({
        sid: "RepairOwnTrail",
        actions: of("cloudtrail"),
        resources: trails.map((t) =>
          t.startsWith("arn:")
            ? t
            : stack.formatArn({ service: "cloudtrail", region: "*", resource: "trail", resourceName: t }),
        ),
      }),
    );
  }
  if (of("lambda").length) {
    statements.push(
      new iam.PolicyStatement({
        sid: "RepairOwnFunctions",
        actions: of("lambda"),
        resources: [
          stack.formatArn({
            service: "lambda",
            resource: "function",
            resourceName: `${prefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
  }
  return statements;
}

/** The repairs' name-prefix wildcards, acknowledged with their reason (cdk-nag IAM5). */
function acknowledgeRepairs(
  role: iam.Role,
  stack: Stack,
  permissions: RolePermissions,
  trails: readonly string[],
): void {
  const actions = permissions.other.filter(isRepair);
  if (!actions.length) return;
  const prefix = `${stack.stackName}-`;
  const reason =
    "The responder's own resources, by the stack's name prefix: CloudFormation names them " +
    "<stack>-<id>-<suffix> at deploy time. Only the repairs' actions and their read-back.";
  const findings = [
    ...(actions.some((a) => a.startsWith("events:"))
      ? [
          `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${prefix}*`,
          `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${prefix}organization/${prefix}*`,
        ]
      : []),
    ...(actions.some((a) => a.startsWith("lambda:"))
      ? [`arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${prefix}*`]
      : []),
  ];
  for (const finding of findings)
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
  if (!actions.some((a) => a.startsWith("cloudtrail:"))) return;
  for (const trail of trails.filter((t) => !t.startsWith("arn:"))) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudtrail:*:<AWS::AccountId>:trail/${trail}]`,
      reason:
        "One trail the config lists, by name, in any Region: a multi-Region trail is started in its home Region, which the config does not name.",
    });
  }
}

/** The members' heartbeats: one alarm per listed account and configured Region (infra/heartbeat.ts). */
function watchMembers(
  heartbeat: Heartbeat,
  central: CentralOrganization | undefined,
  org: Organization | undefined,
): void {
  if (!central || !org) return;
  const pairs = org.heartbeatAccounts.length * org.regions.length;
  if (pairs > MAX_MEMBER_HEARTBEAT_ALARMS) {
    throw new Error(
      `organization.heartbeatAccounts: ${org.heartbeatAccounts.length} accounts x ${org.regions.length} Regions is ${pairs} heartbeat alarms, over the ${MAX_MEMBER_HEARTBEAT_ALARMS} one stack holds beside its other resources`,
    );
  }
  heartbeat.watchOrganization(central.bus, org.heartbeatAccounts, org.regions);
}

/** The organisation block as the functions get it: the heartbeat's accounts are the stack's alone. */
function withoutHeartbeatAccounts(org: Organization | undefined): Organization | undefined {
  return org && { ...org, heartbeatAccounts: [] };
}

/**
 * The member heartbeat alarms one stack may hold: a template has at most 500 resources, a central
 * stack has some 295 without them with approval, chat, Security Hub and the repairs on (measured: 474
 * with the 180).
 */
const MAX_MEMBER_HEARTBEAT_ALARMS = 180;

/**
 * The runbook's permissions plus, for a central responder, the member role and the accounts'
 * names (as rolePermissions adds them).
 */
function withMemberRole(permissions: RolePermissions, config: Config): RolePermissions {
  if (!config.organization) return permissions;
  const central = [...(permissions.kms.length ? [ASSUME_MEMBER_ROLE] : []), DESCRIBE_ACCOUNT];
  return { ...permissions, other: [...new Set([...permissions.other, ...central])] };
}

/**
 * A function's own statements from its derived permissions: the KMS actions on this account's and
 * Region's keys (`key/*`, never aliases or other accounts), and the actions that have no resource
 * ARN on `*`. Only read-only actions may go on `*`: anything else there is a bug in a declaration,
 * and fails the synth.
 */
function roleStatements(
  stack: Stack,
  permissions: RolePermissions,
  keys: readonly string[],
  sid: string,
  organization: Organization | undefined,
): iam.PolicyStatement[] {
  const assumes = permissions.other.includes(ASSUME_MEMBER_ROLE);
  const namesAccounts = permissions.other.includes(DESCRIBE_ACCOUNT);
  const reads = permissions.other.filter((a) => a !== ASSUME_MEMBER_ROLE && a !== DESCRIBE_ACCOUNT);
  const unexpected = reads.filter((a) => !RESOURCELESS_READS.includes(a));
  if (unexpected.length) {
    throw new Error(`${unexpected.join(", ")}: not a read-only action without a resource ARN`);
  }
  const statements: iam.PolicyStatement[] = [];
  if (permissions.kms.length) {
    statements.push(new iam.PolicyStatement({ sid, actions: [...permissions.kms], resources: [...keys] }));
  }
  const history = reads.filter((a) => a.startsWith("cloudtrail:"));
  if (history.length) {
    statements.push(new iam.PolicyStatement({ sid: "ReadKeyHistory", actions: history, resources: ["*"] }));
  }
  const aliases = reads.filter((a) => a.startsWith("kms:"));
  if (aliases.length) {
    statements.push(new iam.PolicyStatement({ sid: "ReadKeyAliases", actions: aliases, resources: ["*"] }));
  }
  const describeOrganization = reads.filter((a) => a.startsWith("organizations:"));
  if (describeOrganization.length) {
    statements.push(
      new iam.PolicyStatement({
        sid: "ReadOwnOrganization",
        actions: describeOrganization,
        resources: ["*"],
      }),
    );
  }
  // The member role, by name, inside the organisation only (never any role of any account).
  if (assumes) {
    if (!organization) throw new Error(`${ASSUME_MEMBER_ROLE} without an organization in the config`);
    statements.push(assumeMemberRoleStatement(stack, organization));
  }
  if (namesAccounts) {
    if (!organization) throw new Error(`${DESCRIBE_ACCOUNT} without an organization in the config`);
    statements.push(describeAccountStatement(stack, organization));
  }
  return statements;
}

/** Acknowledges the wildcard findings a role really has, and no other (cdk-nag lists them exactly). */
function acknowledgeWildcards(
  role: iam.Role,
  permissions: RolePermissions,
  keyWildcard: (role: iam.Role) => void,
): void {
  if (permissions.kms.length) keyWildcard(role);
  const resourceless = permissions.other.filter((a) => RESOURCELESS_READS.includes(a));
  if (resourceless.length) suppressResourcelessReads(role, resourceless);
}

/**
 * The runbook's statements: its derived permissions (runbook.ts), and the automation execution
 * that invoked it (its `ExecutedBy` is the person who asked: the documents pass the execution id,
 * and caller-typed text is only "stated by").
 */
function runbookStatements(
  stack: Stack,
  permissions: RolePermissions,
  keys: readonly string[],
  organization: Organization | undefined,
): iam.PolicyStatement[] {
  return [
    ...roleStatements(stack, permissions, keys, "RunbookActions", organization),
    new iam.PolicyStatement({
      sid: "ReadWhoStartedTheAutomation",
      actions: ["ssm:GetAutomationExecution"],
      resources: [stack.formatArn({ service: "ssm", resource: "automation-execution", resourceName: "*" })],
    }),
  ];
}

/**
 * Administrative actions on the notification key: the same set CDK's `Key.grantAdmin` grants.
 * Disabling it, scheduling its deletion or replacing its policy silences every notification and
 * alarm, so only the principals the stack names hold them.
 */
export const NOTIFICATION_KEY_ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
] as const;

/**
 * What every principal of the account may do with the notification key through its IAM policies:
 * encrypt notifications (SNS asks KMS for a data key as the publisher; who may publish at all is
 * the topic policy's business) and read the key's metadata. Nothing that changes the key.
 */
export const NOTIFICATION_KEY_ACCOUNT_ACTIONS = [
  "kms:Decrypt",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
] as const;

/**
 * The principal CloudFormation deploys, updates and destroys the stack as: with CDK's default
 * synthesizer, the bootstrap's CloudFormation execution role (`cdk-<qualifier>-cfn-exec-role-
 * <account>-<region>`), which `cdk deploy` passes to CloudFormation as the stack's service role, so
 * CloudFormation creates, changes and deletes the key as that role, not as the person deploying.
 * Other synthesizers deploy with the caller's own credentials, which the stack cannot know: then
 * the caller must be among `notificationKeyAdmins` (the synth refuses an empty list).
 */
function deploymentRoleArn(stack: Stack): string | undefined {
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) return undefined;
  const arn = synthesizer.cloudFormationExecutionRoleArn;
  // The synthesizer writes `${AWS::AccountId}` placeholders for the asset manifest: resolve them.
  return arn.includes("${") ? Fn.sub(arn) : arn;
}

/**
 * The notification key's policy. Not root `kms:*`: with it, anyone granted `kms:DisableKey` or
 * `kms:PutKeyPolicy` through IAM silences every notification and alarm.
 *
 * - The account (through IAM): use the key and read it (NOTIFICATION_KEY_ACCOUNT_ACTIONS).
 * - Administration (NOTIFICATION_KEY_ADMIN_ACTIONS) through IAM, only for `notificationKeyAdmins`
 *   and the deployment role (deploymentRoleArn). Matching `aws:PrincipalArn` on the account
 *   principal, rather than naming the roles as principals, survives a role being deleted and
 *   created again with the same name (the bootstrap stack updated or re-created): a named principal
 *   would turn into a dead unique id, and the key would lose its administrators. KMS's lockout
 *   check accepts the policy only if the deployment role may call PutKeyPolicy under it, so a
 *   wrong deployment role fails the deploy instead of producing a locked key. `cdk destroy` and
 *   updates run as the deployment role (DescribeKey, PutKeyPolicy, EnableKeyRotation, TagResource,
 *   ScheduleKeyDeletion: all administrative). Should every administrator be gone anyway, the way
 *   out is a new key: rename the construct and deploy.
 * - The responder roles (exact ARNs): EnableKey and CancelKeyDeletion, the repair, together with
 *   their IAM policies (RepairTheNotificationKey). On `cdk destroy` those IAM policies, which
 *   depend on the key, are deleted before CloudFormation schedules the key's deletion, so the
 *   responders cannot undo a teardown.
 * - CloudWatch alarms of this account publish to the topic as a service and need the key too.
 *   No statement for EventBridge any more: no rule targets the topic (the rules target the
 *   functions), and a key statement nobody uses is one more way in.
 */
function notificationKeyPolicy(
  stack: Stack,
  responderRoleArns: readonly string[],
  admins: readonly string[],
): iam.PolicyStatement[] {
  const deployment = deploymentRoleArn(stack);
  if (deployment === undefined && admins.length === 0) {
    throw new Error(
      "the notification key would have no administrator: this synthesizer deploys with the caller's own credentials, so list the principal that deploys the stack in notificationKeyAdmins",
    );
  }
  const account = new iam.AccountRootPrincipal();
  return [
    new iam.PolicyStatement({
      sid: "AccountUsesAndReadsTheKey",
      principals: [account],
      actions: [...NOTIFICATION_KEY_ACCOUNT_ACTIONS],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "OnlyNamedAdminsAndTheDeploymentAdministerTheKey",
      principals: [account],
      actions: [...NOTIFICATION_KEY_ADMIN_ACTIONS],
      resources: ["*"],
      conditions: { ArnEquals: { "aws:PrincipalArn": [...admins, ...(deployment ? [deployment] : [])] } },
    }),
    new iam.PolicyStatement({
      sid: "RespondersRepairTheKey",
      principals: [account],
      actions: ["kms:EnableKey", "kms:CancelKeyDeletion"],
      resources: ["*"],
      conditions: { ArnEquals: { "aws:PrincipalArn": [...responderRoleArns] } },
    }),
    new iam.PolicyStatement({
      sid: "AlarmsPublishToTheEncryptedTopic",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
    }),
  ];
}

/**
 * Who may publish to the topic, after `enforceSSL`'s Deny of plain HTTP: the account's CloudWatch
 * alarms (as the service, for this account's alarm ARNs: confused deputy), the responder roles,
 * and nobody else. A notification says "remediated"; one forged by another principal of the
 * account would tell on-call that an incident is handled. In one account an IAM policy alone
 * grants `sns:Publish`, so only a Deny in the topic policy can refuse the others: it names every
 * principal but the responder roles (`ArnNotEquals aws:PrincipalArn`). Services carry no
 * `aws:PrincipalArn`, and a negated operator matches a missing key, so the Deny would also refuse
 * CloudWatch; `aws:PrincipalIsAWSService: false` leaves services to the Allow statements (only
 * CloudWatch has one).
 */
function topicPublishers(
  stack: Stack,
  topic: sns.ITopic,
  responderRoleArns: readonly string[],
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: "AlarmsPublish",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { "aws:SourceAccount": stack.account },
        ArnLike: {
          "aws:SourceArn": stack.formatArn({
            service: "cloudwatch",
            resource: "alarm",
            resourceName: "*",
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
    new iam.PolicyStatement({
      sid: "RespondersPublish",
      principals: responderRoleArns.map((arn) => new iam.ArnPrincipal(arn)),
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
    }),
    new iam.PolicyStatement({
      sid: "NoOtherPrincipalPublishes",
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: {
        ArnNotEquals: { "aws:PrincipalArn": [...responderRoleArns] },
        Bool: { "aws:PrincipalIsAWSService": "false" },
      },
    }),
  ];
}

/**
 * The config without the values its schema would fill in anyway: every function validates it again
 * at cold start with the same defaults, so what it reads is the same config, and Lambda's 4 KB
 * environment keeps room for the responders' own role ARNs.
 */
export function withoutDefaults(value: unknown, defaults: unknown): unknown {
  if (!isPlainObject(value) || !isPlainObject(defaults)) return value;
  const kept: Record<string, unknown> = {};
  for (const [name, own] of Object.entries(value)) {
    const fallback = defaults[name];
    if (fallback !== undefined && sameJson(own, fallback)) continue;
    kept[name] = withoutDefaults(own, fallback);
  }
  return kept;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return !Token.isUnresolved(a) && JSON.stringify(a) === JSON.stringify(b);
}

/** The defaults, every incident listed with its mode and options: what the functions' config leaves out. */
const DEFAULTS: Config = /* @__PURE__ */ parseConfig({}, "defaults", INCIDENTS);

/** Lambda caps a function's environment at 4 KB; fail the synth, not the deploy, when the config is too big. */
const ENVIRONMENT_LIMIT = 4096;
/** Tokens count as 128 characters: a role or key ARN resolves to at most about 110. */
function checkEnvironmentSize(config: Config): void {
  const resolved = (values: readonly string[]) =>
    values.map((v) => (Token.isUnresolved(v) ? "x".repeat(128) : v));
  const estimate = JSON.stringify(
    withoutDefaults(
      {
        ...config,
        responderRoleArns: resolved(config.responderRoleArns),
        ignoredKeys: resolved(config.ignoredKeys),
        deploymentRoleArns: resolved(config.deploymentRoleArns),
        notificationKeyArn: resolved(config.notificationKeyArn ? [config.notificationKeyArn] : [])[0],
      },
      DEFAULTS,
    ),
  ).length;
  const rest =
    "KMS_RESPONDER_CONFIG NOTIFICATION_TOPIC_ARN CHAT_TOPIC_ARN RUNBOOK_DOCUMENT_PREFIX".length +
    JSON.stringify(nodeOptionsEnvironment()).length +
    3 * 128;
  if (estimate + rest > ENVIRONMENT_LIMIT) {
    throw new Error(
      `the config is too large for a Lambda environment (about ${estimate + rest} of ${ENVIRONMENT_LIMIT} bytes): shorten its lists`,
    );
  }
}
