/**
 * `preview` and `triage` are offline: they read the incidents' and actions' declarations (decide,
 * plans, phrases, undo commands) and never call AWS, so the command line must not load the AWS
 * SDK to start them (compiling it is most of their start). An action's AWS calls live in its
 * `<action>.run.ts`, which the command line loads when something runs (scripts/build-cli.mjs).
 * These tests read the built command line (the unit tier's setup builds it when stale).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_DIR } from "../../scripts/build-cli.mjs";

/**
 * The files a built file imports statically (not `import("...")`, which loads on demand), as paths
 * in dist/cli: a one-file command in commands/ imports the split build's shared module from `..`.
 */
function staticImports(file: string): string[] {
  const text = readFileSync(path.join(CLI_DIR, file), "utf8");
  return [...text.matchAll(/(?:from|import)\s*"(\.{1,2}\/[\w./-]+\.mjs)"/g)].flatMap((m) =>
    m[1] ? [path.posix.join(path.posix.dirname(file), m[1])] : [],
  );
}

/** The file and every chunk it loads before running: what starting it compiles. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    todo.push(...staticImports(file));
  }
  return seen;
}

/** The source files a built file holds, from its source map. */
function sourcesOf(file: string): string[] {
  const map = JSON.parse(readFileSync(path.join(CLI_DIR, `${file}.map`), "utf8")) as { sources: string[] };
  return map.sources;
}

/** The command's own chunk in the split build, as main.mjs imports it when the command runs. */
function commandChunk(command: string): string {
  const main = readFileSync(path.join(CLI_DIR, "main.mjs"), "utf8");
  const chunk = new RegExp(`import\\("\\./(${command}-[\\w]+\\.mjs)"\\)`).exec(main)?.[1];
  if (!chunk) throw new Error(`main.mjs does not load a ${command} chunk`);
  return chunk;
}

/** The source files `files` hold that are the AWS SDK's, each with the file holding it. */
function sdkIn(files: Iterable<string>): string[] {
  return [...files].flatMap((f) =>
    sourcesOf(f)
      .filter((s) => SDK.test(s))
      .map((s) => `${f}: ${s}`),
  );
}

const SDK = /node_modules\/@(aws-sdk|smithy)\//;

describe("the offline commands' start", () => {
  it.each(["preview", "triage"])(
    "%s loads no AWS SDK code before it runs (split build, through main.mjs)",
    (command) => {
      const files = [...closure("main.mjs"), ...closure(commandChunk(command))];

      expect(files.length).toBeGreaterThan(5);
      expect(sdkIn(files)).toEqual([]);
    },
  );

  it.each(["preview", "triage"])(
    "%s as the bin starts it: one file, main and the command together, that requires only Node's modules, no SDK",
    (command) => {
      const file = `commands/${command}.cjs`;
      const text = readFileSync(path.join(CLI_DIR, file), "utf8");
      const required = new Set([...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
      const onDemand = [...text.matchAll(/\b__load\("\.\.\/([\w.-]+\.mjs)"\)/g)].map((m) => m[1] ?? "");
      const own = sourcesOf(file);

      // Split, the same code is about 30 files (Node pays per module file it loads).
      expect([...required].filter((r) => !r?.startsWith("node:"))).toEqual([]);
      expect(required.size).toBeGreaterThan(2);
      // What it loads on demand (the S3 source, the other commands) is the split build's.
      expect(onDemand).toContain(commandChunk(command === "preview" ? "triage" : "preview"));
      expect(onDemand.filter((f) => !existsSync(path.join(CLI_DIR, f)))).toEqual([]);
      expect(own).toContain(`../../../cli/${command}.ts`);
      expect(own).toContain("../../../cli/main.ts");
      expect(sdkIn([file])).toEqual([]);
    },
  );

  it("would see the SDK: the actions' calls are in the build, in chunks loaded when an action runs", () => {
    const chunks = readdirSync(CLI_DIR).filter((f) => f.endsWith(".mjs"));
    const revoking = chunks.filter((f) =>
      sourcesOf(f).some((s) => !s.startsWith("lazy-calls:") && s.endsWith("actions/revoke-grant.run.ts")),
    );

    expect(revoking).toHaveLength(1);
    const loaded = [...closure(revoking[0] ?? "")].flatMap(sourcesOf);
    expect(loaded.some((s) => s.includes("node_modules/@aws-sdk/client-kms/"))).toBe(true);
    expect(closure(commandChunk("preview")).has(revoking[0] ?? "")).toBe(false);
  });
});

describe("an action's AWS calls", () => {
  const dir = "functions/shared/actions";

  it("are imported only by its run module: the declarations (what preview reads) import no SDK value", () => {
    const declarations = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".run.ts"));
    const importing = declarations.filter((f) =>
      /^import\s+(?!type\s)[^;]*from\s+"@aws-sdk\//m.test(readFileSync(`${dir}/${f}`, "utf8")),
    );

    expect(declarations.length).toBeGreaterThan(10);
    expect(importing).toEqual([]);
  });

  it("run modules a declaration imports export only async functions (the command line wraps each in a loader)", () => {
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    const imported = files
      .filter((f) => !f.endsWith(".run.ts"))
      .flatMap((f) => [...readFileSync(`${dir}/${f}`, "utf8").matchAll(/from "\.\/([\w-]+)\.run\.js"/g)])
      .map((m) => `${m[1]}.run.ts`);
    const other = [...new Set(imported)].flatMap((f) =>
      [...readFileSync(`${dir}/${f}`, "utf8").matchAll(/^export\s+(.*)$/gm)]
        .filter((m) => !/^async function \w+/.test(m[1] ?? ""))
        .map((m) => `${f}: ${m[0]}`),
    );

    expect(new Set(imported).size).toBeGreaterThan(5);
    expect(other).toEqual([]);
  });
});
