/**
 * The runbook function's payload, validated before anything happens: a bad payload gets an
 * error naming the field and no AWS call is made.
 */
import * as z from "zod";
import { PayloadError } from "../shared/errors.js";

export const RUNBOOK_ACTIONS = [
  "revoke-grant",
  "revoke-grantee-grants",
  "disable-key",
  "enable-key",
  "cancel-key-deletion",
  "enable-key-rotation",
  "analyze-key-policy",
] as const;
export type RunbookAction = (typeof RUNBOOK_ACTIONS)[number];

/** A key id (`1234abcd-...`, `mrk-...`), a key ARN, an alias name (`alias/x`) or an alias ARN. */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const MRK = "mrk-[0-9a-f]{32}";
const ALIAS = "alias/[A-Za-z0-9/_-]+";
const KEY_REF = new RegExp(
  `^(?:${UUID}|${MRK}|${ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(?:key/(?:${UUID}|${MRK})|${ALIAS}))$`,
);

/** Grant ids are 64 hex characters; allow a little latitude but no spaces or shell characters. */
const GRANT_ID = /^[A-Za-z0-9]{1,128}$/;

export const payloadSchema = z
  .strictObject({
    action: z.enum(RUNBOOK_ACTIONS),
    keyId: z.string().regex(KEY_REF, "must be a key id, key ARN, alias name (alias/...) or alias ARN"),
    grantId: z.string().regex(GRANT_ID, "must be a KMS grant id (letters and digits)").optional(),
    granteePrincipal: z
      .string()
      .min(1)
      .max(2048)
      .refine((p) => !p.includes("*"), "must be one exact principal, not a pattern")
      .optional(),
    dryRun: z.boolean().default(false),
    reason: z.string().trim().min(3, "must say why (at least 3 characters)").max(1024),
    requestedBy: z.string().trim().min(1, "must name who asked").max(512),
    // "" means no ticket: the SSM documents always send the parameter, with "" as its default.
    ticket: z
      .string()
      .trim()
      .max(256)
      .optional()
      .transform((t) => (t === "" ? undefined : t)),
  })
  .superRefine((p, ctx) => {
    if (p.action === "revoke-grant" && !p.grantId) {
      ctx.addIssue({ code: "custom", path: ["grantId"], message: "is required for revoke-grant" });
    }
    if (p.action === "revoke-grantee-grants" && !p.granteePrincipal) {
      ctx.addIssue({
        code: "custom",
        path: ["granteePrincipal"],
        message: "is required for revoke-grantee-grants",
      });
    }
  });

export type RunbookPayload = z.infer<typeof payloadSchema>;
export type RunbookPayloadInput = z.input<typeof payloadSchema>;

/** @throws PayloadError naming every wrong field, e.g. `grantId: is required for revoke-grant`. */
export function parsePayload(input: unknown): RunbookPayload {
  const result = payloadSchema.safeParse(input);
  if (result.success) return result.data;
  // The per-action requirements run only when the rest parses; report them with the rest.
  const raw = typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {};
  const extra: string[] = [];
  if (raw.action === "revoke-grant" && raw.grantId === undefined)
    extra.push("grantId: is required for revoke-grant");
  if (raw.action === "revoke-grantee-grants" && raw.granteePrincipal === undefined) {
    extra.push("granteePrincipal: is required for revoke-grantee-grants");
  }
  const problems = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys")
      return `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    const where = issue.path.length ? issue.path.join(".") : "payload";
    return `${where}: ${issue.message}`;
  });
  throw new PayloadError(`invalid runbook payload: ${[...new Set([...problems, ...extra])].join("; ")}`);
}
