/** Spawning the real bin as a user runs it, for the CLI tests. */
import { execFile } from "node:child_process";

export const BIN = "bin/kms-responder.cjs";

export interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bin (or another command) and collects its exit code and output; never rejects. */
export function spawn(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  command: readonly string[] = ["node", BIN],
): Promise<Spawned> {
  const [file = "node", ...pre] = command;
  return new Promise((resolve) => {
    execFile(
      file,
      [...pre, ...args],
      {
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
