/**
 * KMS clients for keys in other accounts of an organisation: the central responder assumes
 * `arn:<partition>:iam::<account>:role/<memberRoleName>` (the member template's role) and calls KMS
 * in the key's Region with those credentials. Credentials are cached per account and incident
 * until shortly before they expire; the session name names the incident and the event that first
 * needed them (CloudTrail in the member account shows who acted and why).
 */
import type { KMSClient, KMSClientConfig } from "@aws-sdk/client-kms";
import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from "@aws-sdk/client-sts";
import type { KeyRef } from "../arn.js";
import { describeError } from "../errors.js";
import { RESPONDER_SOURCE_IDENTITY } from "../source-identity.js";
import { RETRY } from "./retry.js";

const sts = new STSClient(RETRY);

interface Cached {
  client: Map<string, KMSClient>;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  expires: number;
}

const cache = new Map<string, Cached>();
/** Renew this long before expiry, so a slow action never runs on expired credentials. */
const MARGIN_MS = 5 * 60_000;

/** `kmsr-<incident>-<event id>`, within STS's 64 characters of `[\w+=,.@-]`. */
export function sessionName(incident: string, eventId: string | undefined): string {
  const raw = `kmsr-${incident}-${eventId ?? "manual"}`.replace(/[^\w+=,.@-]/g, "-");
  return raw.slice(0, 64);
}

export interface MemberAccess {
  partition: string;
  roleName: string;
  incident: string;
  eventId: string | undefined;
  /**
   * The KMS actions this function may use in the member account: passed as a session policy, so a
   * function gets only its own incident's actions, not the union the member role holds.
   */
  actions?: readonly string[];
  /**
   * Narrower still, for one request about one key (the runbook): `onKey` only on `keyArn`, and the
   * reads that support no resource ARN (`anywhere`, e.g. kms:ListAliases) on `*`. Takes precedence
   * over `actions`.
   */
  scope?: KeyScope;
}

/** A session limited to one key: the actions on it, and the resourceless reads beside them. */
export interface KeyScope {
  keyArn: string;
  onKey: readonly string[];
  anywhere: readonly string[];
}

/** A session policy allowing only `actions` (the member role's own policy still scopes the keys). */
export function sessionPolicy(actions: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: [...actions], Resource: "*" }],
  });
}

/** A session policy allowing `onKey` on the one key only, and `anywhere` (resourceless reads) on `*`. */
export function keySessionPolicy(scope: KeyScope): string {
  const statements = [{ Effect: "Allow", Action: [...scope.onKey], Resource: scope.keyArn }];
  if (scope.anywhere.length) statements.push({ Effect: "Allow", Action: [...scope.anywhere], Resource: "*" });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The session policy of an access, if any: the key scope first, else the function's actions. */
function policyOf(access: MemberAccess): string | undefined {
  if (access.scope) return keySessionPolicy(access.scope);
  return access.actions ? sessionPolicy(access.actions) : undefined;
}

/** The member role's ARN in an account. */
export function memberRoleArn(account: string, access: Pick<MemberAccess, "partition" | "roleName">): string {
  return `arn:${access.partition}:iam::${account}:role/${access.roleName}`;
}

/**
 * The member role's credentials for the key's account, cached until shortly before they expire.
 * @throws Error naming the role when it cannot be assumed (the action is then `failed`).
 */
export async function memberCredentials(
  key: KeyRef,
  access: MemberAccess,
  now = Date.now(),
): Promise<Cached["credentials"]> {
  return { ...(await entryFor(key, access, now)).credentials };
}

/**
 * A KMS client acting in the key's account (through the member role) and Region, made by `make`:
 * the caller's own KMS client class, so that the client and the commands sent through it are one
 * copy of the SDK (this module is bundled on its own, loaded on demand; see scripts/build.ts).
 * @throws Error naming the role when it cannot be assumed (the action is then `failed`).
 */
export async function memberKms(
  key: KeyRef,
  access: MemberAccess,
  make: (config: KMSClientConfig) => KMSClient,
  now = Date.now(),
): Promise<KMSClient> {
  const entry = await entryFor(key, access, now);
  let client = entry.client.get(key.region);
  if (!client) {
    client = make({ ...RETRY, region: key.region, credentials: { ...entry.credentials } });
    entry.client.set(key.region, client);
  }
  return client;
}

async function entryFor(key: KeyRef, access: MemberAccess, now: number): Promise<Cached> {
  const policy = policyOf(access);
  // Credentials are reused only for the same session policy: a session scoped to one key must
  // never serve a request about another.
  const cacheKey = `${key.account}/${access.incident}/${policy ?? ""}`;
  let entry = cache.get(cacheKey);
  if (!entry || entry.expires - MARGIN_MS <= now) {
    const roleArn = memberRoleArn(key.account, access);
    let out: AssumeRoleCommandOutput;
    try {
      out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName(access.incident, access.eventId),
          // Marks the session as the responder's in the member account's CloudTrail (the member
          // role's trust requires it); the loop prevention in code recognises it.
          SourceIdentity: RESPONDER_SOURCE_IDENTITY,
          ...(policy && { Policy: policy }),
        }),
      );
    } catch (error) {
      throw new Error(`could not assume ${roleArn}: ${describeError(error)}`);
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new Error(`could not assume ${roleArn}: STS returned no credentials`);
    }
    entry = {
      client: new Map(),
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
      },
      expires: c.Expiration?.getTime() ?? now + 15 * 60_000,
    };
    cache.set(cacheKey, entry);
  }
  return entry;
}
