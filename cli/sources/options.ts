/**
 * What `triage` and `athena-ddl` add to the command line for archives (an s3:// location, an
 * Athena table, the HTML report): the options and their help. No AWS client is imported here, so
 * the command line loads the S3 and Athena clients only when an archive is read (./index.ts).
 */

/** The options `triage` takes for archives (spread into its parseArgs options). */
export const ARCHIVE_OPTIONS = {
  since: { type: "string" },
  until: { type: "string" },
  accounts: { type: "string" },
  regions: { type: "string" },
  concurrency: { type: "string" },
  resume: { type: "string" },
  athena: { type: "string" },
  workgroup: { type: "string" },
  database: { type: "string" },
  "output-location": { type: "string" },
  unpartitioned: { type: "boolean" },
  report: { type: "string" },
} as const;

/** Appended to `triage --help`: the archive inputs and the report. */
export const TRIAGE_ARCHIVE_HELP = `
Archives (organisation trails), read where they live:
  triage [...] s3://BUCKET[/PREFIX] [--since DAY] [--until DAY] [--accounts ID,...] [--regions R,...]
         [--concurrency N] [--resume FILE]
                only the trail prefixes the filters keep are listed and read (DAY: YYYY-MM-DD, UTC,
                the day CloudTrail delivered the file); --resume FILE: objects done, run again with
                the same FILE to go on after an interruption (use with --json >> FILE.jsonl)
  triage [...] --athena [DATABASE.]TABLE [--database D] [--workgroup W] [--output-location s3://...]
         [--since DAY] [--until DAY] [--accounts ID,...] [--regions R,...] [--unpartitioned]
                one Athena query for the KMS events the incidents care about (table: athena-ddl)
  --report FILE.html   also write the findings as a self-contained page (sortable table, timeline)`;

export const ATHENA_DDL_HELP = `Usage: kms-responder athena-ddl --bucket BUCKET --org-id o-... --accounts ID,... [--table NAME]
       [--database D] [--regions R,...] [--start-date YYYY/MM/DD] [--prefix P]

Prints CREATE EXTERNAL TABLE for an organisation trail's bucket with partition projection over
account, Region and day (nothing to load, ever): run it once in Athena, then
triage --athena TABLE. Projection lists the accounts (--accounts) and Regions (default: the
commercial Regions); the table is named cloudtrail_org unless --table.

Examples:
  kms-responder athena-ddl --bucket org-trail-logs --org-id o-a1b2c3d4e5 \
      --accounts 111122223333,444455556666 --database security --start-date 2025/01/01`;

export interface ArchiveValues {
  since?: string;
  until?: string;
  accounts?: string;
  regions?: string;
  concurrency?: string;
  resume?: string;
  athena?: string;
  workgroup?: string;
  database?: string;
  "output-location"?: string;
  unpartitioned?: boolean;
}

/** Whether the command line reads an archive (or passes an archive-only option): load ./index.ts. */
export function wantsArchive(values: ArchiveValues, positionals: readonly string[]): boolean {
  return (
    positionals.some((p) => p.startsWith("s3://")) ||
    (Object.keys(ARCHIVE_OPTIONS) as Array<keyof typeof ARCHIVE_OPTIONS>).some(
      (k) => k !== "report" && values[k as keyof ArchiveValues] !== undefined,
    )
  );
}
