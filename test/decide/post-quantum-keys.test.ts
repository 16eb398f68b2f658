/**
 * Post-quantum signing keys (ML_DSA_44/65/87) go through every incident like any other key: no
 * decision reads the key spec, so a record that names one decides exactly as it would for any key.
 */
import { describe, expect, it } from "vitest";
import { DETAIL_PARSERS, INCIDENTS } from "../../functions/registry.js";
import { normalise } from "../../functions/shared/event.js";
import { decideAny } from "../../functions/shared/route.js";
import { ENFORCING, EXAMPLE } from "../helpers/decide.js";
import { loadAllEvents } from "../helpers/fixtures.js";

/** The record as it reads for an ML_DSA key: the key spec wherever CloudTrail writes one. */
function asMlDsa(raw: unknown, spec: string): unknown {
  const copy = structuredClone(raw) as { detail: Record<string, unknown> };
  const request = copy.detail.requestParameters;
  if (request && typeof request === "object")
    Object.assign(request, { keySpec: spec, keyUsage: "SIGN_VERIFY" });
  const response = copy.detail.responseElements as { keyMetadata?: Record<string, unknown> } | null;
  if (response?.keyMetadata) Object.assign(response.keyMetadata, { keySpec: spec, keyUsage: "SIGN_VERIFY" });
  return copy;
}

const decideAll = (raw: unknown, config: typeof ENFORCING) => {
  const event = normalise(raw, DETAIL_PARSERS);
  if (!event) throw new Error("did not normalise");
  return decideAny(INCIDENTS, event, config, { earlier: [] });
};

describe("ML_DSA keys decide like any other key, in every incident", () => {
  const fixtures = loadAllEvents();

  it("covers a fixture of every registered incident", () => {
    const covered = new Set(fixtures.map((f) => f.incident));
    for (const incident of INCIDENTS) expect(covered.has(incident.name), incident.name).toBe(true);
  });

  it.each(
    fixtures.flatMap((f) =>
      ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"].map((spec) => [f.path, spec, f.event] as const),
    ),
  )("%s as %s", (_path, spec, raw) => {
    for (const config of [ENFORCING, EXAMPLE]) {
      expect(decideAll(asMlDsa(raw, spec), config)).toEqual(decideAll(raw, config));
    }
  });
});
