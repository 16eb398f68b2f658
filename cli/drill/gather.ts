/**
 * The drill's scenarios, gathered from the folders: every registered incident's
 * `functions/<incident>/drill.ts` (exporting `scenarios`), in the registry's order, then the
 * sweep's (`functions/scan/drill.ts`), which reads every key the scenarios before it left. An
 * incident without a drill file has no scenario. Nothing lists them by hand, and no Lambda entry
 * imports a drill file: the import below is the drill's own, by folder name, and the command
 * line's build turns it into chunks that only the drill loads.
 */
import { existsSync } from "node:fs";
import { INCIDENTS } from "../../functions/registry.js";
import type { Scenario } from "./scenarios.js";

/** The folders whose drill files hold scenarios, in the order the drill runs them. */
export const DRILL_FOLDERS: readonly string[] = [...INCIDENTS.map((i) => i.name), "scan"];

function isScenarioList(value: unknown): value is readonly Scenario[] {
  return (
    Array.isArray(value) &&
    value.every((s: unknown) => typeof s === "object" && s !== null && "id" in s && "stage" in s)
  );
}

/** One folder's scenarios; none when it has no drill file. @throws when its drill file exports no list. */
async function scenariosOf(folder: string): Promise<readonly Scenario[]> {
  if (!existsSync(new URL(`../../functions/${folder}/drill.ts`, import.meta.url))) return [];
  const module: unknown = await import(`../../functions/${folder}/drill.ts`);
  const scenarios =
    typeof module === "object" && module !== null && "scenarios" in module && module.scenarios;
  if (!isScenarioList(scenarios)) {
    throw new Error(`functions/${folder}/drill.ts must export scenarios: Scenario[]`);
  }
  return scenarios;
}

/** Every scenario, in the order the drill runs them. */
export async function gatherScenarios(): Promise<readonly Scenario[]> {
  return (await Promise.all(DRILL_FOLDERS.map(scenariosOf))).flat();
}
