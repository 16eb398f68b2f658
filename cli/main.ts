/**
 * `kms-responder`: the command line. Exit codes: 0 ok; 1 a finding reached `--fail-on` (or the
 * command's own failure condition); 2 bad usage, unreadable path or invalid config.
 * `bin/kms-responder.mjs` calls `runCli()`; tests call `main()` with their own io.
 */
import { access, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { type Config, DEFAULT_CONFIG, parseConfigText } from "../functions/shared/config.js";
import { ConfigError, PayloadError } from "../functions/shared/errors.js";
import { SEVERITIES, type Severity } from "../functions/shared/types.js";
import { runAnalyzePolicy } from "./analyze-policy.js";
import { type CliIo, UsageError } from "./io.js";
import type { RunClients } from "./run.js";
import { runTriage } from "./triage.js";

export { type CliIo, UsageError };

export const USAGE = `Usage: kms-responder <command> [options]

Commands:
  triage [--json] [--all] [--config FILE] [--fail-on SEVERITY] PATH...
      What the responders would do about recorded events (EventBridge events, CloudTrail
      records or log files, .gz, JSON arrays, JSON lines, directories). Calls nothing on AWS.
      --json        one JSON object per input record on stdout
      --all         list skipped records in the table too
      --config      the responder config file (the same JSON the stack deploys)
      --fail-on     exit 1 when a finding is at least this severe (${SEVERITIES.join(", ")})

  analyze-policy [--json] [--account ID | --key-arn ARN] [--config FILE] FILE|-
      The key-policy analyser's findings for a policy document (- reads stdin). The key's
      account: --account, else the account of --key-arn, else the one account the policy
      names. Exit 1 on a high or critical finding.

  run ACTION --key KEY --reason TEXT [--grant ID] [--grantee ARN] [--stated-by WHO]
      [--ticket ID] [--dry-run] [--direct] [--function-name NAME] [--topic-arn ARN]
      [--config FILE] [--json]
      A runbook action: revoke-grant, revoke-grantee-grants, disable-key, enable-key,
      cancel-key-deletion, enable-key-rotation, analyze-key-policy. By default it invokes the
      deployed runbook function (--function-name, default $KMS_RESPONDER_RUNBOOK_FUNCTION or
      kms-responder-runbook); --direct acts with your own credentials. --stated-by (old name
      --requested-by) is shown as "stated by", never as who ran it; it defaults to your STS
      caller identity. Exit 1 when the action failed, or when analyze-key-policy finds
      something high or critical.

  drill [--json] [--endpoint URL] [--only ID,...] [--build auto|always|never] [--verbose]
      Attack scenarios end to end against a local emulator (moto_server on a free port, or
      --endpoint): each attack's CloudTrail event goes through the rule patterns to the built
      handler and the end state is read back. Exit 1 unless every scenario ends as promised.

Exit codes: 0 ok, 1 a finding reached --fail-on (triage) or was high/critical (analyze-policy),
2 bad usage, unreadable path or invalid config.`;

export async function loadConfigFile(file: string | undefined): Promise<Config> {
  if (!file) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read config file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseConfigText(text, `config file ${file}`);
}

function parseSeverity(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const found = SEVERITIES.find((s) => s === value.toLowerCase());
  if (!found) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(", ")} (got "${value}")`);
  return found;
}

async function triage(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      config: { type: "string" },
      "fail-on": { type: "string" },
    },
  });
  if (positionals.length === 0)
    throw new UsageError("triage needs at least one PATH (a file or a directory)");
  const failOn = parseSeverity(values["fail-on"]);
  const config = await loadConfigFile(values.config);
  for (const p of positionals) {
    try {
      await access(p);
    } catch {
      throw new ConfigError(`cannot read ${p}: no such file or directory, or not readable`);
    }
  }
  return runTriage({ paths: positionals, config, json: values.json, all: values.all, failOn }, io);
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
  return runAnalyzePolicy(
    { file, account: values.account, keyArn: values["key-arn"], json: values.json, config },
    io.out,
  );
}

/** The AWS clients of `run`, created on first use (tests replace them). */
let runClients: (() => RunClients) | undefined;
export function setRunClients(factory: () => RunClients): void {
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
      "topic-arn": { type: "string" },
      config: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const [action, ...extra] = positionals;
  if (!action || extra.length) throw new UsageError("run takes exactly one ACTION");
  if (values["stated-by"] !== undefined && values["requested-by"] !== undefined)
    throw new UsageError("--requested-by is the old name of --stated-by: pass one of them");
  const config = await loadConfigFile(values.config);
  // Loaded on demand: triage and analyze-policy never load the AWS SDK.
  const { DEFAULT_RUNBOOK_FUNCTION, defaultRunClients, runCommand } = await import("./run.js");
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
      functionName:
        values["function-name"] ?? process.env.KMS_RESPONDER_RUNBOOK_FUNCTION ?? DEFAULT_RUNBOOK_FUNCTION,
      topicArn: values["topic-arn"] ?? process.env.NOTIFICATION_TOPIC_ARN,
      json: values.json,
      config,
    },
    io.out,
    (runClients ?? defaultRunClients)(),
  );
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  triage,
  "analyze-policy": analyzePolicy,
  run,
  // Loaded on demand: only the drill needs the emulator, the SDK clients and the built bundles.
  drill: async (args, io) => (await import("./drill.js")).drillCommand(args, io),
};

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`kms-responder: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs throws TypeError with codes ERR_PARSE_ARGS_*: usage errors too.
    const usage = error instanceof UsageError || (error instanceof TypeError && "code" in error);
    io.err(`kms-responder ${command}: ${message}${usage ? `\n\n${USAGE}` : ""}`);
    return usage || error instanceof ConfigError || error instanceof PayloadError ? 2 : 1;
  }
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
