/**
 * The local AWS emulator (moto, `moto_server`) for the integration tests and `kms-responder drill`:
 * start it on a free 127.0.0.1 port, wait until it answers, reset it, and stop it by its own pid.
 * moto's gaps are listed in docs/development.md (no CloudTrail LookupEvents, among others).
 *
 * Failure policy: a server that does not answer within the timeout (or exits early) is stopped
 * and the start rejects with moto's last output lines, so a broken install is reported, not hung on.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

export const MOTO_COMMAND = "moto_server";

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL`. */
  endpoint: string;
  pid: number;
  /** Stops this server (SIGTERM, then SIGKILL after a grace period). Safe to call twice. */
  stop(): Promise<void>;
}

/** Whether `moto_server` is an executable on PATH. */
export function motoAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, MOTO_COMMAND), constants.X_OK);
      return true;
    } catch {
      // Not in this directory: look in the next one.
    }
  }
  return false;
}

/** A port nobody listens on right now (the OS picks it; moto binds it a moment later). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Resolves once moto answers HTTP on `endpoint`; rejects after `timeoutMs`. */
export async function waitForMoto(
  endpoint: string,
  timeoutMs = 20_000,
  exited?: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "no answer yet";
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error("moto_server exited before it answered");
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
      lastError = `HTTP ${res.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto at ${endpoint} did not answer within ${timeoutMs} ms (${lastError})`);
}

/** Forgets every resource in every account and Region (`POST /moto-api/reset`). */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

function stopper(child: ChildProcess, pid: number): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone between the check and the kill: nothing left to stop.
        }
      }, 3_000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        clearTimeout(kill);
        resolve();
      }
    });
    return stopping;
  };
}

/**
 * Starts `moto_server -H 127.0.0.1 -p PORT` on a free port and waits until it answers.
 * The pyenv/pip launchers `exec` Python, so the child's pid is the server's own pid.
 * @throws when moto_server is missing, exits early, or does not answer within `timeoutMs`.
 */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO_COMMAND, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  // moto logs every request on stderr: keep the last lines for an error message, drop the rest.
  const tail: string[] = [];
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    tail.push(...chunk.split("\n").filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  });
  let spawnError: Error | undefined;
  child.on("error", (error) => {
    spawnError = error;
  });
  const pid = child.pid;
  const exited = () => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
  if (pid === undefined) {
    await new Promise((r) => setImmediate(r));
    throw new Error(`cannot start ${MOTO_COMMAND}: ${spawnError?.message ?? "no pid"}`);
  }
  const stop = stopper(child, pid);
  try {
    await waitForMoto(endpoint, options.timeoutMs ?? 20_000, exited);
  } catch (error) {
    await stop();
    const why = spawnError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`cannot start ${MOTO_COMMAND} on port ${port}: ${why}\n${tail.join("\n")}`.trim());
  }
  return { endpoint, pid, stop };
}
