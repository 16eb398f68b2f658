import { describe, expect, it } from "vitest";
import { cycles, importEdges } from "./import-graph.js";

describe("the import graph", () => {
  const edges = importEdges(["functions", "cli", "infra"]);

  it("reads the project's imports (the check below looks at something)", () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({
      from: "functions/incidents.ts",
      to: "functions/rogue-grant/incident.ts",
      typeOnly: false,
    });
    expect(edges).toContainEqual({
      from: "functions/shared/incident.ts",
      to: "functions/shared/config.ts",
      typeOnly: true,
    });
  });

  it("has no cycle in functions/, cli/ or infra/, type-only imports included", () => {
    expect(cycles(edges).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("finds a cycle when there is one (a -> b -> c -> a)", () => {
    const edge = (from: string, to: string) => ({ from, to, typeOnly: true });
    expect(cycles([edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("c", "d")])).toEqual([
      ["a", "b", "c", "a"],
    ]);
  });

  it("keeps shared/ free of the registry: shared code never depends on the incidents", () => {
    const intoRegistry = edges.filter(
      (e) =>
        e.from.startsWith("functions/shared/") &&
        (e.to === "functions/registry.ts" || e.to === "functions/incidents.ts"),
    );
    expect(intoRegistry).toEqual([]);
  });
});
