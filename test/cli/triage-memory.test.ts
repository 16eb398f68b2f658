/**
 * Triage's offline memory of a key's earlier records: kept in time order whatever order the files
 * are read in, and handed to a decider with only the records at or before the one judged.
 */
import { describe, expect, it } from "vitest";
import { type TriageMemory, triageEntry } from "../../cli/triage.js";
import { parseConfig } from "../../functions/shared/config.js";
import { loadEvent } from "../helpers/fixtures.js";

const config = parseConfig({});

/** The fixture's CloudTrail record, at another time and with its own id. */
function recordAt(name: string, time: string, id: string): Record<string, unknown> {
  const event = loadEvent(name) as { detail: Record<string, unknown> };
  return { ...event.detail, eventTime: time, eventID: id };
}

describe("triage memory", () => {
  it("keeps a key's remembered records oldest first, whatever order they are read in", () => {
    // Prepare
    const memory: TriageMemory = new Map();
    const times = ["2026-11-28T18:40:00Z", "2026-11-28T18:20:00Z", "2026-11-28T18:30:00Z"];

    // Act
    times.forEach((time, index) => {
      const value = recordAt("key-deletion-scheduled/unapproved", time, `id-${index}`);
      triageEntry({ file: "f.json", index, value }, config, memory);
    });

    // Assess
    const [kept] = [...memory.values()];
    expect(kept?.events.map((e) => e.eventTime)).toEqual([
      "2026-11-28T18:20:00Z",
      "2026-11-28T18:30:00Z",
      "2026-11-28T18:40:00Z",
    ]);
  });

  it("a DeleteKey is judged by the schedule read before it, not by one of a later time", () => {
    // Prepare: the approved schedule comes after the deletion in time (read first, though)
    const memory: TriageMemory = new Map();
    const approved = parseConfig({ approvedDeletionPrincipals: ["arn:aws:iam::111122223333:role/KeyAdmin"] });
    const deletion = loadEvent("key-deleted/delete-approved-key") as { detail: Record<string, unknown> };
    const deletedAt = String(deletion.detail.eventTime);
    const later = new Date(Date.parse(deletedAt) + 60_000).toISOString();
    const schedule = recordAt("key-deletion-scheduled/approved", later, "schedule-later");

    // Act
    triageEntry({ file: "f.json", index: 0, value: schedule }, approved, memory);
    const row = triageEntry({ file: "f.json", index: 1, value: deletion.detail }, approved, memory);

    // Assess
    expect(row).toMatchObject({ incident: "key-deleted", severity: "critical" });
  });
});
