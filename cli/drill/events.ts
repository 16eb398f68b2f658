/**
 * CloudTrail-shaped EventBridge events about real (emulated) resources: a fixture from `events/`
 * rewritten so that its key, account, Region and grant are the ones that exist in moto, with a
 * fresh event id and time. The rest of the record (who, from where, with which user agent) stays as
 * the fixture wrote it, which is as AWS writes it.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DETAIL_PARSERS } from "../../functions/registry.js";
import { parseKeyArn } from "../../functions/shared/arn.js";
import { normalise } from "../../functions/shared/event.js";
import { isObject, type JsonObject } from "../../functions/shared/json.js";

/** The repository's `events/` directory. */
export const EVENTS_DIR = fileURLToPath(new URL("../../events/", import.meta.url));

/** A fresh copy of `events/<name>.json` (`readFixture("<incident>/<variant>")`). */
export function readFixture(name: string): JsonObject {
  const parsed: unknown = JSON.parse(
    readFileSync(`${EVENTS_DIR}${name.replace(/\.json$/, "")}.json`, "utf8"),
  );
  if (!isObject(parsed)) throw new Error(`events/${name}.json is not a JSON object`);
  return parsed;
}

export interface EventTarget {
  /** The real key's ARN: its id, account and Region replace the fixture's everywhere. */
  keyArn: string;
  /** The real grant id, replacing `responseElements.grantId` of a CreateGrant fixture. */
  grantId?: string;
  /** Defaults to a fresh UUID (pass the same id twice to model a duplicate delivery). */
  eventId?: string;
  /** Defaults to now. */
  time?: Date;
  /** Fields merged into `detail.requestParameters` / `detail.responseElements` after the rewrite. */
  request?: JsonObject;
  response?: JsonObject;
}

/** CloudTrail's time format: ISO 8601 without milliseconds. */
export function cloudTrailTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function replaceDeep(value: unknown, replace: (s: string) => string): unknown {
  if (typeof value === "string") return replace(value);
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, replace));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, replace)]));
  }
  return value;
}

/**
 * Rewrites a fixture (EventBridge envelope or raw record) for a real key and grant: every
 * mention of the fixture's key ARN, key id, account, Region and grant id is replaced in one pass,
 * the event gets a new id and time.
 * @throws when the fixture names no key ARN (nothing to rewrite it for).
 */
export function eventForKey(fixture: JsonObject, target: EventTarget): JsonObject {
  const recorded = normalise(fixture, DETAIL_PARSERS);
  const old = recorded?.key;
  const now = parseKeyArn(target.keyArn);
  if (!recorded || !old) throw new Error("the fixture names no key ARN to rewrite");
  if (!now) throw new Error(`not a key ARN: ${target.keyArn}`);

  const pairs = new Map<string, string>([
    [old.arn, now.arn],
    [old.id, now.id],
    [old.account, now.account],
    [old.region, now.region],
  ]);
  const oldGrant = recorded.detail.kind === "grant" ? recorded.detail.grantId : undefined;
  if (oldGrant && target.grantId) pairs.set(oldGrant, target.grantId);
  return rewrite(fixture, pairs, target);
}

/**
 * Rewrites a fixture that names no key (a CloudTrail call, a Lambda change) for the emulator's
 * account and Region: every mention of the recorded account and Region is replaced, the event gets
 * a new id and time, and `target.request` is merged into the request.
 * @throws when the fixture records no account or Region.
 */
export function eventInAccount(
  fixture: JsonObject,
  target: Omit<EventTarget, "keyArn" | "grantId"> & { account: string; region: string },
): JsonObject {
  const detail = isObject(fixture.detail) ? fixture.detail : fixture;
  const account = typeof detail.recipientAccountId === "string" ? detail.recipientAccountId : undefined;
  const region = typeof detail.awsRegion === "string" ? detail.awsRegion : undefined;
  if (!account || !region) throw new Error("the fixture records no account (recipientAccountId) or Region");
  return rewrite(
    fixture,
    new Map([
      [account, target.account],
      [region, target.region],
    ]),
    target,
  );
}

/** Replaces every `pairs` key in the fixture in one pass, gives it a fresh id and time, merges the request and response. */
function rewrite(
  fixture: JsonObject,
  pairs: Map<string, string>,
  target: Omit<EventTarget, "keyArn">,
): JsonObject {
  for (const [from, to] of pairs) if (from === to) pairs.delete(from);
  const pattern = pairs.size
    ? new RegExp(
        [...pairs.keys()]
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join("|"),
        "g",
      )
    : undefined;
  const replace = (s: string) => (pattern ? s.replace(pattern, (m) => pairs.get(m) ?? m) : s);

  const event = replaceDeep(fixture, replace) as JsonObject;
  const detail = isObject(event.detail) ? event.detail : event;
  const eventId = target.eventId ?? randomUUID();
  const time = cloudTrailTime(target.time ?? new Date());
  detail.eventID = eventId;
  detail.eventTime = time;
  if (detail !== event) {
    event.id = randomUUID();
    event.time = time;
  }
  if (target.request) {
    detail.requestParameters = {
      ...(isObject(detail.requestParameters) ? detail.requestParameters : {}),
      ...target.request,
    };
  }
  if (target.response) {
    detail.responseElements = {
      ...(isObject(detail.responseElements) ? detail.responseElements : {}),
      ...target.response,
    };
  }
  return event;
}

/** CloudTrail's text form of `deletionDate` (`Dec 5, 2026, 6:31:12 PM`, UTC). */
export function cloudTrailDeletionDate(date: Date): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const h = date.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${months[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${h % 12 || 12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}
