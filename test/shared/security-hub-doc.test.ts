/**
 * docs/security-hub.md lists the ASFF type of every registered incident, so a new incident cannot
 * land with a finding type nobody documented.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import type { Incident } from "../../functions/shared/incident.js";

const doc = readFileSync("docs/security-hub.md", "utf8");

describe("docs/security-hub.md", () => {
  it.each((INCIDENTS as readonly Incident[]).map((i) => [i.name, i.securityHubType] as const))(
    "has the row of %s with its type",
    (name, type) => {
      expect(doc).toContain(`| \`${name}\` | \`${type}\` |`);
    },
  );
});
