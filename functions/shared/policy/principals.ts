/**
 * Reading the `Principal` / `NotPrincipal` element of a key-policy statement in every shape real
 * policies use: `"*"`, a string, an array, `{"AWS": string|array}`, `{"Service": ...}`,
 * `{"Federated": ...}`, `{"CanonicalUser": ...}`. Values of the wrong type are skipped, never
 * thrown on.
 */

import { hasWildcard } from "./glob.js";

export type PrincipalKind = "AWS" | "Service" | "Federated" | "CanonicalUser" | "Other";

export interface PolicyPrincipal {
  kind: PrincipalKind;
  value: string;
}

/** What an AWS (or Federated) principal value says about who it is. */
export type PrincipalIdentity =
  /** `*`, or an ARN whose account is a wildcard: anyone. */
  | { type: "public" }
  /** A bare account id or an ARN in an account; `root` when it names the account itself. */
  | { type: "account"; account: string; root: boolean }
  /** A unique id (`AIDA...`), a service name, a canonical user: no account to judge. */
  | { type: "unknown" };

const ACCOUNT_ID = /^\d{12}$/;
const KIND_BY_KEY: Readonly<Record<string, PrincipalKind>> = {
  aws: "AWS",
  service: "Service",
  federated: "Federated",
  canonicaluser: "CanonicalUser",
};

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The strings of a string-or-array policy value; other element types are skipped. */
export function stringList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) if (typeof item === "string") out.push(item);
  return out;
}

/** The kind of principal a key of a `Principal` object names (`AWS`, `service`, ...: case-insensitive). */
export function principalKind(key: string): PrincipalKind {
  return KIND_BY_KEY[key.toLowerCase()] ?? "Other";
}

/** The principals a `Principal`/`NotPrincipal` element names; [] when it is absent or malformed. */
export function readPrincipals(element: unknown): PolicyPrincipal[] {
  if (typeof element === "string" || Array.isArray(element)) {
    return stringList(element).map((value) => ({ kind: "AWS", value }));
  }
  if (!isRecord(element)) return [];
  const out: PolicyPrincipal[] = [];
  for (const key of Object.keys(element)) {
    const kind = principalKind(key);
    for (const value of stringList(element[key])) out.push({ kind, value });
  }
  return out;
}

/**
 * The account behind an AWS or Federated principal value: a bare 12-digit id, or the account
 * field of an ARN (`arn:<partition>:<service>:<region>:<account>:<resource>`), e.g.
 * `arn:aws:iam::111122223333:role/x`, `arn:aws:sts::111122223333:assumed-role/x/s`,
 * `arn:aws:iam::111122223333:saml-provider/x`. Service and CanonicalUser principals have none.
 */
export function identify(principal: PolicyPrincipal): PrincipalIdentity {
  if (principal.kind !== "AWS" && principal.kind !== "Federated") return { type: "unknown" };
  const value = principal.value.trim();
  if (principal.kind === "AWS" && value === "*") return { type: "public" };
  if (ACCOUNT_ID.test(value)) return { type: "account", account: value, root: true };
  const arn = parseArn(value);
  if (arn === undefined || arn.account === "") return { type: "unknown" };
  if (hasWildcard(arn.account)) return { type: "public" };
  const root = arn.service === "iam" && arn.resource === "root";
  return { type: "account", account: arn.account, root };
}

export interface ArnParts {
  service: string;
  account: string;
  resource: string;
}

/** Splits an ARN into its fields without a regex; `undefined` when it is not `arn:...` with 6 fields. */
export function parseArn(value: string): ArnParts | undefined {
  if (!value.startsWith("arn:")) return undefined;
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const colon = value.indexOf(":", start);
    if (colon === -1) return undefined;
    fields.push(value.slice(start, colon));
    start = colon + 1;
  }
  const [, , service, , account] = fields;
  if (service === undefined || account === undefined) return undefined;
  return { service, account, resource: value.slice(start) };
}
