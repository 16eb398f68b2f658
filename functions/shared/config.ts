/**
 * The responder's configuration: one JSON document, validated against a strict schema (unknown
 * keys and bad values are errors that name the field), with defaults that are safe without any
 * config at all. The Lambda functions read it from `KMS_RESPONDER_CONFIG` once at cold start; the
 * CLI and the CDK app read it from a file with the same schema.
 *
 * The `incidents` section depends on the incidents: their names and each one's own options. This
 * module never imports the registry (a Lambda bundle must not load every incident's code), so it
 * checks that section in two ways: given the incidents' declarations (`parseConfig(input, origin,
 * INCIDENTS)`, where the registry is at hand: the CLI, the CDK app and stack, the sweep), every
 * name, every option and `scan.enforce` are checked strictly; without them (an incident's Lambda),
 * each entry's `mode` is checked and the rest is kept, and the incident checks its own options
 * when its handler is created (`incidentOptions`).
 */
import * as v from "valibot";
import { patternProblem } from "./arn-pattern.js";
import { ConfigError } from "./errors.js";
import { anObject, parseWith, strictObject } from "./schema.js";

const ACCOUNT_ID = /^\d{12}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
/** `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, ... */
const PARTITION = "aws(?:-[a-z]+)*";
/** IAM role and user names. */
const IAM_NAME = "[\\w+=,.@-]{1,64}";
/**
 * `role/<name>` or `role/<path>/<name>`: a path is any printable ASCII between slashes (`:` too),
 * so an ARN is matched as a whole, not split on `:`.
 */
const iamArn = (kinds: string) =>
  new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(?:${kinds})\\/(?:[\\x21-\\x7e]*\\/)?${IAM_NAME}$`);
const ROLE_ARN = iamArn("role");
const ROLE_OR_USER_ARN = iamArn("role|user");
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const ROOT_OR_OU_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;

const ROLE_ARN_SHAPE = "arn:<partition>:iam::<12-digit account>:role/<path/name>";
/**
 * A principal list that decides whose calls are ignored or who holds power takes exact ARNs only:
 * a pattern like `role/kms-responder-*` would let anyone who can create a look-alike role act unseen.
 */
const exactArn = (pattern: RegExp, shape: string) =>
  v.pipe(
    v.string(),
    v.check(
      (s: string) => !/[*?]/.test(s),
      "must be an exact ARN, without * or ?: a wildcard would let anyone who can create a look-alike role act unseen",
    ),
    v.regex(pattern, `must be an IAM ARN like ${shape}`),
  );
const exactRoleArn = exactArn(ROLE_ARN, ROLE_ARN_SHAPE);
const exactPrincipalArn = exactArn(
  ROLE_OR_USER_ARN,
  "arn:<partition>:iam::<12-digit account>:role/<name> or :user/<name>",
);

const matching = (pattern: RegExp, message: string) => v.pipe(v.string(), v.regex(pattern, message));
const nonEmptyString = (max?: number) =>
  max === undefined
    ? v.pipe(v.string(), v.minLength(1, "must not be empty"))
    : v.pipe(
        v.string(),
        v.minLength(1, "must not be empty"),
        v.maxLength(max, `must be at most ${max} characters`),
      );

/**
 * A principal pattern, matched field by field (`arnLike`): a glob over a whole account is refused
 * with the reason, and the field's path names the entry.
 */
const principalPattern = v.pipe(
  v.string(),
  v.minLength(1, "must not be empty"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = patternProblem(dataset.value);
    if (problem !== undefined) addIssue({ message: problem });
  }),
);

/** A list that is an empty array when the field is absent (a fresh array per config). */
const listOf = <T extends v.GenericSchema>(item: T) => v.optional(v.array(item), () => []);

/** A non-empty list without repeats; a repeat is named by its position (`regions.1`). */
const distinctNonEmptyList = (item: v.GenericSchema<string>) =>
  v.pipe(
    v.array(item),
    v.minLength(1, "must list at least one"),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const values = dataset.value;
      values.forEach((value, i) => {
        if (values.indexOf(value) !== i) {
          addIssue({
            message: `repeats "${value}"`,
            input: value,
            path: [{ type: "array", origin: "value", input: values, key: i, value }],
          });
        }
      });
    }),
  );

const organizationSchema = strictObject({
  /** The organisation whose accounts the central responder serves. */
  id: matching(ORG_ID, "must look like o-xxxxxxxxxx"),
  /** The role the central functions assume in a member account. */
  memberRoleName: v.optional(
    matching(new RegExp(`^${IAM_NAME}$`), "must be an IAM role name ([\\w+=,.@-], 1-64 characters)"),
    "kms-responder-member",
  ),
  /** The Regions the member template is deployed to. */
  regions: distinctNonEmptyList(matching(REGION, "must be a Region name like eu-west-1")),
  /** The roots (`r-...`) or organisational units (`ou-...`) the member template is deployed to. */
  organizationalUnitIds: distinctNonEmptyList(
    matching(ROOT_OR_OU_ID, "must be a root id (r-...) or an organizational unit id (ou-...)"),
  ),
  /**
   * The member accounts whose heartbeat the central stack alarms on, one alarm per account and
   * configured Region (a CloudWatch alarm watches a time series it is told of: an account that never
   * beat, or joined later, has none until it is listed).
   */
  heartbeatAccounts: listOf(matching(ACCOUNT_ID, "must be a 12-digit account id")),
});

/** An EventBridge schedule expression: `rate(1 day)`, `rate(12 hours)`, `cron(0 6 * * ? *)`. */
const SCHEDULE = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$/;

const scanSchema = (incidentName: v.GenericSchema<string>) =>
  strictObject({
    /** When the stack's sweep runs (default daily), or `off`. */
    schedule: v.optional(
      v.union([
        v.literal("off"),
        matching(
          SCHEDULE,
          'must be an EventBridge schedule like "rate(1 day)" or "cron(0 6 * * ? *)", or "off"',
        ),
      ]),
      "rate(1 day)",
    ),
    /** Incidents whose findings the sweep acts on (through the same executors); default none. */
    enforce: listOf(incidentName),
    /** Organisation: (account, Region) pairs swept at once by the state machine. */
    maxConcurrency: v.optional(
      v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1), v.maxValue(1000)),
      40,
    ),
  });

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/**
 * Where Amazon Q Developer in chat applications posts the chat message: one Slack channel or one
 * Microsoft Teams channel (the workspace or team must already be authorised in its console).
 */
const slackSchema = strictObject({
  workspaceId: matching(/^[0-9A-Z]{1,255}$/, "must be a Slack workspace id like T0123ABCD"),
  channelId: matching(/^[A-Za-z0-9]{1,255}$/, "must be a Slack channel id like C0123ABCD"),
});
const teamsSchema = strictObject({
  teamId: matching(UUID, "must be a Microsoft Teams team id (a GUID)"),
  tenantId: matching(UUID, "must be a Microsoft Entra tenant id (a GUID)"),
  channelId: matching(
    /^19(?::|%3[aA])[\w=+/.,-]+(?:@|%40)thread\.(?:skype|tacv2)$/,
    "must be a Teams channel id like 19:abc...@thread.tacv2",
  ),
});
// Both fields optional with a check, not a union: a union's error would hide which id is wrong.
const chatSchema = v.pipe(
  strictObject({ slack: v.optional(slackSchema), teams: v.optional(teamsSchema) }),
  v.check(
    (chat) => (chat.slack === undefined) !== (chat.teams === undefined),
    'must name exactly one of "slack" ({workspaceId, channelId}) or "teams" ({teamId, tenantId, channelId})',
  ),
);
export type ChatConfig = v.InferOutput<typeof chatSchema>;

const incidentModeSchema = v.picklist(["enforce", "approve", "notify", "off"]);
type IncidentMode = v.InferOutput<typeof incidentModeSchema>;
const incidentSettingsEntries = { mode: v.optional(incidentModeSchema, "enforce") };

/** What the config needs of an incident's declaration: its name and its own options, if any. */
export interface IncidentOptionsDeclaration {
  readonly name: string;
  /** Valibot entries: the fields `incidents.<name>` accepts besides `mode`. */
  readonly options?: v.ObjectEntries;
}

/**
 * `incidents.<name>`: `mode`, plus the options the incident declares (`options` in its
 * declaration, from its folder). The Config type shows `mode` only; an incident reads its options
 * with `incidentOptions`.
 */
type IncidentSettingsInput = { mode?: IncidentMode; [option: string]: unknown };
type IncidentSettingsSchema = v.GenericSchema<
  IncidentSettingsInput | undefined,
  { readonly mode: IncidentMode }
>;
/** The schema of `incidents.<name>` for an incident declaring these options: `mode` and them, strict. */
function incidentSettingsSchema(options: v.ObjectEntries): IncidentSettingsSchema {
  return v.optional(strictObject({ ...incidentSettingsEntries, ...options }), () => ({
    mode: "enforce" as const,
  }));
}

type IncidentsSchema = v.GenericSchema<
  Readonly<Record<string, IncidentSettingsInput | undefined>>,
  Readonly<Record<string, { readonly mode: IncidentMode }>>
>;

/** Without the declarations: any name, each entry's `mode` checked and its other fields kept. */
const anyIncidents: IncidentsSchema = v.pipe(
  anObject<Readonly<Record<string, IncidentSettingsInput | undefined>>>(),
  v.record(v.string(), v.pipe(anObject<IncidentSettingsInput>(), v.looseObject(incidentSettingsEntries))),
);

/**
 * With the declarations: only their names, each with its own options, strict; an incident left
 * out gets `mode: "enforce"` and its options' defaults.
 */
function declaredIncidents(incidents: readonly IncidentOptionsDeclaration[]): IncidentsSchema {
  const shape = Object.fromEntries(
    incidents.map(({ name, options }) => [name, incidentSettingsSchema(options ?? {})]),
  );
  return strictObject(shape);
}

/** The whole config's schema, around an `incidents` section and what an incident name is. */
const configSchemaWith = (incidents: IncidentsSchema, incidentName: v.GenericSchema<string>) =>
  strictObject({
    /**
     * `notify` decides and reports but changes nothing, whatever the per-incident modes say. The
     * default: a new deployment watches before it acts, and `enforce` is a deliberate switch.
     */
    mode: v.optional(v.picklist(["enforce", "notify"]), "notify"),
    incidents: v.optional(incidents, () => ({})),
    /** Accounts other than the key's own that may be granted access. */
    trustedAccounts: listOf(matching(ACCOUNT_ID, "must be a 12-digit account id")),
    trustedOrganizationIds: listOf(matching(ORG_ID, "must look like o-xxxxxxxxxx")),
    /** Grantee principal patterns (ARN fields matched one by one, see `arnLike`) that are always trusted. */
    trustedGranteePrincipals: listOf(principalPattern),
    /** Principal patterns allowed to schedule key deletion (matched against the role or user ARN). */
    approvedDeletionPrincipals: listOf(principalPattern),
    /** Principal patterns allowed to disable keys. */
    approvedDisablePrincipals: listOf(principalPattern),
    /**
     * Principal patterns allowed to import new key material (ImportKeyMaterial NEW_KEY_MATERIAL) and
     * to make it current (RotateKeyOnDemand).
     */
    approvedKeyMaterialPrincipals: listOf(principalPattern),
    /**
     * Principal patterns allowed to set the exempt tag or remove the protected tag
     * (exemption-tampered); anyone else's change is undone.
     */
    approvedExemptionPrincipals: listOf(principalPattern),
    /** When true, a deletion by a session without MFA is never approved. */
    requireMfa: v.optional(v.boolean(), false),
    /** Keys with this tag get notifications but no automatic action. */
    exemptTagKey: v.optional(nonEmptyString(128), "kms-responder:exempt"),
    /** Keys with this tag may never be deleted, even by an approved principal. */
    protectedTagKey: v.optional(nonEmptyString(128), "kms-responder:protected"),
    /** What to do with a key after cancelling its deletion (it sits Disabled after CancelKeyDeletion). */
    afterCancel: v.optional(v.picklist(["restore", "enable", "keep-disabled"]), "restore"),
    /** Response to a critical key-policy finding. */
    onCritical: v.optional(v.picklist(["disable-key", "remove-statements", "notify"]), "disable-key"),
    /** Re-enable keys disabled by a principal that is not approved (the key-disabled incident). */
    reenableDisabledKeys: v.optional(v.boolean(), false),
    /**
     * The responder's own role ARNs, exact: calls they make are ignored (loop prevention). Filled
     * in by the stack.
     */
    responderRoleArns: listOf(exactRoleArn),
    /**
     * Who deploys the stack (exact role ARNs): their changes to the responder's own resources are
     * the deployment, not tampering. The stack adds CloudFormation's execution role.
     */
    deploymentRoleArns: listOf(exactRoleArn),
    /**
     * The name prefix of the stack's own resources (functions, rules, roles, topic):
     * CloudFormation names them `<stack name>-<logical id>-<suffix>`. Filled in by the stack.
     */
    resourcePrefix: v.optional(
      v.pipe(v.string(), v.minLength(2, "must be at least 2 characters")),
      "kms-responder-",
    ),
    /** Keys the responder must never act on (the stack adds its notification key). ARNs or key ids. */
    ignoredKeys: listOf(nonEmptyString()),
    /**
     * The stack's notification key (filled in by the stack). The one key the responders repair: if it
     * is disabled or scheduled for deletion, every notification and alarm goes silent.
     */
    notificationKeyArn: v.optional(
      matching(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, "must be a KMS key ARN"),
    ),
    /** Principals (roles or users, exact ARNs) that may administer the stack's notification key. */
    notificationKeyAdmins: listOf(exactPrincipalArn),
    /** Roles (exact ARNs) that may invoke the runbook function besides the SSM automation role. */
    runbookInvokers: listOf(exactRoleArn),
    /**
     * Events older than this many minutes (by their EventBridge time) are reported but not acted on:
     * the state they describe may have changed since. 0 turns the limit off.
     */
    maxEventAgeMinutes: v.optional(
      v.pipe(v.number(), v.integer("must be a whole number of minutes"), v.minValue(0, "must be 0 or more")),
      60,
    ),
    /**
     * KMS reads are eventually consistent: a read that says "nothing to do" (grant not listed, policy
     * differs, key not pending deletion) is read again this many seconds later before the
     * invocation settles on it. 0 reads again at once. At most 20, well inside the 60 s timeout.
     */
    confirmAfterSeconds: v.optional(
      v.pipe(
        v.number(),
        v.integer("must be a whole number of seconds"),
        v.minValue(0, "must be 0 or more"),
        v.maxValue(20, "must be 20 or less (the functions time out after 60 s)"),
      ),
      5,
    ),
    /** Act on events replayed from an EventBridge archive (they carry `replay-name`); off: report only. */
    actOnReplays: v.optional(v.boolean(), false),
    /**
     * Account id -> a name people use for it (`"111122223333": "payments-prod"`), shown beside the
     * id in subjects, notification text and the CLI's triage output.
     */
    accountNames: v.optional(
      v.pipe(
        v.record(
          matching(ACCOUNT_ID, "must be a 12-digit account id"),
          v.pipe(v.string(), v.regex(/^[\x20-\x7e]{1,50}$/, "must be 1-50 printable ASCII characters")),
        ),
        v.readonly(),
      ),
      () => ({}),
    ),
    /** Publish findings to AWS Security Hub as well as to the topic. */
    securityHub: v.optional(v.boolean(), false),
    /** Present: notifications are also posted to this Slack or Teams channel (a second topic). */
    chat: v.optional(chatSchema),
    /**
     * Who approves the actions of incidents in `mode: "approve"` (exact IAM role or user ARNs, as
     * SSM Automation's approval step takes them) and how long a request waits before it times out.
     */
    approval: v.optional(
      strictObject({
        approvers: v.pipe(
          v.array(exactPrincipalArn),
          v.minLength(1, "must list at least one approver"),
          v.maxLength(10, "must list at most 10 approvers"),
        ),
        timeoutMinutes: v.optional(
          v.pipe(
            v.number(),
            v.integer("must be a whole number of minutes"),
            v.minValue(1, "must be at least 1"),
            v.maxValue(10_080, "must be at most 10080 (7 days)"),
          ),
          60,
        ),
      }),
    ),
    /** Present: the stack is a central responder for these accounts and Regions of an organisation. */
    organization: v.optional(organizationSchema),
    /** The scheduled sweep of every key's current state. */
    scan: v.optional(scanSchema(incidentName), () => ({
      schedule: "rate(1 day)" as const,
      enforce: [],
      maxConcurrency: 40,
    })),
  });

/** The schema without the incidents' declarations (an incident's Lambda): built once, at cold start. */
export const configSchema = configSchemaWith(anyIncidents, v.string());

/** The strict schema of each list of declarations (the registry's one list: built once). */
const strictSchemas = new WeakMap<readonly IncidentOptionsDeclaration[], typeof configSchema>();
function strictSchema(incidents: readonly IncidentOptionsDeclaration[]): typeof configSchema {
  let schema = strictSchemas.get(incidents);
  if (schema === undefined) {
    schema = configSchemaWith(declaredIncidents(incidents), v.picklist(incidents.map((i) => i.name)));
    strictSchemas.set(incidents, schema);
  }
  return schema;
}

export type Config = Readonly<v.InferOutput<typeof configSchema>>;
/** The config file as a user writes it: every field optional. */
export type ConfigInput = v.InferInput<typeof configSchema>;

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates a parsed config document and fills in defaults. Given the incidents' declarations (the
 * registry), `incidents` and `scan.enforce` are checked against them; without, see the top of this
 * module.
 * @throws ConfigError naming every wrong field (`incidents.rogue-grant.mode: Invalid option ...`).
 */
export function parseConfig(
  input: unknown,
  origin = "config",
  incidents?: readonly IncidentOptionsDeclaration[],
): Config {
  const schema = incidents === undefined ? configSchema : strictSchema(incidents);
  const result = parseWith(schema, input ?? {}, "(top level)");
  if (!result.ok) throw new ConfigError(`invalid ${origin}: ${result.problems.join("; ")}`);
  const approving = approvingIncidents(result.value.incidents);
  if (approving.length && !result.value.approval) {
    throw new ConfigError(
      `invalid ${origin}: approval: is required (approvers) because ${approving.map((n) => `incidents.${n}.mode`).join(", ")} is "approve"`,
    );
  }
  return deepFreeze(result.value);
}

/** The incidents whose mode is `approve`. */
export function approvingIncidents(incidents: Config["incidents"]): string[] {
  return Object.entries(incidents as Readonly<Record<string, { mode: string }>>)
    .filter(([, settings]) => settings.mode === "approve")
    .map(([name]) => name);
}

/** Parses config JSON text (empty or whitespace means "all defaults"); `incidents` as `parseConfig`. */
export function parseConfigText(
  text: string | undefined,
  origin = "config",
  incidents?: readonly IncidentOptionsDeclaration[],
): Config {
  if (text === undefined || text.trim() === "") return parseConfig({}, origin, incidents);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `invalid ${origin}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return parseConfig(parsed, origin, incidents);
}

/** The config of a Lambda function, from `KMS_RESPONDER_CONFIG`; `incidents` as `parseConfig`. */
export function configFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  incidents?: readonly IncidentOptionsDeclaration[],
): Config {
  return parseConfigText(env.KMS_RESPONDER_CONFIG, "KMS_RESPONDER_CONFIG", incidents);
}

/**
 * The defaults: what runs with no config at all. Its `incidents` is empty: an incident not listed
 * runs in mode `enforce` (`incidentMode`) with its options' defaults (`incidentOptions`). Marked
 * pure so that a bundle that does not use it (every Lambda function: they read their config from
 * the environment) drops the call instead of validating a second config at each cold start.
 */
export const DEFAULT_CONFIG: Config = /* @__PURE__ */ parseConfig({});

type OptionsOf<Entries extends v.ObjectEntries> = Readonly<v.InferOutput<v.ObjectSchema<Entries, undefined>>>;

/** Each config's incidents section -> incident name -> its options, checked once. */
const checkedOptions = new WeakMap<object, Map<string, unknown>>();

/**
 * An incident's own options under `incidents.<name>`, checked against its entries (strictly:
 * an unknown field of its own is an error) and with their defaults. A config checked with the
 * declarations holds them checked already; one checked without (an incident's Lambda) has them
 * as written, so the handler calls this when it is created and a wrong option fails the cold start.
 * @throws ConfigError naming the field (`incidents.<name>.<option>: ...`).
 */
export function incidentOptions<Entries extends v.ObjectEntries>(
  config: Config,
  name: string,
  entries: Entries,
): OptionsOf<Entries> {
  const section: object = config.incidents;
  const known = checkedOptions.get(section) ?? new Map<string, unknown>();
  checkedOptions.set(section, known);
  if (known.has(name)) return known.get(name) as OptionsOf<Entries>;
  const settings = (config.incidents as Readonly<Record<string, unknown>>)[name];
  const schema = strictObject({ incidents: strictObject({ [name]: incidentSettingsSchema(entries) }) });
  const result = parseWith(schema, { incidents: { [name]: settings } }, "(top level)");
  if (!result.ok) throw new ConfigError(`invalid config: ${result.problems.join("; ")}`);
  const options = deepFreeze(result.value.incidents[name]);
  known.set(name, options);
  return options as OptionsOf<Entries>;
}
