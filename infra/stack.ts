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
 * Env-agnostic: no lookups, synthesizes offline.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import type { Config } from "../functions/shared/config.js";
import type { IncidentName } from "../functions/shared/types.js";
import { INCIDENT_FUNCTIONS, type IncidentFunction } from "./incidents.js";
import { incidentPatterns, RULE_STATES } from "./patterns.js";
import { ResponderFunction } from "./responder-function.js";
import { RUNBOOK_KMS_ACTIONS, RUNBOOK_RESERVED_CONCURRENCY, RunbookAutomation } from "./runbook.js";
import { suppressCloudTrailLookup, suppressKeyWildcard, suppressRunbookKeyWildcard } from "./suppressions.js";

export interface ResponderStackProps extends StackProps {
  /** The validated config; the stack adds its role ARNs and notification key before passing it on. */
  readonly config: Config;
  /** Where `npm run build` wrote `<function>/index.mjs` (default `dist`). */
  readonly distDir?: string;
  /**
   * Reserve concurrency as the incident table says (default true). Turn it off in accounts whose
   * concurrency limit is too low to reserve any (new accounts can start at 10).
   */
  readonly reservedConcurrency?: boolean;
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
  /** The SSM Automation documents that invoke it, and the role they run as. */
  readonly runbookAutomation: RunbookAutomation;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, props);
    const distDir = props.distDir ?? "dist";

    // Notifications: one topic, encrypted with a key of its own that the responder never changes.
    this.notificationKey = new kms.Key(this, "NotificationKey", {
      description: "kms-responder: encrypts the notification topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(30),
    });
    // The default policy lets the account (hence the function roles, through IAM) use the key;
    // CloudWatch alarms and EventBridge publish to the topic as services and need it too.
    this.notificationKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AlarmsAndEventsPublishToTheEncryptedTopic",
        principals: [
          new iam.ServicePrincipal("cloudwatch.amazonaws.com"),
          new iam.ServicePrincipal("events.amazonaws.com"),
        ],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    this.topic = new sns.Topic(this, "Notifications", {
      displayName: "kms-responder",
      masterKey: this.notificationKey,
      enforceSSL: true,
    });

    // One function per incident, each with only its own KMS actions.
    const keys = this.formatArn({ service: "kms", resource: "key", resourceName: "*" });
    for (const spec of INCIDENT_FUNCTIONS) {
      const responder = new ResponderFunction(this, spec.incident, {
        name: spec.incident,
        distDir,
        topic: this.topic,
        notificationKey: this.notificationKey,
        statements: incidentStatements(spec, keys),
        ...(props.reservedConcurrency !== false && { reservedConcurrency: spec.reservedConcurrency }),
      });
      suppressKeyWildcard(responder.role);
      if (spec.readsCloudTrail) suppressCloudTrailLookup(responder.role);
      this.responders.set(spec.incident, responder);
    }

    // The runbook: the same construct, invoked synchronously by people (CLI, SSM), so no rule and
    // no failure queue. Its name is fixed so the CLI finds it (`kms-responder-runbook` by default).
    this.runbook = new ResponderFunction(this, "runbook", {
      name: "runbook",
      functionName: `${this.stackName}-runbook`,
      distDir,
      topic: this.topic,
      notificationKey: this.notificationKey,
      statements: runbookStatements(keys),
      invocation: "request-response",
      ...(props.reservedConcurrency !== false && { reservedConcurrency: RUNBOOK_RESERVED_CONCURRENCY }),
    });
    suppressRunbookKeyWildcard(this.runbook.role);
    suppressCloudTrailLookup(this.runbook.role);
    this.runbookAutomation = new RunbookAutomation(this, "runbook-automation", {
      function: this.runbook.function,
      namePrefix: this.stackName,
    });

    // Every function knows every responder role (loop prevention: the rules and the handlers ignore
    // the runbook's calls too, it notifies itself) and the key it must not touch.
    const functions = [...this.responders.values(), this.runbook];
    const roleArns = functions.map((r) => r.role.roleArn);
    const config = {
      ...props.config,
      responderRoleArns: [...props.config.responderRoleArns, ...roleArns],
      ignoredKeys: [...props.config.ignoredKeys, this.notificationKey.keyArn],
    };
    checkEnvironmentSize(config);
    const configJson = this.toJsonString(config);
    for (const responder of functions) {
      responder.function.addEnvironment("KMS_RESPONDER_CONFIG", configJson);
    }

    // One rule per incident; failed deliveries land in the function's failure queue.
    const patterns = incidentPatterns(roleArns);
    for (const [incident, responder] of this.responders) {
      const { source, "detail-type": detailType, detail } = patterns[incident];
      const rule = new events.Rule(this, `${incident}-rule`, {
        description: `kms-responder: ${incident}`,
        eventPattern: { source, detailType, detail } as events.EventPattern,
        targets: [
          new targets.LambdaFunction(responder.function, {
            deadLetterQueue: responder.failureQueue,
            retryAttempts: TARGET_RETRY_ATTEMPTS,
            maxEventAge: TARGET_MAX_EVENT_AGE,
          }),
        ],
      });
      const state = RULE_STATES[incident];
      // The L2 Rule only knows enabled/disabled: set the CloudTrail state on the L1 resource.
      if (state) (rule.node.defaultChild as events.CfnRule).state = state;
      this.rules.set(incident, rule);
    }

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
}

/** The runbook's permissions: each of its actions' KMS calls, and CloudTrail for the restore. */
function runbookStatements(keys: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: "RunbookActions", actions: [...RUNBOOK_KMS_ACTIONS], resources: [keys] }),
    new iam.PolicyStatement({
      sid: "ReadKeyHistory",
      actions: ["cloudtrail:LookupEvents"],
      resources: ["*"],
    }),
  ];
}

function incidentStatements(spec: IncidentFunction, keys: string): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({ sid: "IncidentActions", actions: [...spec.kmsActions], resources: [keys] }),
  ];
  if (spec.readsCloudTrail) {
    statements.push(
      new iam.PolicyStatement({
        sid: "ReadKeyHistory",
        actions: ["cloudtrail:LookupEvents"],
        resources: ["*"],
      }),
    );
  }
  return statements;
}

/** Lambda caps a function's environment at 4 KB; fail the synth, not the deploy, when the config is too big. */
const ENVIRONMENT_LIMIT = 4096;
/** Tokens count as 128 characters: a role or key ARN resolves to at most about 110. */
function checkEnvironmentSize(config: Config): void {
  const resolved = (values: readonly string[]) =>
    values.map((v) => (Token.isUnresolved(v) ? "x".repeat(128) : v));
  const estimate = JSON.stringify({
    ...config,
    responderRoleArns: resolved(config.responderRoleArns),
    ignoredKeys: resolved(config.ignoredKeys),
  }).length;
  const rest = "KMS_RESPONDER_CONFIG NOTIFICATION_TOPIC_ARN NODE_OPTIONS--enable-source-maps".length + 128;
  if (estimate + rest > ENVIRONMENT_LIMIT) {
    throw new Error(
      `the config is too large for a Lambda environment (about ${estimate + rest} of ${ENVIRONMENT_LIMIT} bytes): shorten its lists`,
    );
  }
}
