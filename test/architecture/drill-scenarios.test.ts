/**
 * The drill's scenarios live in the incidents' folders (`functions/<incident>/drill.ts`) but are drill
 * code: no Lambda entry may reach them, or the bundles would carry the attacker's SDK calls.
 */
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isDrillOnly } from "../../cli/drill/bundles.js";
import { DRILL_FOLDERS, gatherScenarios } from "../../cli/drill/gather.js";
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

  it("would see a leak: a drill file reaches the drill's building blocks, and counts as drill code", () => {
    const files = reachable(edges, "functions/rogue-grant/drill.ts");
    expect(isDrillOnly("functions/rogue-grant/drill.ts")).toBe(true);
    expect(files).toContain("cli/drill/scenarios.ts");
  });

  it("are gathered from the folders: every drill.ts under functions/ is a registered incident's or the sweep's, each id once", async () => {
    const declared = readdirSync("functions", { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`functions/${d.name}/drill.ts`))
      .map((d) => d.name);
    expect(declared.length).toBeGreaterThan(5);
    expect(DRILL_FOLDERS).toEqual(expect.arrayContaining(declared));

    const gathered = (await gatherScenarios()).map((s) => s.id);
    for (const folder of declared) {
      const own = ((await import(`../../functions/${folder}/drill.ts`)) as { scenarios: { id: string }[] })
        .scenarios;
      expect(gathered, folder).toEqual(expect.arrayContaining(own.map((s) => s.id)));
    }
    expect(new Set(gathered).size).toBe(gathered.length);
    expect(gathered.at(-1)).toBe("sweep-before-deployment");
  });
});
