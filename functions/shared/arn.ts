/**
 * The one ARN parser. ARNs are split on `:` into their six fields without a regex built from input;
 * the resource part keeps any further `:` (role paths and KMS aliases may contain them).
 */

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits `arn:partition:service:region:account:resource`; undefined for anything else. */
export function parseArn(value: string | undefined): Arn | undefined {
  if (value === undefined || !value.startsWith("arn:")) return undefined;
  const fields: string[] = [];
  let start = 4;
  for (let i = 0; i < 4; i++) {
    const colon = value.indexOf(":", start);
    if (colon === -1) return undefined;
    fields.push(value.slice(start, colon));
    start = colon + 1;
  }
  const [partition = "", service = "", region = "", account = ""] = fields;
  // An AWS partition, or a pattern of one: policy conditions write ARN patterns (`arn:*:iam::...`).
  const awsPartition = /^aws[a-z-]*$/.test(partition) || /^[a-z*?-]*[*?][a-z*?-]*$/.test(partition);
  if (!awsPartition || service === "") return undefined;
  return { partition, service, region, account, resource: value.slice(start) };
}

/** A KMS key, parsed once at the boundary: every consumer reads these fields, never the ARN text. */
export interface KeyRef {
  arn: string;
  /** The key id (UUID, or `mrk-...` for multi-Region keys). */
  id: string;
  region: string;
  account: string;
  partition: string;
  /** An alias the caller used to name the key (`alias/payments`), if any. */
  alias?: string;
}

const KEY_ID = /^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function isKeyId(value: string | undefined): value is string {
  return value !== undefined && KEY_ID.test(value);
}

/** `arn:aws:kms:us-east-1:111122223333:key/1234...` as a KeyRef; undefined for any other text. */
export function parseKeyArn(value: string | undefined): KeyRef | undefined {
  const arn = parseArn(value);
  if (
    arn?.service !== "kms" ||
    !/^aws[a-z-]*$/.test(arn.partition) ||
    !/^\d{12}$/.test(arn.account) ||
    !/^[a-z0-9-]+$/.test(arn.region)
  ) {
    return undefined;
  }
  if (!arn.resource.startsWith("key/")) return undefined;
  const id = arn.resource.slice(4);
  if (!/^[A-Za-z0-9-]+$/.test(id)) return undefined;
  return { arn: `arn:${arn.partition}:kms:${arn.region}:${arn.account}:key/${id}`, id, ...pick(arn) };
}

function pick(arn: Arn): Pick<KeyRef, "region" | "account" | "partition"> {
  return { region: arn.region, account: arn.account, partition: arn.partition };
}

/** A key id qualified with the Region, account and partition it was logged in. */
export function keyRefOf(id: string, where: { region: string; account: string; partition: string }): KeyRef {
  return { arn: `arn:${where.partition}:kms:${where.region}:${where.account}:key/${id}`, id, ...where };
}

/** `alias/x` from `alias/x` or an alias ARN; undefined otherwise. */
export function aliasOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.startsWith("alias/")) return value;
  const arn = parseArn(value);
  return arn?.service === "kms" && arn.resource.startsWith("alias/") ? arn.resource : undefined;
}

/** The partition of a Region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`. */
export function partitionOfRegion(region: string | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The account of an IAM/STS ARN or a bare 12-digit account id; undefined for anything else. */
export function principalAccount(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const arn = parseArn(principal);
  return arn && (arn.service === "iam" || arn.service === "sts") && /^\d{12}$/.test(arn.account)
    ? arn.account
    : undefined;
}

/**
 * The role ARN behind an assumed-role session ARN
 * (`arn:aws:sts::111122223333:assumed-role/Name/session` -> `arn:aws:iam::111122223333:role/Name`),
 * so patterns written for roles also match their sessions. Other ARNs are returned unchanged.
 * (A session ARN drops the role's path, so the result carries none.)
 */
export function roleArnOfSession(value: string): string {
  const arn = parseArn(value);
  if (arn?.service !== "sts" || !arn.resource.startsWith("assumed-role/")) return value;
  const rest = arn.resource.slice("assumed-role/".length);
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) return value;
  return `arn:${arn.partition}:iam::${arn.account}:role/${rest.slice(0, slash)}`;
}
