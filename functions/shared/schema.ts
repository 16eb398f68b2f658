/**
 * What the config and the runbook payload share about validation: valibot, a strict object that
 * names every unknown field, and one way to turn issues into the lines of an error.
 *
 * valibot rather than zod: its schemas are plain objects, so building the config schema at cold
 * start costs a fraction of what zod/mini's class instances did (measured in docs/performance.md),
 * and it brings no English messages of its own: every check here carries its message, and
 * `parseWith` writes the few generic ones (a wrong type, a value outside a list).
 */
import * as v from "valibot";

function typeName(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/** The issue of a field that is not in the schema (`expected: "never"`, the key as the input). */
function isUnknownKey(issue: v.BaseIssue<unknown>): boolean {
  return issue.expected === "never" && issue.path?.at(-1)?.origin === "key";
}

/**
 * The check that an input is an object (not an array, not null), with the message the config's
 * errors use: `expected object, received array`.
 */
export function anObject<T>() {
  return v.custom<T>(
    (input) => typeof input === "object" && input !== null && !Array.isArray(input),
    (issue) =>
      issue.input === undefined ? "is required" : `expected object, received ${typeName(issue.input)}`,
  );
}

/**
 * A strict object that reports every unknown field: valibot's own stops at the first one, and a
 * user fixing a config should not have to run it once per typo. An array is not an object here
 * (valibot's object schemas take `[]` as an object without fields).
 */
export function strictObject<const T extends v.ObjectEntries>(entries: T) {
  const shape = v.strictObject(entries);
  return v.pipe(
    anObject<v.InferInput<typeof shape>>(),
    shape,
    v.rawCheck(({ dataset, addIssue }) => {
      // The issue valibot raised for this object's first unknown key holds the object itself.
      const first = dataset.issues?.find((i) => isUnknownKey(i) && i.path?.length === 1)?.path?.[0];
      if (!first || typeof first.input !== "object" || first.input === null) return;
      const input = first.input as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (key === first.key || Object.hasOwn(entries, key)) continue;
        addIssue({
          input: key,
          expected: "never",
          message: "unknown field",
          path: [{ type: "object", origin: "key", input, key, value: input[key] }],
        });
      }
    }),
  );
}

/** The type a schema expects, as the messages name it (`object`, not valibot's `Object`). */
function expectedType(issue: v.BaseIssue<unknown>): string {
  if (issue.type.endsWith("object")) return "object";
  if (issue.type === "array") return "array";
  return issue.expected ?? issue.type;
}

/** The message of an issue whose check carries none: a wrong type or a value outside a list. */
function genericMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "picklist") {
    // valibot names the options `("a" | "b")`; the messages have always said `"a"|"b"`.
    const options = (issue.expected ?? "").replace(/^\((.*)\)$/, "$1").replaceAll(" | ", "|");
    return `Invalid option: expected one of ${options}`;
  }
  // A field that is absent, not one of the wrong type.
  if (issue.input === undefined) return "is required";
  return `expected ${expectedType(issue)}, received ${typeName(issue.input)}`;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/**
 * Validates `input`; on failure, one line per problem: `path: message` (the path joined with dots,
 * `root` when the problem is the whole input) or `unknown field "path", ...`. Each field reports
 * its first problem only (a wildcard ARN is not also told it is not an ARN).
 */
export function parseWith<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  root: string,
): ParseResult<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { message: genericMessage });
  if (result.success) return { ok: true, value: result.output };
  const unknown: string[] = [];
  const problems = new Map<string, string>();
  for (const issue of result.issues) {
    const path = (issue.path ?? []).map((p) => String(p.key)).join(".");
    if (isUnknownKey(issue)) unknown.push(`"${path}"`);
    else if (!problems.has(path)) problems.set(path, `${path || root}: ${issue.message}`);
  }
  return {
    ok: false,
    problems: [...(unknown.length ? [`unknown field ${unknown.join(", ")}`] : []), ...problems.values()],
  };
}
