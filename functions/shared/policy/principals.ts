/**
 * Reading the `Principal` / `NotPrincipal` element of a key-policy statement in every shape real
 * policies use: `"*"`, a string, an array, `{"AWS": string|array}`, `{"Service": ...}`,
 * `{"Federated": ...}`, `{"CanonicalUser": ...}`. Values of the wrong type are skipped, never
 * thrown on.
 */

import { parseArn } from "../arn.js";
import { isObject } from "../json.js";
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

/** The one object guard (functions/shared/json.ts), under the name the analyser uses. */
export const isRecord = isObject;

/** The strings of a string-or-array policy value; other element types are skipped. */
export function stringList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) if (typeof item === "string") out.push(item);
  return out;
}

/**
 * The values of a principal element: strings, and JSON numbers as IAM reads them (its grammar
 * allows an unquoted account id: `{"AWS": 444455556666}`); a number that is not 12 digits names
 * no account and is read as the unknown principal it is. Other element types are skipped.
 */
export function principalList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item === "string") out.push(item);
    else if (typeof item === "number" && Number.isSafeInteger(item) && item >= 0) {
      out.push(String(item));
    }
  }
  return out;
}

/** The kind of principal a key of a `Principal` object names (`AWS`, `service`, ...: case-insensitive). */
export function principalKind(key: string): PrincipalKind {
  return KIND_BY_KEY[key.toLowerCase()] ?? "Other";
}

/** The principals a `Principal`/`NotPrincipal` element names; [] when it is absent or malformed. */
export function readPrincipals(element: unknown): PolicyPrincipal[] {
  if (typeof element === "string" || typeof element === "number" || Array.isArray(element)) {
    return principalList(element).map((value) => ({ kind: "AWS", value }));
  }
  if (!isRecord(element)) return [];
  const out: PolicyPrincipal[] = [];
  for (const key of Object.keys(element)) {
    const kind = principalKind(key);
    for (const value of principalList(element[key])) out.push({ kind, value });
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

/** The one ARN parser (functions/shared/arn.ts): principals in policies are read with it too. */
export type { Arn as ArnParts } from "../arn.js";
export { parseArn };
