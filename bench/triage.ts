/**
 * Triage throughput and memory on a generated CloudTrail S3 export, beside the floor of
 * gunzip + JSON.parse + one output line per record. Each run is a child process (its peak RSS is
 * its own) writing to /dev/null, as `kms-responder triage --json ... > out` would.
 */
import { type ChildProcess, fork } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./triage-child.ts", import.meta.url));

export interface TriageRun {
  label: string;
  mode: "triage" | "floor";
  lines: number;
  seconds: number;
  /** CPU seconds of the child (user + system, all threads). */
  cpuSeconds: number;
  maxRssMb: number;
}

interface ChildFigures {
  lines: number;
  ms: number;
  cpuMs: number;
  maxRssMb: number;
}

/**
 * Runs benc./triage-child.ts; stdout goes to /dev/null, or to a pipe this process reads slowly
 * (about 13 MB/s, slower than triage writes: a reader such as `| gzip > slow-disk`).
 */
export async function triageRun(
  label: string,
  mode: "triage" | "floor",
  paths: string[],
  stdout: "null" | "slow-pipe" = "null",
): Promise<TriageRun> {
  const devNull = openSync("/dev/null", "w");
  let child: ChildProcess;
  try {
    child = fork(CHILD, [mode, ...paths], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", stdout === "null" ? devNull : "pipe", "inherit", "ipc"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
  } finally {
    closeSync(devNull);
  }
  const pipe = child.stdout;
  if (pipe) {
    pipe.on("data", () => {
      pipe.pause();
      setTimeout(() => pipe.resume(), 5);
    });
  }
  const figures = await new Promise<ChildFigures>((resolve, reject) => {
    let got: ChildFigures | undefined;
    child.on("message", (m) => {
      got = m as ChildFigures;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0 && got) resolve(got);
      else reject(new Error(`${label}: the triage child exited with ${code}`));
    });
  });
  return {
    label,
    mode,
    lines: figures.lines,
    seconds: figures.ms / 1000,
    cpuSeconds: figures.cpuMs / 1000,
    maxRssMb: figures.maxRssMb,
  };
}

export function relative(file: string): string {
  return path.relative(process.cwd(), file);
}
