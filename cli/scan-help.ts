/**
 * `kms-responder scan --help`, apart from the command so that the CLI's help loads no AWS client.
 */

import { DEFAULT_SHARE } from "../functions/scan/budget.js";
import { SEVERITIES } from "../functions/shared/types.js";
import { AWS_OPTIONS_HELP } from "./aws.js";

export const SCAN_HELP = `Usage: kms-responder scan [--regions R,...] [--accounts ID,... [--role-name NAME]] [--config FILE]
       [--json] [--report FILE.html] [--fail-on SEVERITY] [--concurrency N]
       [--profile NAME] [--region REGION] [--endpoint-url URL]

What is exposed now: every customer managed key in the Regions (and accounts) judged with the
incidents' own rules: grants to untrusted principals, key policies, keys pending deletion, rotation
off, imported material that expires; exempt and protected tags count as they do for events. Reads
only (ListKeys, ListAliases, DescribeKey, ListResourceTags, ListGrants, GetKeyPolicy,
GetKeyRotationStatus, every page). AWS managed keys are counted and left out. Progress on stderr.
  --regions      Regions to scan (default: the config's organisation Regions, else your configured Region)
  --accounts     accounts to scan through --role-name (default: the account of your credentials)
  --role-name    the role assumed in each account (default: the config's member role, kms-responder-member)
  --json         one JSON object per finding on stdout (incident, severity, reasons, key, account, region, actions)
  --report       also write the findings as an HTML page
  --fail-on      exit 1 when a finding is at least this severe (${SEVERITIES.join(", ")})
  --concurrency  keys read at once per account and Region (default 8); whatever the concurrency, each
                 account and Region gets at most ${DEFAULT_SHARE * 100}% of each read's default KMS quota
${AWS_OPTIONS_HELP}
                 (--region scans that one Region when --regions is not given)
Exit 2 when nothing could be read (no credentials, no Region, every account unreachable).

Examples:
  kms-responder scan --regions us-east-1,eu-west-1
  kms-responder scan --accounts 111122223333,444455556666 --role-name kms-responder-member --json
  kms-responder scan --fail-on high --report exposure.html`;
