/**
 * The KMS and SNS SDK packages (what every function loads at cold start) are imported for their
 * values by one module each, clients/kms-sdk.ts and clients/sns-sdk.ts: the packages are CommonJS,
 * and a bundle converts a CommonJS package's exports once per module that imports it, at every
 * cold start. Type-only imports are erased at build time and may name the package.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith(".ts") ? [file] : [];
  });
}

/** Value imports and re-exports of the package (`import type` and `export type` left out). */
function importsValuesOf(text: string, pkg: string): boolean {
  const statement = new RegExp(`^(import|export)\\s+(?!type\\s)[^;]*?from\\s+"${pkg}";`, "gm");
  return [...text.matchAll(statement)].some((m) => {
    const names = /\{([^}]*)\}/.exec(m[0])?.[1];
    // `import { type A, type B }` is type-only too.
    return (
      names === undefined || names.split(",").some((n) => n.trim() !== "" && !n.trim().startsWith("type "))
    );
  });
}

/** Drill scenarios run in the command line, never in a bundle. */
const BUNDLED = sources("functions").filter((f) => !f.endsWith("/drill.ts"));

describe("the cold-path SDK packages", () => {
  it.each([
    ["@aws-sdk/client-kms", "functions/shared/clients/kms-sdk.ts"],
    ["@aws-sdk/client-sns", "functions/shared/clients/sns-sdk.ts"],
  ])("%s is imported for its values only by %s", (pkg, gateway) => {
    const importing = BUNDLED.filter((f) => importsValuesOf(readFileSync(f, "utf8"), pkg));

    expect(importing).toEqual([gateway]);
  });

  it("tells a value import from a type-only one", () => {
    const pkg = "@aws-sdk/client-kms";
    expect(importsValuesOf(`import { KMSClient } from "${pkg}";`, pkg)).toBe(true);
    expect(
      importsValuesOf(`import {\n  type KeyMetadata,\n  ListGrantsCommand,\n} from "${pkg}";`, pkg),
    ).toBe(true);
    expect(importsValuesOf(`export { KMSClient } from "${pkg}";`, pkg)).toBe(true);
    expect(importsValuesOf(`import type { KMSClient } from "${pkg}";`, pkg)).toBe(false);
    expect(importsValuesOf(`import { type KMSClient, type KeyMetadata } from "${pkg}";`, pkg)).toBe(false);
    expect(importsValuesOf(`import { KMSClient } from "${pkg}-extra";`, pkg)).toBe(false);
  });
});
