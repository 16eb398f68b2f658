import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INCIDENT_NAMES, INCIDENTS } from "../../functions/registry.js";

/** The one file outside an incident's own folder that names it: the registry's list. */
const REGISTRY_FILES = ["functions/incidents.ts"];

/** `rogue-grant` -> `rogueGrant`: the identifier a declaration is exported as. */
const camel = (name: string) => name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());

describe("the incident registry", () => {
  it("lists each declaration once; the names (read by the config check) are the declarations'", () => {
    const names = INCIDENTS.map((i) => i.name);
    expect(new Set(names).size).toBe(names.length);
    expect(INCIDENT_NAMES).toEqual(names);
  });

  it("has a folder with a declaration and a Lambda entry for every incident, and a fixture folder", () => {
    for (const { name } of INCIDENTS) {
      expect(readdirSync(`functions/${name}`)).toEqual(
        expect.arrayContaining(["incident.ts", "index.ts", "decide.ts"]),
      );
      expect(readdirSync(`events/${name}`).length, name).toBeGreaterThan(0);
    }
  });

  /** The incidents a source file names in a string, other than the one whose folder it is in. */
  const incidentsNamedIn = (file: string): string[] => {
    const text = readFileSync(file, "utf8");
    return INCIDENTS.map(({ name }) => name).filter(
      (name) => !file.startsWith(`functions/${name}/`) && new RegExp(`["'\`]${name}["'\`/]`).test(text),
    );
  };

  /** Production code only: functions/, cli/, emulator/, infra/, scripts/, bench/ (tests and fixtures may). */
  const productionFiles = (): string[] => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith(".ts")) files.push(file);
      }
    };
    for (const root of ["functions", "cli", "emulator", "infra", "scripts", "bench"]) walk(root);
    return files;
  };

  it("is the only source file outside an incident's own folder that names an incident", () => {
    const offenders = productionFiles()
      .filter((file) => !REGISTRY_FILES.includes(file))
      .flatMap((file) => incidentsNamedIn(file).map((name) => `${file}: ${name}`));

    expect(offenders).toEqual([]);
  });

  it("names each incident once outside its folder: the one line that adds it (its name and options come from its declaration)", () => {
    const list = readFileSync("functions/incidents.ts", "utf8");
    for (const { name } of INCIDENTS) {
      const lines = list.split("\n").filter((line) => new RegExp(`["'\`/]${name}["'\`/]`).test(line));
      expect(lines, name).toEqual([`export { ${camel(name)} } from "./${name}/incident.js";`]);
    }
    expect(list.split("\n").filter((line) => line.startsWith("export ")).length).toBe(INCIDENTS.length);
  });
});
