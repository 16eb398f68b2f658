/**
 * The one way tests read the fixtures under `events/<incident>/<variant>.json` (never a path built by hand in a test).
 * Files are parsed once and every call hands out a `structuredClone`, so a test may mutate its
 * copy without leaking into the next test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The key the grant fixtures (`events/rogue-grant/external-grantee.json`, ...) name. */
export const GRANT_KEY_ID = "7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34";
export const GRANT_KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${GRANT_KEY_ID}`;

/** The repository's `events/` directory. */
export const EVENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "events");

/** The CloudTrail record inside an EventBridge envelope, as the fixtures write it. */
export interface CloudTrailDetail {
  eventVersion?: string;
  eventName?: string;
  eventSource?: string;
  eventTime?: string;
  eventID?: string;
  awsRegion?: string;
  userIdentity?: Record<string, unknown>;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  resources?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

/** An EventBridge "AWS API Call via CloudTrail" event (other fixtures keep the same envelope). */
export interface FixtureEvent {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: unknown[];
  detail: CloudTrailDetail;
}

export interface FixtureEntry {
  /** The folder under `events/`: an incident name, or `other`. */
  incident: string;
  /** The file name without `.json`. */
  variant: string;
  /** The path from the repository root, with `/` separators (`events/rogue-grant/own-call.json`). */
  path: string;
  event: FixtureEvent;
}

const cache = new Map<string, FixtureEvent>();

function parse(file: string): FixtureEvent {
  let parsed = cache.get(file);
  if (!parsed) {
    parsed = JSON.parse(readFileSync(file, "utf8")) as FixtureEvent;
    cache.set(file, parsed);
  }
  return structuredClone(parsed);
}

/**
 * A fresh copy of one fixture: `loadEvent("rogue-grant/external-grantee")`.
 * @throws when the file does not exist or is not JSON (a typo in a test fails loudly).
 */
export function loadEvent(name: string): FixtureEvent {
  return parse(join(EVENTS_DIR, `${name.replace(/\.json$/, "")}.json`));
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) return jsonFiles(full);
      return entry.isFile() && entry.name.endsWith(".json") ? [full] : [];
    })
    .sort();
}

/** Every `events/**\/*.json`, sorted by path, each a fresh copy. */
export function loadAllEvents(): FixtureEntry[] {
  return jsonFiles(EVENTS_DIR).map((file) => {
    const parts = relative(EVENTS_DIR, file).split(sep);
    const variant = (parts.at(-1) ?? "").replace(/\.json$/, "");
    return {
      incident: parts.slice(0, -1).join("/"),
      variant,
      path: ["events", ...parts].join("/"),
      event: parse(file),
    };
  });
}
