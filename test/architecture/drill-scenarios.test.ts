/**
 * The drill's scenarios live in the incidents' folders (`functions/<incident>/drill.ts`) but are drill
 * code: no Lambda entry may reach them, or the bundles would carry the attacker's SDK calls.
 */
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isDrillOnly } from "../../cli/drill/bundles.js";
import { SCENARIOS } from "../../functions/drill-scenarios.js";
import { INCIDENTS } from "../../functions/registry.js";
import { type Edge, importEdges } from "./import-graph.js";

/** Every file `from` reaches through imports that stay at run time (type-only imports are erased). */
function reachable(edges: readonly Edge[], from: string): Set<string> {
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.typeOnly) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const seen = new Set<string>([from]);
  const todo = [from];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    for (const to of next.get(file) ?? []) {
      if (!seen.has(to)) {
        seen.add(to);
        todo.push(to);
      }
    }
  }
  return seen;
}

describe("the drill's scenario declarations", () => {
  const edges = importEdges(["functions", "cli"]);
  const entries = [
    ...INCIDENTS.map((i) => `functions/${i.name}/index.ts`),
    "functions/runbook/index.ts",
    "functions/scan/index.ts",
  ];

  it("are out of reach of every Lambda entry (nothing of the drill or the CLI in a bundle)", () => {
    const leaks = entries.flatMap((entry) =>
      [...reachable(edges, entry)]
        .filter((file) => isDrillOnly(file) || file.startsWith("cli/"))
        .map((file) => `${entry} -> ${file}`),
    );
    expect(leaks).toEqual([]);
  });

  it("would see a leak: the drill's list reaches the incidents' drill files", () => {
    const files = reachable(edges, "functions/drill-scenarios.ts");
    expect(files).toContain("functions/rogue-grant/drill.ts");
    expect(files).toContain("cli/drill/scenarios.ts");
  });

  it("are gathered from the folders: every drill.ts under functions/ is in the list, each id once", () => {
    const declared = readdirSync("functions", { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`functions/${d.name}/drill.ts`))
      .map((d) => `functions/${d.name}/drill.ts`);
    expect(declared.length).toBeGreaterThan(5);
    const listed = edges.filter((e) => e.from === "functions/drill-scenarios.ts").map((e) => e.to);
    expect(listed).toEqual(expect.arrayContaining(declared));
    const ids = SCENARIOS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
