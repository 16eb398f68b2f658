/**
 * The synthesized template passes cfn-lint, inside `npm test`. cfn-lint is a Python tool
 * (`pip install "moto[server]" cfn-lint`): without it the test is skipped with a loud message,
 * except in CI (`CI` set), where a missing linter is a failure (.ci/run checks for it too).
 */
import { afterAll, describe, expect, it } from "vitest";
import { CFN_LINT_TIMEOUT_MS, cfnLint, hasCfnLint } from "../helpers/cfn-lint.js";
import { buildStack } from "./stack-fixture.js";

if (!hasCfnLint) {
  const message =
    'cfn-lint is not installed: the template lint is skipped. Install it with: pip install "moto[server]" cfn-lint';
  if (process.env.CI) throw new Error(message);
  console.warn(`\n*** ${message} ***\n`);
}

describe.skipIf(!hasCfnLint)("cfn-lint on the synthesized template", () => {
  const built = buildStack();
  afterAll(() => built.cleanup());

  it(
    "reports no error or warning",
    () => {
      // Act
      const { output, status } = cfnLint(built.template.toJSON());

      // Assess
      expect(output.trim()).toBe("");
      expect(status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );
});
