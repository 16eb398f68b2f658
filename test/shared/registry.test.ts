import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INCIDENT_NAMES, INCIDENTS } from "../../functions/registry.js";

/** The registry and the names module the config schema reads (the compiler keeps them equal). */
const REGISTRY_FILES = ["functions/registry.ts", "functions/registry-names.ts"];

describe("the incident registry", () => {
  it("lists each declaration once, and its names list (read by the config schema) is the same list", () => {
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

  it("is, with its names module, the only source file outside an incident's own folder that names an incident", () => {
    // Production code only: functions/, cli/, emulator/, infra/, scripts/, bench/ (tests and fixtures may).
    const roots = ["functions", "cli", "emulator", "infra", "scripts", "bench"];
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith(".ts") && !REGISTRY_FILES.includes(file)) {
          offenders.push(...incidentsNamedIn(file).map((name) => `${file}: ${name}`));
        }
      }
    };
    for (const root of roots) walk(root);
    expect(offenders).toEqual([]);
  });
});
