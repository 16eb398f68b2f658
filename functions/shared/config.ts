/**
 * The responder's configuration: one JSON document, validated against a strict schema (unknown
 * keys and bad values are errors that name the field), with defaults that are safe without any
 * config at all. The Lambda functions read it from `KMS_RESPONDER_CONFIG` once at cold start; the
 * CLI and the CDK app read it from a file with the same schema.
 */
// A namespace import, so esbuild keeps only what the schemas use: `import { z }` pulls all of zod
// (locales, JSON Schema) into every bundle, 360 KiB of them (bench/run.ts measures it).
import * as z from "zod";
import { ConfigError } from "./errors.js";
import { INCIDENTS, type IncidentName } from "./types.js";

const ACCOUNT_ID = /^\d{12}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;

const incidentModeSchema = z.enum(["enforce", "notify", "off"]);
const incidentSettings = z.strictObject({ mode: incidentModeSchema.default("enforce") });

const incidentsShape = Object.fromEntries(
  INCIDENTS.map((name) => [name, incidentSettings.default({ mode: "enforce" })]),
) as Record<IncidentName, z.ZodDefault<typeof incidentSettings>>;

export const configSchema = z.strictObject({
  /** `notify` decides and reports but changes nothing, whatever the per-incident modes say. */
  mode: z.enum(["enforce", "notify"]).default("enforce"),
  incidents: z.strictObject(incidentsShape).default(() => defaultIncidents()),
  /** Accounts other than the key's own that may be granted access. */
  trustedAccounts: z.array(z.string().regex(ACCOUNT_ID, "must be a 12-digit account id")).default([]),
  trustedOrganizationIds: z.array(z.string().regex(ORG_ID, "must look like o-xxxxxxxxxx")).default([]),
  /** Grantee principal patterns (`*` matches any run of characters) that are always trusted. */
  trustedGranteePrincipals: z.array(z.string().min(1)).default([]),
  /** Principal patterns allowed to schedule key deletion (matched against the role or user ARN). */
  approvedDeletionPrincipals: z.array(z.string().min(1)).default([]),
  /** Principal patterns allowed to disable keys. */
  approvedDisablePrincipals: z.array(z.string().min(1)).default([]),
  /** When true, a deletion by a session without MFA is never approved. */
  requireMfa: z.boolean().default(false),
  /** Keys with this tag get notifications but no automatic action. */
  exemptTagKey: z.string().min(1).max(128).default("kms-responder:exempt"),
  /** Keys with this tag may never be deleted, even by an approved principal. */
  protectedTagKey: z.string().min(1).max(128).default("kms-responder:protected"),
  /** What to do with a key after cancelling its deletion (it sits Disabled after CancelKeyDeletion). */
  afterCancel: z.enum(["restore", "enable", "keep-disabled"]).default("restore"),
  /** Response to a critical key-policy finding. */
  onCritical: z.enum(["disable-key", "remove-statements", "notify"]).default("disable-key"),
  /** Re-enable keys disabled by a principal that is not approved (the key-disabled incident). */
  reenableDisabledKeys: z.boolean().default(false),
  /** The responder's own role ARNs: calls they make are ignored (loop prevention). Filled in by the stack. */
  responderRoleArns: z.array(z.string().startsWith("arn:", "must be an IAM role ARN")).default([]),
  /** Keys the responder must never act on (the stack adds its notification key). ARNs or key ids. */
  ignoredKeys: z.array(z.string().min(1)).default([]),
});

function defaultIncidents(): Record<IncidentName, { mode: "enforce" | "notify" | "off" }> {
  return Object.fromEntries(INCIDENTS.map((name) => [name, { mode: "enforce" }])) as Record<
    IncidentName,
    { mode: "enforce" }
  >;
}

export type Config = Readonly<z.infer<typeof configSchema>>;
/** The config file as a user writes it: every field optional. */
export type ConfigInput = z.input<typeof configSchema>;

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates a parsed config document and fills in defaults.
 * @throws ConfigError naming every wrong field (`incidents.rogue-grant.mode: Invalid option ...`).
 */
export function parseConfig(input: unknown, origin = "config"): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.length ? issue.path.join(".") : "(top level)";
      if (issue.code === "unrecognized_keys") {
        const prefix = issue.path.length ? `${issue.path.join(".")}.` : "";
        return `unknown field ${issue.keys.map((k) => `"${prefix}${k}"`).join(", ")}`;
      }
      return `${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid ${origin}: ${problems.join("; ")}`);
  }
  return deepFreeze(result.data);
}

/** Parses config JSON text (empty or whitespace means "all defaults"). */
export function parseConfigText(text: string | undefined, origin = "config"): Config {
  if (text === undefined || text.trim() === "") return parseConfig({}, origin);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `invalid ${origin}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return parseConfig(parsed, origin);
}

/** The config of a Lambda function, from `KMS_RESPONDER_CONFIG`. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfigText(env.KMS_RESPONDER_CONFIG, "KMS_RESPONDER_CONFIG");
}

/** The defaults: what runs with no config at all. */
export const DEFAULT_CONFIG: Config = parseConfig({});

/** Effective mode of one incident: the global `notify` wins over a per-incident `enforce`. */
export function incidentMode(config: Config, incident: IncidentName): "enforce" | "notify" | "off" {
  const mode = config.incidents[incident].mode;
  if (mode === "off") return "off";
  return config.mode === "notify" ? "notify" : mode;
}
