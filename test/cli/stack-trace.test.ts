import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../cli/main.js";
import { resolveStack } from "../../cli/stack-trace.js";

// A function built as `npm run build` builds one (minified ESM, map beside it), that throws from
// line 4, column 9 of its source. Its stack, as Lambda would log it, points into /var/task.
const SOURCE = `export function handler(event: { name: string }): string {
  const name = event.name;
  if (name === "boom") {
    throw new Error("boom: " + name);
  }
  return name;
}
`;

let root: string;
let folder: string;
let logged: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "stack-trace-"));
  mkdirSync(path.join(root, "functions", "demo"), { recursive: true });
  writeFileSync(path.join(root, "functions", "demo", "index.ts"), SOURCE);
  folder = path.join(root, "dist", "demo");
  await build({
    entryPoints: { index: path.join(root, "functions", "demo", "index.ts") },
    outdir: folder,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  // A process of its own, run as the functions run (no --enable-source-maps): the test runner
  // resolves maps itself, so a stack taken here would already point into the source.
  const bundle = pathToFileURL(path.join(folder, "index.mjs")).href;
  const script = `const { handler } = await import(${JSON.stringify(bundle)}); try { handler({ name: "boom" }); } catch (e) { console.log(e.stack); }`;
  const stack = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  logged = stack.replaceAll(pathToFileURL(folder).href, "file:///var/task");
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function collect(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false }, out, err };
}

describe("stack-trace", () => {
  it("resolves a frame in a deployed bundle to the TypeScript file, line and column", () => {
    expect(logged).toMatch(/file:\/\/\/var\/task\/index\.mjs:1:\d+/);
    const { text, frames, resolved, missing } = resolveStack(logged, folder, root);
    expect(text).toContain(`${path.join("functions", "demo", "index.ts")}:4:11`);
    expect(text).not.toContain("/var/task/index.mjs");
    expect(text).toContain("boom: boom");
    expect({ frames, resolved, missing }).toEqual({ frames: 1, resolved: 1, missing: [] });
  });

  it("resolves frames inside a JSON log line and leaves frames of other files as they are", () => {
    const line = JSON.stringify({ level: "ERROR", error: { stack: logged } });
    const other = "at x (/var/runtime/index.mjs:1:2)";
    const { text, resolved } = resolveStack(`${line}\n${other}`, folder, root);
    expect(resolved).toBe(1);
    expect(text).toContain("index.ts:4:11");
    expect(text).toContain(other);
  });

  it("names a bundle without a map and leaves its frame alone", () => {
    const frame = "at f (file:///var/task/chunks/chunk-NOPE.mjs:1:10)";
    expect(resolveStack(frame, folder, root)).toEqual({
      text: frame,
      frames: 1,
      resolved: 0,
      missing: ["chunks/chunk-NOPE.mjs"],
    });
  });

  it("as a command: reads the stack from a file and exits 0; a missing --function is a usage error", async () => {
    const file = path.join(root, "logged.txt");
    writeFileSync(file, logged);
    const ok = collect();
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(await main(["stack-trace", "--function", "demo", file], ok.io)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(ok.out.join("\n")).toContain(`${path.join("functions", "demo", "index.ts")}:4:11`);

    const bad = collect();
    expect(await main(["stack-trace", file], bad.io)).toBe(2);
    expect(bad.err.join("\n")).toContain("needs --function NAME");
    const missing = collect();
    expect(await main(["stack-trace", "--function", "nope", "--dist", folder, file], missing.io)).toBe(2);
    expect(missing.err.join("\n")).toContain("run npm run build");
  });
});
