/**
 * The synthesized template passes cfn-lint, inside `npm test`. cfn-lint is a Python tool
 * (`pip install "moto[server]" cfn-lint`): without it the test is skipped with a loud message,
 * except in CI (`CI` set), where a missing linter is a failure (.ci/run checks for it too).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildStack } from "./stack-fixture.js";

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { stdio: "ignore" }).status === 0;
if (!hasCfnLint) {
  const message =
    'cfn-lint is not installed: the template lint is skipped. Install it with: pip install "moto[server]" cfn-lint';
  if (process.env.CI) throw new Error(message);
  console.warn(`\n*** ${message} ***\n`);
}

describe.skipIf(!hasCfnLint)("cfn-lint on the synthesized template", () => {
  const built = buildStack();
  const dir = mkdtempSync(path.join(tmpdir(), "kms-responder-cfn-"));
  afterAll(() => {
    built.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports no error or warning", () => {
    // Prepare
    const file = path.join(dir, "template.json");
    writeFileSync(file, JSON.stringify(built.template.toJSON()));

    // Act
    let output = "";
    let status = 0;
    try {
      output = execFileSync("cfn-lint", ["--format", "parseable", file], { encoding: "utf8" });
    } catch (error) {
      const failure = error as { status?: number; stdout?: string };
      status = failure.status ?? 1;
      output = failure.stdout ?? "";
    }

    // Assess
    expect(output.trim()).toBe("");
    expect(status).toBe(0);
  });
});
