import { access, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, PayloadError } from "../functions/shared/errors.js";
import { SEVERITIES, type Severity } from "../functions/shared/types.js";
import {
  AWS_OPTIONS,
  AWS_OPTIONS_HELP,
  type AwsFlags,
  applyAwsFlags,
  CredentialsError,
  credentialsMessage,
  isCredentialsError,
  isMissingRegion,
} from "./aws.js";
import { loadConfigFile } from "./config-file.js";
import { type CliIo, checkWritable, quietMetricsOutsideLambda, UsageError } from "./io.js";
import type { RunClients } from "./run.js";
import { SCAN_HELP } from "./scan-help.js";
import { ARCHIVE_OPTIONS, ATHENA_DDL_HELP, TRIAGE_ARCHIVE_HELP, wantsArchive } from "./sources/options.js";
import type { NotKmsRow, TriageRow } from "./triage.js";
import { didYouMean, isParseArgsError, optionsIn, parseArgsMessage } from "./usage.js";

export { type CliIo, checkWritable, loadConfigFile, UsageError };

export const USAGE = `Usage: kms-responder <command> [options]     (kms-responder <command> --help for one)

Commands:
  scan                    what is exposed now: every key's current state judged (read-only)
  triage PATH...          what the responders would do about recorded events (offline)
  athena-ddl              the Athena table (partition projection) of an organisation trail's bucket
  preview EVENT...        the notification subscribers would get for recorded events (offline)
  analyze-policy FILE     the key-policy analyser's findings for a policy document
  run ACTION --key KEY    a runbook action, through the deployed function or --direct
  doctor                  checks a deployment read-only: trails, rules, functions, topic, key
  notify-test             sends a test notification through the deployed topic
  drill                   attack scenarios end to end against a local emulator
  stack-trace             resolves a stack logged by a deployed function to TypeScript lines

Options: --help, --version. Exit codes: 0 ok, 1 a finding or failed check, 2 bad usage or input.`;

const HELP = {
  triage: `Usage: kms-responder triage [--json | --format table|json|ocsf] [--all] [--config FILE] [--fail-on SEVERITY] [--org-names] PATH...

What the responders would do about recorded events: EventBridge events, CloudTrail records or log
files (.gz too), JSON arrays, JSON lines, directories of them (symlinks followed). Calls nothing on
AWS for local files, except Organizations' account names with --org-names.
  --json        one JSON object per input record on stdout (nothing else on stdout)
  --format      table (default), json (= --json) or ocsf: one OCSF Detection Finding (class 2004)
                per finding, for Security Lake or the OCSF-based Security Hub
  --all         list skipped records in the table too
  --config      the responder config file (the same JSON the stack deploys)
  --fail-on     exit 1 when a finding is at least this severe (${SEVERITIES.join(", ")})
  --org-names   name the accounts as the organisation does (organizations:ListAccounts, from the
                management or a delegated administrator account). The config's accountNames
                win; if the listing fails, one line on stderr and the ids alone
  --profile, --region, --endpoint-url   for an s3:// or --athena source or --org-names: as in the AWS CLI
Exit 2 when a path is missing or not one record could be read.

Examples:
  kms-responder triage events/
  kms-responder triage --fail-on high --config config.json AWSLogs/111122223333/CloudTrail/
  kms-responder triage --json export.jsonl.gz | jq -c 'select(.incident != null)'
  kms-responder triage --since 2026-11-01 --accounts 111122223333 --report nov.html s3://org-trail/AWSLogs/
${TRIAGE_ARCHIVE_HELP}`,
  "athena-ddl": ATHENA_DDL_HELP,
  "stack-trace": `Usage: kms-responder stack-trace --function NAME [--dist DIR] [FILE|-]

Resolves a stack logged by a deployed function (positions in /var/task/*.mjs) to TypeScript files,
lines and columns, with the source maps npm run build writes beside the bundles. Reads FILE, or
stdin when FILE is - or absent (a log line, a JSON log record, or a plain stack); writes the text
with each frame resolved. The maps must come from the build that was deployed.
  --function    the function that logged it: rogue-grant, runbook, ...
  --dist        where npm run build wrote the bundles (default dist)

Example:
  aws logs filter-log-events --log-group-name /aws/lambda/kms-responder-rogue-grant \\
    --filter-pattern ERROR --query 'events[].message' --output text \\
    | kms-responder stack-trace --function rogue-grant`,
  scan: SCAN_HELP,
  preview: `Usage: kms-responder preview [--json | --format text|json|chat] [--config FILE] EVENT...

The notification subscribers would receive for each recorded event if every planned action
succeeded: subject, text body with the undo commands, JSON document, message attributes. Offline:
what only AWS knows (the key's description, its state now) is shown as unknown.
  --json        one JSON object per notification (subject, text, document, attributes)
  --format chat the chat message (Slack/Teams through Amazon Q Developer in chat applications),
                one JSON document a line, as the chat topic receives it

Examples:
  kms-responder preview events/rogue-grant/external-grantee.json
  kms-responder preview --config config.json recorded/*.json
  kms-responder preview --format chat events/rogue-grant/external-grantee.json`,
  "analyze-policy": `Usage: kms-responder analyze-policy [--json] [--account ID | --key-arn ARN] [--config FILE] FILE|-

The key-policy analyser's findings for a policy document (- reads stdin). The key's account:
--account, else the account of --key-arn, else the one account the policy names.
Exit 1 on a high or critical finding.

Examples:
  kms-responder analyze-policy policy.json
  aws kms get-key-policy --key-id KEY --query Policy --output text | kms-responder analyze-policy -`,
  run: `Usage: kms-responder run ACTION --key KEY --reason TEXT [--grant ID] [--grantee ARN]
       [--stated-by WHO] [--ticket ID] [--dry-run] [--stack-name NAME] [--function-name NAME]
       [--direct] [--topic-arn ARN] [--config FILE] [--json] [--profile P] [--region R] [--endpoint-url URL]

A runbook action: revoke-grant, revoke-grantee-grants, disable-key, enable-key,
cancel-key-deletion, enable-key-rotation, analyze-key-policy. By default it starts the stack's SSM
Automation document for the action (--stack-name, default kms-responder), so SSM records who ran it
and the notification names you. --function-name NAME (or $KMS_RESPONDER_RUNBOOK_FUNCTION) invokes
the runbook function directly; --direct acts with your own credentials. --dry-run plans from reads and changes nothing. KMS is
called in the key ARN's Region; the rest in the configured Region, else the key's. --stated-by is
shown as "stated by", never as who ran it.
Exit 1 when the action failed (or analyze-key-policy finds something high or critical).
${AWS_OPTIONS_HELP}

Examples:
  kms-responder run revoke-grant --key arn:aws:kms:eu-west-1:111122223333:key/KEY-ID --grant GRANT-ID \
      --reason "grant from a leaked access key" --ticket INC-42 --dry-run
  kms-responder run cancel-key-deletion --key alias/payments --reason "not approved" --direct`,
  doctor: `Usage: kms-responder doctor [--region REGION]... [--stack-name NAME] [--json] [--profile P] [--endpoint-url URL]

Checks a deployment read-only with your credentials, one line per check (ok, or what to fix): a
trail logging write management events (KMS included) in each Region, each incident's rule
present and enabled, each function present with its errors in the last 24 hours and its
on-failure queue empty, the topic with a confirmed subscription and a policy that lets alarms
publish, the notification key enabled. Exit 1 when a check fails.
  --region      a Region the trails must cover (repeatable; default the configured Region); the
                stack is read in the first one
  --stack-name  the deployed stack (default kms-responder)
  --profile     the AWS CLI profile to use (else AWS_PROFILE, else the default chain)
  --endpoint-url  a custom endpoint for every service (else AWS_ENDPOINT_URL)

Examples:
  kms-responder doctor
  kms-responder doctor --region us-east-1 --region eu-west-1 --stack-name kms-responder-prod`,
  "notify-test": `Usage: kms-responder notify-test [--topic-arn ARN] [--stack-name NAME] [--region R] [--profile P]
       [--endpoint-url URL]

Sends a test notification through the deployed topic. The topic admits only the responder roles,
so by default the deployed runbook function does it: analyze-key-policy on the stack's own
notification key (read-only; --stack-name, default kms-responder), published like any finding.
--topic-arn publishes a "[TEST] kms-responder notification test" message (attributes severity=info
incident=test outcome=notified) with your own credentials instead: a topic without the stack's
policy, or a local emulator.
${AWS_OPTIONS_HELP}

Examples:
  kms-responder notify-test
  kms-responder notify-test --topic-arn arn:aws:sns:eu-west-1:111122223333:kms-responder-Notifications`,
  drill: `Usage: kms-responder drill [--json] [--endpoint URL] [--only ID,...] [--build auto|always|never] [--verbose]

Attack scenarios end to end against a local emulator (moto_server on a free port, or --endpoint):
each attack's CloudTrail event goes through the rule patterns to the built handler and the end
state is read back. --verbose prints each notification's text body. Exit 1 unless every scenario
ends as promised.

Examples:
  kms-responder drill
  kms-responder drill --only external-grant --verbose`,
} as const;

/** Applies `--profile`, `--region`, `--endpoint-url` before any client exists. */
export function useAwsFlags(flags: AwsFlags): void {
  const problems = applyAwsFlags(flags);
  if (problems.length) throw new UsageError(problems.join("; "));
}

function parseSeverity(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const found = SEVERITIES.find((s) => s === value.toLowerCase());
  if (!found) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(", ")} (got "${value}")`);
  return found;
}

/** `--format` (or `--json`, its short form for json), checked. */
function triageFormat(given: string | undefined, json: boolean | undefined): "table" | "json" | "ocsf" {
  const format = given ?? (json ? "json" : "table");
  if (format !== "table" && format !== "json" && format !== "ocsf")
    throw new UsageError(
      `--format must be table, json or ocsf (got "${format}")${didYouMean(format, ["table", "json", "ocsf"])}`,
    );
  if (json && format !== "json") throw new UsageError("--json is --format json: pass one of them");
  return format;
}

/** Every local path (`-` is stdin) exists and can be read, before any work. */
async function checkReadable(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    if (p === "-") continue;
    try {
      await access(p);
    } catch {
      throw new ConfigError(`cannot read ${p}: no such file or directory, or not readable`);
    }
  }
}

async function triage(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      format: { type: "string" },
      all: { type: "boolean", default: false },
      config: { type: "string" },
      "fail-on": { type: "string" },
      "org-names": { type: "boolean", default: false },
      ...ARCHIVE_OPTIONS,
      ...AWS_OPTIONS,
    },
  });
  useAwsFlags(values);
  if (positionals.length === 0 && values.athena === undefined)
    throw new UsageError(
      "triage needs at least one PATH (a file or a directory), an s3:// location or --athena TABLE",
    );
  const format = triageFormat(values.format, values.json);
  const failOn = parseSeverity(values["fail-on"]);
  const loaded = await loadConfigFile(values.config);
  // The only call triage makes for local files: the organisation's account names, and only when
  // asked for (evidence on a laptop without credentials stays offline, even under an organisation's
  // config); without credentials it says so once and goes on.
  const config = values["org-names"]
    ? await (await import("./account-names.js")).withOrganizationNames(loaded, io)
    : loaded;
  // Before any work: a run over an archive can take hours, and its report must not be lost at the end.
  if (values.report !== undefined) await checkWritable(values.report, "--report");
  // Loaded on demand: only an archive needs the S3 and Athena clients.
  const archive = wantsArchive(values, positionals)
    ? await (await import("./sources/index.js")).archiveInput(values, positionals, io)
    : undefined;
  const report = values.report === undefined ? undefined : (await import("./report.js")).reportCollector();
  if (!archive) await checkReadable(positionals);
  // Loaded on demand, as every command's code is: `preview` never loads the triage pipeline.
  const { fileInput, runTriage } = await import("./triage.js");
  let code: number;
  try {
    code = await runTriage(
      {
        input: archive?.input ?? fileInput(positionals, config),
        config,
        json: format === "json",
        ocsf: format === "ocsf",
        all: values.all,
        failOn,
        // Only when someone listens: a row no one asks for is not built.
        ...((archive?.onRow || report) && {
          onRow: (row: TriageRow | NotKmsRow) => {
            archive?.onRow?.(row);
            report?.add(row);
          },
        }),
      },
      io,
    );
  } finally {
    await archive?.finish();
  }
  if (report && values.report !== undefined) {
    const inputs = values.athena !== undefined ? [`athena:${values.athena}`] : positionals;
    await (await import("./report.js")).writeReport(values.report, report.rows, {
      inputs,
      generatedAt: new Date(),
    });
    io.err(`report: ${report.rows.length} findings written to ${values.report}`);
  }
  return code;
}

async function analyzePolicy(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      account: { type: "string" },
      "key-arn": { type: "string" },
      config: { type: "string" },
    },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError("analyze-policy takes exactly one FILE (or - for stdin)");
  const config = await loadConfigFile(values.config);
  const { runAnalyzePolicy } = await import("./analyze-policy.js");
  return runAnalyzePolicy(
    { file, account: values.account, keyArn: values["key-arn"], json: values.json, config },
    io.out,
  );
}

/** The AWS clients of `run`, created on first use (tests replace them). */
let runClients: (() => RunClients) | undefined;
export function setRunClients(factory: (() => RunClients) | undefined): void {
  runClients = factory;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      key: { type: "string" },
      grant: { type: "string" },
      grantee: { type: "string" },
      reason: { type: "string" },
      "stated-by": { type: "string" },
      // The flag's older name: still accepted, with the same meaning (a statement, not a proof).
      "requested-by": { type: "string" },
      ticket: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      direct: { type: "boolean", default: false },
      "function-name": { type: "string" },
      "stack-name": { type: "string" },
      "topic-arn": { type: "string" },
      config: { type: "string" },
      json: { type: "boolean", default: false },
      ...AWS_OPTIONS,
    },
  });
  useAwsFlags(values);
  const [action, ...extra] = positionals;
  if (!action) throw new UsageError("run needs an ACTION (revoke-grant, disable-key, ...)");
  if (extra.length) throw new UsageError(`run takes exactly one ACTION (got also ${extra.join(" ")})`);
  if (values["stated-by"] !== undefined && values["requested-by"] !== undefined)
    throw new UsageError("--requested-by is the old name of --stated-by: pass one of them");
  const config = await loadConfigFile(values.config);
  quietMetricsOutsideLambda();
  // Loaded on demand: triage and analyze-policy never load the AWS SDK.
  const { DEFAULT_RUNBOOK_FUNCTION, defaultRunClients, runCommand } = await import("./run.js");
  const functionFlag = values["function-name"] ?? process.env.KMS_RESPONDER_RUNBOOK_FUNCTION;
  return runCommand(
    {
      action,
      key: values.key,
      grant: values.grant,
      grantee: values.grantee,
      reason: values.reason,
      statedBy: values["stated-by"] ?? values["requested-by"],
      ticket: values.ticket,
      dryRun: values["dry-run"],
      direct: values.direct,
      // Through the stack's SSM document unless a function is named: SSM records who ran it.
      via: functionFlag ? "lambda" : "ssm",
      stackName: values["stack-name"] ?? "kms-responder",
      functionName: functionFlag ?? DEFAULT_RUNBOOK_FUNCTION,
      topicArn: values["topic-arn"] ?? process.env.NOTIFICATION_TOPIC_ARN,
      json: values.json,
      config,
    },
    io.out,
    runClients ? runClients() : await defaultRunClients(values.key),
  );
}

const COMMANDS: Record<keyof typeof HELP, (args: string[], io: CliIo) => Promise<number>> = {
  triage,
  // Loaded on demand: each loads only what it needs (the AWS clients, the emulator).
  preview: async (args, io) => (await import("./preview.js")).previewCommand(args, io),
  "analyze-policy": analyzePolicy,
  run,
  doctor: async (args, io) => (await import("./doctor.js")).doctorCommand(args, io),
  "notify-test": async (args, io) => (await import("./notify-test.js")).notifyTestCommand(args, io),
  drill: async (args, io) => (await import("./drill.js")).drillCommand(args, io),
  "athena-ddl": async (args, io) => (await import("./sources/index.js")).athenaDdlCommand(args, io),
  "stack-trace": async (args, io) => (await import("./stack-trace.js")).stackTraceCommand(args, io),
  scan: async (args, io) => (await import("./scan.js")).scanCommand(args, io, loadConfigFile),
};

function isCommand(name: string): name is keyof typeof HELP {
  return Object.hasOwn(HELP, name);
}

/** The package's version, from package.json. */
async function version(): Promise<string> {
  const text = await readFile(new URL("../package.json", import.meta.url), "utf8");
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === "object" && parsed !== null && "version" in parsed
    ? String(parsed.version)
    : "unknown";
}

/**
 * Runs the CLI; returns the exit code. Never throws. A usage error is one line and a pointer to
 * the command's help, never the whole help.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-V" || command === "version") {
    io.out(`kms-responder ${await version()}`);
    return 0;
  }
  if (command === "--help" || command === "-h") {
    io.out(USAGE);
    return 0;
  }
  if (command === "help") {
    const topic = rest[0];
    if (topic && isCommand(topic)) io.out(HELP[topic]);
    else io.out(USAGE);
    return 0;
  }
  if (!command) {
    io.err(USAGE);
    return 2;
  }
  if (!isCommand(command)) {
    const hint = command.startsWith("-")
      ? `unknown option ${command}${didYouMean(command, ["--help", "--version"])}`
      : `unknown command "${command}"${didYouMean(command, Object.keys(HELP))}`;
    io.err(`kms-responder: ${hint}\nsee kms-responder --help`);
    return 2;
  }
  // Before "--": after it, "--help" is an argument (a file may be named so).
  const end = rest.indexOf("--");
  const flags = end === -1 ? rest : rest.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h")) {
    io.out(HELP[command]);
    return 0;
  }
  try {
    return await COMMANDS[command](rest, io);
  } catch (error) {
    const failure = describeFailure(command, error);
    io.err(
      `kms-responder ${command}: ${failure.message}${failure.usage ? `\nsee kms-responder ${command} --help` : ""}`,
    );
    return failure.code;
  }
}

/**
 * Whether `error` is of this class (a subclass too), or of a copy of it under the same name:
 * `preview` and `triage` start from a build of their own (one file), and what they load on demand
 * (the S3 source, the organisation's names) comes from the split build, with its own copy of each
 * class (scripts/build-cli.mjs).
 */
function isKind(
  error: unknown,
  kind: abstract new (...args: never[]) => Error,
  name: string,
): error is Error {
  return error instanceof kind || (error instanceof Error && error.name === name);
}

/**
 * What a command's error says and its exit code. Usage errors (parseArgs' TypeErrors with codes
 * ERR_PARSE_ARGS_*, said plainly; a runbook payload built from wrong flags) end with the help hint.
 * A credentials problem is said once, as such, whichever call met it first.
 */
function describeFailure(
  command: keyof typeof HELP,
  error: unknown,
): { message: string; usage: boolean; code: number } {
  if (isKind(error, CredentialsError, "CredentialsError"))
    return { message: error.message, usage: false, code: 2 };
  if (isCredentialsError(error)) return { message: credentialsMessage(error), usage: false, code: 2 };
  if (isMissingRegion(error))
    return { message: "no Region configured: pass --region (or set AWS_REGION)", usage: true, code: 2 };
  if (isParseArgsError(error))
    return { message: parseArgsMessage(error, optionsIn(HELP[command])), usage: true, code: 2 };
  const message = error instanceof Error ? error.message : String(error);
  if (isKind(error, UsageError, "UsageError") || isKind(error, PayloadError, "PayloadError"))
    return { message, usage: true, code: 2 };
  return { message, usage: false, code: isKind(error, ConfigError, "ConfigError") ? 2 : 1 };
}
/** Runs the CLI on this process's arguments and sets its exit code. */
export async function runCli(): Promise<void> {
  // stdout is buffered: one write per 64 KB instead of one per line (a write per record was the
  // largest single cost of triaging a big export). stderr is not buffered, so errors come at once.
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (pending.length === 0) return;
    process.stdout.write(pending.join(""));
    pending = [];
    size = 0;
  };
  try {
    process.exitCode = await main(process.argv.slice(2), {
      out: (line) => {
        pending.push(line, "\n");
        size += line.length + 1;
        if (size >= 65_536) flush();
      },
      err: (line) => {
        flush();
        process.stderr.write(`${line}\n`);
      },
      isTty: process.stderr.isTTY === true,
      // A pipe is asynchronous: process.stdout buffers whatever its reader has not taken yet.
      drain: () => {
        flush();
        return process.stdout.writableNeedDrain
          ? new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()))
          : Promise.resolve();
      },
    });
  } finally {
    flush();
  }
}
