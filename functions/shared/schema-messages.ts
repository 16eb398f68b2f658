/**
 * Messages for the schema issues zod/mini leaves at "Invalid input" (it ships no English
 * messages): a wrong type, or a value outside an enum. Every other check in our schemas carries
 * its own message. Shared by the config and the runbook payload.
 */
import type * as z from "zod/mini";

function typeName(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

export function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") return `expected ${issue.expected}, received ${typeName(issue.input)}`;
  if (issue.code === "invalid_value") {
    return `Invalid option: expected one of ${issue.values.map((v) => JSON.stringify(v)).join("|")}`;
  }
  return undefined;
}
