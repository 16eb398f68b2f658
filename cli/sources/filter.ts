/**
 * What part of an archive to look at: days, accounts, Regions. Validated here once, because the
 * values end up in S3 prefixes and in SQL text: a day is `YYYY-MM-DD` (a real calendar day), an
 * account twelve digits, a Region a Region name; anything else is a usage error.
 */
import { UsageError } from "../io.js";

export interface ArchiveFilter {
  /** First day included, `YYYY-MM-DD` (UTC). */
  since?: string;
  /** Last day included, `YYYY-MM-DD` (UTC). */
  until?: string;
  accounts?: readonly string[];
  regions?: readonly string[];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** A `YYYY-MM-DD` (or `YYYY/MM/DD`) day as `YYYY-MM-DD`. @throws UsageError otherwise. */
export function parseDay(value: string, flag: string): string {
  const text = value.trim().replaceAll("/", "-");
  const m = DAY.exec(text);
  const date = m ? new Date(`${text}T00:00:00Z`) : undefined;
  if (!m || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text)
    throw new UsageError(`${flag} must be a day as YYYY-MM-DD (got "${value}")`);
  return text;
}

function list(value: string, flag: string, pattern: RegExp, what: string): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one ${what}`);
  for (const item of items)
    if (!pattern.test(item)) throw new UsageError(`${flag}: "${item}" is not ${what}`);
  return [...new Set(items)].sort();
}

/** The filter from the command line's values. @throws UsageError on a malformed value. */
export function parseFilter(values: {
  since?: string;
  until?: string;
  accounts?: string;
  regions?: string;
}): ArchiveFilter {
  const filter: ArchiveFilter = {};
  if (values.since !== undefined) filter.since = parseDay(values.since, "--since");
  if (values.until !== undefined) filter.until = parseDay(values.until, "--until");
  if (filter.since && filter.until && filter.since > filter.until)
    throw new UsageError(`--since ${filter.since} is after --until ${filter.until}`);
  if (values.accounts !== undefined)
    filter.accounts = list(values.accounts, "--accounts", ACCOUNT, "an account id (12 digits)");
  if (values.regions !== undefined)
    filter.regions = list(values.regions, "--regions", REGION, "a Region name (e.g. eu-west-1)");
  return filter;
}

export function isAccount(value: string): boolean {
  return ACCOUNT.test(value);
}

export function isRegion(value: string): boolean {
  return REGION.test(value);
}

/** The day after `day` (`YYYY-MM-DD`). */
export function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}
