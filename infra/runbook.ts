/**
 * Runbook-triggered manual invocation (a person asks for one action on one key): what the `runbook` function may do, and one
 * SSM Automation document per runbook action so on-call can run them from Systems Manager.
 *
 *   person -> aws ssm start-automation-execution -> document -> (automation role) -> runbook function
 *   person -> kms-responder run --direct / aws lambda invoke (runbookInvokers) ------^
 *
 * The function is invoked synchronously (RequestResponse): the caller gets the structured result.
 * The documents pass their execution id; the function reads the execution's `ExecutedBy` (the IAM
 * identity that started it) from SSM, so who asked is a fact, and the text a person types is
 * only what they state (`statedBy`).
 */
import { RemovalPolicy, Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { Construct } from "constructs";
import { RUNBOOK_STEP } from "../functions/runbook/documents.js";
import { RUNBOOK_ACTIONS, type RunbookAction } from "../functions/runbook/payload.js";
import { runbookActionPermissions } from "../functions/runbook/scope.js";
import { ACTIONS } from "../functions/shared/actions/index.js";
import { approvalDocumentName } from "../functions/shared/approval.js";
import type { Config } from "../functions/shared/config.js";
import { type RolePermissions, splitPermissions } from "../functions/shared/permissions.js";

/**
 * The runbook's permissions: the union, over every runbook action, of what one request may call
 * (functions/runbook/scope.ts: its reads before planning and its action modules' permissions; the
 * CloudTrail history only when the config restores a key's prior state after a cancelled deletion,
 * `afterCancel: restore`). The same table scopes a central runbook's member session to one request.
 * The runbook plans from people's requests, not events, so the incidents' modes do not narrow it.
 */
export function runbookPermissions(config: Config): RolePermissions {
  return splitPermissions(RUNBOOK_ACTIONS.flatMap((a) => runbookActionPermissions(a, config)));
}

/**
 * The SSM Automation execution ids the runbook has used (functions/runbook/once.ts): one
 * conditional write per request makes an execution prove one request across every Lambda
 * environment. On demand (a few writes a day); claims expire by TTL (`expiresAt`, after any
 * execution has stopped running); encrypted with the AWS managed key; point-in-time recovery on.
 * Deleted with the stack: a claim matters only while its execution runs.
 */
export function runbookExecutionsTable(scope: Construct): dynamodb.Table {
  return new dynamodb.Table(scope, "RunbookExecutions", {
    partitionKey: { name: "executionId", type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: "expiresAt",
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/** The runbook's only right on its table: claim an execution id (a conditional PutItem). */
export function claimExecutionStatement(table: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "ClaimAutomationExecution",
    actions: ["dynamodb:PutItem"],
    resources: [table.tableArn],
  });
}

/**
 * What every runbook document's name starts with (`<stack>-`, e.g. `kms-responder-RevokeGrant`):
 * the function trusts an automation execution's `ExecutedBy` only for a document named so.
 */
export function runbookDocumentPrefix(namePrefix: string): string {
  return `${namePrefix}-`;
}

/**
 * Two concurrent runs at most: people run these one at a time, and DisableKey, EnableKey and
 * CancelKeyDeletion share a 5 requests/s quota per account and Region with the incident handlers.
 */
export const RUNBOOK_RESERVED_CONCURRENCY = 2;

/** How long the automation waits for the function (its timeout is 60 s; the step maximum is 300 s). */
export const STEP_TIMEOUT_SECONDS = 120;

/**
 * The documents' parameter patterns (`allowedPattern`, Java regular expressions that SSM checks
 * before anything runs). Each accepts only values the runbook payload (functions/runbook/payload.ts)
 * accepts, so a value SSM lets through never fails the payload validation; test/infra/runbook.test.ts
 * checks that against the payload schema itself. Free text excludes `"`, `\` and control characters:
 * SSM serializes the payload, but nothing that could break out of a JSON string gets that far.
 */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const MRK = "mrk-[0-9a-f]{32}";
const ALIAS = "alias/[A-Za-z0-9/_-]+";
/** Free text: no quote, backslash or control character. */
const TEXT = '[^"\\\\\\x00-\\x1f]';
/** A free-text character that is not white space (the payload trims). */
const WORD = '[^"\\\\\\s]';

export const PARAMETER_PATTERNS = {
  /** A key id, `mrk-` id, key ARN, alias name or alias ARN: exactly the payload's key regex. */
  KeyId: `^(?:${UUID}|${MRK}|${ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(?:key/(?:${UUID}|${MRK})|${ALIAS}))$`,
  /** KMS grant ids are 64 hex characters; the payload allows 1-128 letters and digits. */
  GrantId: "^[A-Za-z0-9]{1,128}$",
  /** One exact principal (ARN, service or infrastructure principal): never a `*` pattern. */
  GranteePrincipal: "^[A-Za-z0-9+=,.@:/_-]{1,2048}$",
  /** 3 to 1024 characters, starting and ending with a non-space character. */
  Reason: `^${WORD}${TEXT}{1,1022}${WORD}$`,
  /** Empty (no ticket) or up to 256 characters starting with a non-space character. */
  Ticket: `^(?:${WORD}${TEXT}{0,255})?$`,
  /** Empty or up to 200 characters: what the person says about themselves (shown as "stated by"). */
  StatedBy: `^(?:${WORD}${TEXT}{0,199})?$`,
  AutomationAssumeRole: "^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$",
} as const;

export type RunbookParameter = keyof typeof PARAMETER_PATTERNS | "DryRun";

interface DocumentSpec {
  /** The document name's suffix: `<stack>-<suffix>`. */
  suffix: string;
  /** Markdown, shown in the Systems Manager console. */
  description: string;
  /** The action's own parameter, if any. */
  target?: "GrantId" | "GranteePrincipal";
  /** Whether the action has a dry run (every one but the read-only analysis). */
  dryRun: boolean;
}

/** One document per runbook action, from its action module: when to use it and how to undo it. */
export const RUNBOOK_DOCUMENTS: Record<RunbookAction, DocumentSpec> = Object.fromEntries(
  RUNBOOK_ACTIONS.map((a) => {
    const { document, description, target, mutating } = ACTIONS[a].runbook;
    return [a, { suffix: document, description, dryRun: mutating, ...(target && { target }) }];
  }),
) as Record<RunbookAction, DocumentSpec>;

/** The step every document runs; the document's output is its `Payload` (the runbook result). */
export const STEP_NAME = RUNBOOK_STEP;

/** SSM reserves these document name prefixes (case-insensitive) for AWS. */
const RESERVED_PREFIXES = ["aws", "amazon", "amzn"];

export interface RunbookAutomationProps {
  /** The runbook function the documents invoke. */
  readonly function: lambda.IFunction;
  /** Document names are `<namePrefix>-<Action>`, e.g. `kms-responder-RevokeGrant`. */
  readonly namePrefix: string;
  /** Roles (exact ARNs) that may invoke the function directly besides the automation role. */
  readonly invokers?: readonly string[];
  /**
   * Config `approval`, when an incident approves: each mutating action also gets its approval
   * variant, `<namePrefix>-Approved-<Action>`, an `aws:approve` step before the runbook's step.
   */
  readonly approval?: { readonly approvers: readonly string[]; readonly timeoutMinutes: number } | undefined;
}

/** The SSM Automation documents and the role they run as, which may only invoke the runbook. */
export class RunbookAutomation extends Construct {
  readonly role: iam.Role;
  readonly documents = new Map<RunbookAction, ssm.CfnDocument>();
  /** The approval variants (config `approval` only), by action. */
  readonly approvalDocuments = new Map<RunbookAction, ssm.CfnDocument>();

  constructor(scope: Construct, id: string, props: RunbookAutomationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = props.namePrefix;
    if (RESERVED_PREFIXES.some((p) => prefix.toLowerCase().startsWith(p))) {
      throw new Error(
        `SSM document names cannot start with ${RESERVED_PREFIXES.join(", ")}: rename the stack (${prefix})`,
      );
    }

    // Only Systems Manager Automation of this account and Region may assume it (confused deputy).
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("ssm.amazonaws.com", {
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service: "ssm",
              resource: "automation-execution",
              resourceName: "*",
            }),
          },
        },
      }),
      description: "kms-responder runbook documents: may only invoke the runbook function",
    });
    // The unqualified function ARN only: the documents invoke $LATEST, never a version or alias.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "InvokeTheRunbook",
        actions: ["lambda:InvokeFunction"],
        resources: [props.function.functionArn],
      }),
    );
    // The function's resource policy names exactly who may invoke it: this role and the
    // configured invokers. Inside one account that does not stop anyone else: an identity policy
    // alone grants lambda:InvokeFunction on a function of the same account, and a resource policy
    // cannot hold a Deny. What refuses the others is an SCP or a permissions boundary
    // (docs/security.md); the function itself trusts only the execution it reads from SSM.
    props.function.addPermission("InvokedByAutomation", {
      principal: new iam.ArnPrincipal(this.role.roleArn),
      action: "lambda:InvokeFunction",
    });
    (props.invokers ?? []).forEach((arn, i) => {
      props.function.addPermission(`InvokedByConfiguredRole${i}`, {
        principal: new iam.ArnPrincipal(arn),
        action: "lambda:InvokeFunction",
      });
    });

    for (const action of RUNBOOK_ACTIONS) {
      const spec = RUNBOOK_DOCUMENTS[action];
      const document = new ssm.CfnDocument(this, spec.suffix, {
        name: `${runbookDocumentPrefix(prefix)}${spec.suffix}`,
        documentType: "Automation",
        documentFormat: "JSON",
        // Replace (the default), not NewVersion: NewVersion is reported to leave $DEFAULT on the
        // old version (aws-cloudformation/cloudformation-coverage-roadmap#2539), and executions run
        // $DEFAULT, so on-call would run stale documents.
        updateMethod: "Replace",
        content: documentContent(action, spec, props.function.functionName, this.role.roleArn),
      });
      this.documents.set(action, document);
      if (props.approval && spec.dryRun) {
        const name = approvalDocumentName(prefix, action);
        const content = documentContent(action, spec, props.function.functionName, this.role.roleArn);
        this.approvalDocuments.set(
          action,
          new ssm.CfnDocument(this, `Approved${spec.suffix}`, {
            name,
            documentType: "Automation",
            documentFormat: "JSON",
            updateMethod: "Replace",
            content: withApproval(content, action, props.approval),
          }),
        );
      }
    }
  }
}

/** The step that waits for an approver, before the runbook's step. */
export const APPROVE_STEP = "Approve";

/**
 * The approval variant of a document: the same parameters and runbook step, after an `aws:approve`
 * step naming the approvers (one approval is enough; a rejection or the timeout ends the execution
 * without invoking the runbook).
 */
function withApproval(
  content: ReturnType<typeof documentContent>,
  action: RunbookAction,
  approval: NonNullable<RunbookAutomationProps["approval"]>,
) {
  return {
    ...content,
    description: `# kms-responder: approve ${action}\n\nStarted by a responder in approval mode: an approver approves or rejects (aws ssm send-automation-signal --signal-type Approve|Reject); on approval the runbook function verifies the key's state again and acts.\n\n${content.description}`,
    mainSteps: [
      {
        name: APPROVE_STEP,
        action: "aws:approve",
        description: "Wait for one of the approvers.",
        timeoutSeconds: approval.timeoutMinutes * 60,
        onFailure: "Abort",
        inputs: {
          Approvers: [...approval.approvers],
          MinRequiredApprovals: 1,
          Message: `kms-responder asks to ${action} on key {{ KeyId }}: {{ Reason }}`,
        },
      },
      ...content.mainSteps,
    ],
  };
}

type Parameter = {
  type: "String" | "Boolean";
  description: string;
  default?: string | boolean;
  allowedPattern?: string;
};

function documentContent(action: RunbookAction, spec: DocumentSpec, functionName: string, roleArn: string) {
  const parameters: Record<string, Parameter> = {
    KeyId: {
      type: "String",
      description:
        "The key: key id (1234abcd-...), multi-Region key id (mrk-...), key ARN, alias name (alias/...) or alias ARN.",
      allowedPattern: PARAMETER_PATTERNS.KeyId,
    },
  };
  if (spec.target === "GrantId") {
    parameters.GrantId = {
      type: "String",
      description: "The grant to revoke (its id: aws kms list-grants --key-id KEY).",
      allowedPattern: PARAMETER_PATTERNS.GrantId,
    };
  }
  if (spec.target === "GranteePrincipal") {
    parameters.GranteePrincipal = {
      type: "String",
      description:
        "The grantee, exactly as the grants name it (e.g. arn:aws:iam::111122223333:role/x): no wildcards.",
      allowedPattern: PARAMETER_PATTERNS.GranteePrincipal,
    };
  }
  parameters.Reason = {
    type: "String",
    description: "Why (at least 3 characters, no double quotes or backslashes): shown in the notification.",
    allowedPattern: PARAMETER_PATTERNS.Reason,
  };
  parameters.Ticket = {
    type: "String",
    description: "The incident or change ticket (optional).",
    default: "",
    allowedPattern: PARAMETER_PATTERNS.Ticket,
  };
  parameters.StatedBy = {
    type: "String",
    description:
      'Optional, e.g. your name or e-mail: shown as "stated by". Who asked is the IAM identity that ' +
      "started this execution (its ExecutedBy), which the runbook reads from Systems Manager.",
    default: "",
    allowedPattern: PARAMETER_PATTERNS.StatedBy,
  };
  if (spec.dryRun) {
    parameters.DryRun = {
      type: "Boolean",
      description: "true: say what would happen, change nothing.",
      default: false,
    };
  }
  parameters.AutomationAssumeRole = {
    type: "String",
    description:
      "The role the automation runs as (default: the stack's role that may only invoke the runbook).",
    default: roleArn,
    allowedPattern: PARAMETER_PATTERNS.AutomationAssumeRole,
  };

  // SSM builds the JSON from this object; a parameter that is a whole value keeps its type
  // (DryRun stays a boolean). The execution id lets the function read ExecutedBy from SSM.
  const payload: Record<string, string> = { action, keyId: "{{ KeyId }}" };
  if (spec.target === "GrantId") payload.grantId = "{{ GrantId }}";
  if (spec.target === "GranteePrincipal") payload.granteePrincipal = "{{ GranteePrincipal }}";
  if (spec.dryRun) payload.dryRun = "{{ DryRun }}";
  payload.reason = "{{ Reason }}";
  payload.ticket = "{{ Ticket }}";
  payload.statedBy = "{{ StatedBy }}";
  payload.automationExecutionId = "{{automation:EXECUTION_ID}}";

  return {
    schemaVersion: "0.3",
    description: `# kms-responder: ${action}\n\n${spec.description}\n\nEvery run notifies the responders' topic with who started it (the execution's ExecutedBy), why and the ticket.`,
    assumeRole: "{{ AutomationAssumeRole }}",
    parameters,
    mainSteps: [
      {
        name: STEP_NAME,
        action: "aws:invokeLambdaFunction",
        description: `Invoke the runbook function (${action}) and wait for its result.`,
        // A manual action runs once: the result says whether it worked, and people decide on a retry.
        maxAttempts: 1,
        timeoutSeconds: STEP_TIMEOUT_SECONDS,
        onFailure: "Abort",
        isEnd: true,
        inputs: {
          FunctionName: functionName,
          InvocationType: "RequestResponse",
          InputPayload: payload,
        },
      },
    ],
    outputs: [`${STEP_NAME}.Payload`],
  };
}
