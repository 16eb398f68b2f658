/**
 * Builds the stack for template tests against a throwaway dist of stub bundles: synth only needs
 * each `<function>/index.mjs` to exist, so the tests never depend on `npm run build`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, type AppProps, type CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { INCIDENTS } from "../../functions/registry.js";
import { parseConfig } from "../../functions/shared/config.js";

/** Every default but the mode: enforce, as a deployment that acts sets it. */
const ENFORCE_CONFIG = parseConfig({ mode: "enforce" });

import { ResponderStack, type ResponderStackProps } from "../../infra/stack.js";

export interface StubDist {
  dir: string;
  remove(): void;
}

/** Every bundle the stack deploys: one per incident, the runbook and the sweep. */
export const ALL_BUNDLES: readonly string[] = [...INCIDENTS.map((i) => i.name), "runbook", "scan"];

export function stubDist(names: readonly string[] = ALL_BUNDLES): StubDist {
  const dir = mkdtempSync(path.join(tmpdir(), "kms-responder-dist-"));
  for (const name of names) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, "index.mjs"), "export const handler = async () => ({});\n");
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface BuiltStack {
  app: App;
  stack: ResponderStack;
  template: Template;
  /** Deletes the stub dist (call in afterAll). */
  cleanup(): void;
}

/**
 * The stack in an app of its own. CDK's built-in CloudFormation validation (a WebAssembly rule
 * engine, ~10 s per synth) is off here: `npm run synth` runs it, and the cdk-nag test synthesizes
 * with it on.
 */
export function buildStack(props: Partial<ResponderStackProps> = {}, appOptions: AppProps = {}): BuiltStack {
  const dist = stubDist();
  const app = new App({ builtinCloudFormationValidation: false, ...appOptions });
  const stack = new ResponderStack(app, "kms-responder", {
    config: ENFORCE_CONFIG,
    distDir: dist.dir,
    ...props,
  });
  return { app, stack, template: Template.fromStack(stack), cleanup: dist.remove };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

export const getAtt = (construct: IConstruct, attribute = "Arn") => ({
  "Fn::GetAtt": [logicalId(construct), attribute],
});
export const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
