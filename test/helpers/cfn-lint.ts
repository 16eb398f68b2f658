/**
 * cfn-lint, the Python template linter (`pip install "moto[server]" cfn-lint`), run on a template
 * object. `.ci/run` checks that it is installed; the tests that use it skip without it, except in CI.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const hasCfnLint = spawnSync("cfn-lint", ["--version"], { stdio: "ignore" }).status === 0;

/**
 * How long a lint may take: cfn-lint reads its whole resource specification on every run (seconds
 * on an idle machine, many more on a busy one); this bounds a hung linter, it measures nothing.
 */
export const CFN_LINT_TIMEOUT_MS = 180_000;

/** cfn-lint's parseable output and exit status for one template. */
export function cfnLint(template: unknown, name = "template"): { output: string; status: number } {
  const dir = mkdtempSync(path.join(tmpdir(), "kms-responder-cfn-"));
  const file = path.join(dir, `${name}.json`);
  try {
    writeFileSync(file, JSON.stringify(template));
    const output = execFileSync("cfn-lint", ["--format", "parseable", file], { encoding: "utf8" });
    return { output, status: 0 };
  } catch (error) {
    const failure = error as { status?: number; stdout?: string };
    return { output: failure.stdout ?? "", status: failure.status ?? 1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
