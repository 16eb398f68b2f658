import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTION_TYPES } from "../../functions/shared/actions/index.js";

/** The first cell of each row of the README's "Undoing an automatic action" table. */
function undoRows(): string[] {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("## Undoing an automatic action")[1]?.split("\n## ")[0];
  if (!section) throw new Error("README.md has no 'Undoing an automatic action' section");
  return section
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| action") && !line.startsWith("|---"))
    .map((line) => line.split("|")[1]?.trim() ?? "");
}

describe("README: undoing an automatic action", () => {
  it("has a row for every action that changes a key (the policy analysis changes nothing)", () => {
    // Arrange
    const rows = undoRows();
    const changing = ACTION_TYPES.filter((type) => type !== "analyze-key-policy");

    // Assert
    expect(changing.filter((type) => !rows.some((row) => row.split(" ")[0] === type))).toEqual([]);
  });
});
