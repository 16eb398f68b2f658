/**
 * What a handler reads about the key before deciding again: the key itself (DescribeKey: state,
 * manager, ARN of an alias), its tags, the grant an event names (ListGrants), the current policy
 * (GetKeyPolicy) and its DisableKey/EnableKey history (CloudTrail). Reads that do not depend on
 * each other run in parallel: remediation waits for one round trip of reads, not a chain (only a
 * record that names its key by alias needs a DescribeKey first).
 *
 * A read that fails is recorded in `readErrors`; the deciders then hold the actions that depend on
 * it (`holdUnverified`): the responder never acts blind.
 */
import type { GrantListEntry, KMSClient } from "@aws-sdk/client-kms";
import { type KeyRef, parseKeyArn } from "./arn.js";
import { kmsForKey } from "./clients/kms.js";
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
} from "./clients/kms-sdk.js";
import type { GrantFact, KeyFacts, KeyMaterialFact } from "./decision.js";
import { awsErrorName, describeError } from "./errors.js";
import type { DetailParser } from "./event.js";
import type { HistoryReader, MemberCredentials } from "./history-reader.js";
import { ownOrganization } from "./organization.js";

export interface FactRequest {
  /** The facts to read: shared names (`FACT_READERS`) or the incident's own (`readers`). */
  names: readonly string[];
  /** The incident's own fact readers, by name. */
  readers?: Readonly<Record<string, FactReader>>;
  /** The key, or how the record named it (alias / id) when no ARN was known. */
  key: KeyRef | undefined;
  keyHint: string | undefined;
  grantId?: string;
  eventTime?: string;
  history?: HistoryReader;
  /** The event names whose earlier calls on the key the incident reads (`earlier`). */
  remember?: readonly string[];
  /** The incident's own event-detail parsers, to normalise those earlier calls with. */
  parsers?: readonly DetailParser[];
  /** The client for the key's account and Region (default: the given client, per Region). */
  kmsFor?: (keyArn: string) => Promise<KMSClient>;
  /** The member role's credentials for a key in another account (its history is read there). */
  credentialsFor?: (keyArn: string) => Promise<MemberCredentials | undefined>;
}

/** Resolves a key by alias or id (DescribeKey accepts both). */
export async function resolveKey(
  kms: KMSClient,
  hint: string,
): Promise<{ key?: KeyRef; state?: string; manager?: string; description?: string; error?: string }> {
  try {
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: hint }))).KeyMetadata;
    const key = parseKeyArn(meta?.Arn);
    if (!key) return { error: `DescribeKey ${hint} returned no key ARN` };
    const alias = hint.startsWith("alias/") ? hint : undefined;
    return {
      key: alias ? { ...key, alias } : key,
      ...(meta?.KeyState && { state: meta.KeyState }),
      ...(meta?.KeyManager && { manager: meta.KeyManager }),
      description: meta?.Description ?? "",
    };
  } catch (error) {
    return { error: describeError(error) };
  }
}

function grantFact(g: {
  GranteePrincipal?: string;
  RetiringPrincipal?: string;
  Operations?: string[];
  Constraints?: { EncryptionContextSubset?: unknown; EncryptionContextEquals?: unknown };
  Name?: string;
}): GrantFact {
  return {
    grantee: g.GranteePrincipal,
    retiringPrincipal: g.RetiringPrincipal,
    operations: [...(g.Operations ?? [])],
    constrained: Boolean(g.Constraints?.EncryptionContextSubset || g.Constraints?.EncryptionContextEquals),
    name: g.Name,
  };
}

/** The grant with this id on the key as KMS lists it now, or undefined when the key has none such. */
export async function grantById(
  kms: KMSClient,
  keyArn: string,
  grantId: string,
): Promise<GrantListEntry | undefined> {
  try {
    const out = await kms.send(new ListGrantsCommand({ KeyId: keyArn, GrantId: grantId }));
    return (out.Grants ?? []).find((g) => g.GrantId === grantId);
  } catch (error) {
    // ListGrants answers NotFoundException for a grant id that does not exist on the key.
    if (awsErrorName(error) === "NotFoundException") return undefined;
    throw error;
  }
}

async function readGrant(kms: KMSClient, keyArn: string, grantId: string): Promise<GrantFact | null> {
  const grant = await grantById(kms, keyArn, grantId);
  return grant ? grantFact(grant) : null;
}

async function readTags(kms: KMSClient, keyArn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const out = await kms.send(new ListResourceTagsCommand({ KeyId: keyArn, Marker: marker }));
    for (const t of out.Tags ?? []) if (t.TagKey) tags[t.TagKey] = t.TagValue ?? "";
    marker = out.Truncated ? out.NextMarker : undefined;
  } while (marker);
  return tags;
}

/** Every material of the key, with its state (ListKeyRotations, every page). */
async function readKeyMaterials(client: KMSClient, arn: string): Promise<KeyMaterialFact[]> {
  const out: KeyMaterialFact[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(
      new ListKeyRotationsCommand({ KeyId: arn, IncludeKeyMaterial: "ALL_KEY_MATERIAL", Marker: marker }),
    );
    for (const r of page.Rotations ?? []) {
      if (r.KeyMaterialId)
        out.push({ id: r.KeyMaterialId, state: r.KeyMaterialState, importState: r.ImportState });
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return out;
}

/**
 * How long the notification may wait for the key's last use. It is started with the round of
 * reads, but only the notification waits for it (never the decision or the action: see
 * `FactReader.notice`); its quota is small (5 requests per second per account and Region), and a
 * throttled, retried read should not hold back the notification much either.
 */
const LAST_USAGE_WAIT_MS = 1500;

/**
 * When and for what the key was last used, as one sentence. GetKeyLastUsage reports the last
 * successful cryptographic operation since KMS began tracking (`TrackingStartDate`); an empty
 * answer means no use since then. Any error (an older Region, a missing permission, no answer
 * within the wait) is "unknown".
 */
export async function lastUsage(
  client: Pick<KMSClient, "send">,
  arn: string,
  waitMs = LAST_USAGE_WAIT_MS,
): Promise<string> {
  try {
    const out = await client.send(new GetKeyLastUsageCommand({ KeyId: arn }), {
      abortSignal: AbortSignal.timeout(waitMs),
    });
    const used = out.KeyLastUsage;
    const since = out.TrackingStartDate?.toISOString();
    if (used?.Timestamp) {
      return `${used.Timestamp.toISOString()} (${used.Operation ?? "an operation"}${used.CloudTrailEventId ? `, CloudTrail event ${used.CloudTrailEventId}` : ""})`;
    }
    return since ? `not used since ${since}, when KMS began tracking its use` : "never (no use recorded)";
  } catch (error) {
    return `unknown (${describeError(error)})`;
  }
}

/** What a fact reader reads with: the key's client and ARN, and the request (grant id, history, ...). */
export interface FactContext {
  client: KMSClient;
  arn: string;
  request: FactRequest;
  /** Whether another read of this round already sends DescribeKey (the `key` fact, or resolving an alias). */
  described: boolean;
}

/** The key's aliases (one ListAliases page: a key has few), as the notification names them. */
async function readAliases(client: KMSClient, arn: string): Promise<string[]> {
  const out = await client.send(new ListAliasesCommand({ KeyId: arn }));
  return (out.Aliases ?? []).flatMap((a) => (a.AliasName ? [a.AliasName] : []));
}

/**
 * What the notification says to name the key (its aliases and description), read in the same
 * parallel round as the facts the decision needs, so that acting is followed by no read but the
 * verification. Best effort: a failed read leaves the field unknown, never holds an action. The
 * description comes from the round's DescribeKey when another read sends one.
 */
async function readNotice({ client, arn, described }: FactContext): Promise<Partial<KeyFacts>> {
  const [aliases, meta] = await Promise.allSettled([
    readAliases(client, arn),
    described ? Promise.resolve(undefined) : client.send(new DescribeKeyCommand({ KeyId: arn })),
  ]);
  const facts: Partial<KeyFacts> = {};
  if (aliases.status === "fulfilled") facts.aliases = aliases.value;
  if (meta.status === "fulfilled" && meta.value)
    facts.keyDescription = meta.value.KeyMetadata?.Description ?? "";
  return facts;
}

/**
 * One fact, read by name: the IAM actions it needs (the roles are derived from the reads an
 * incident declares) and the read, which returns the fields of `KeyFacts` it fills and keeps
 * everything it read that a decider may want. No `read`: the fact is read elsewhere.
 */
export interface FactReader {
  permissions: readonly string[];
  read?(ctx: FactContext): Promise<Partial<KeyFacts>>;
  /**
   * Set for a read only the notification uses: it starts with the round, but neither the decision
   * nor the actions wait for it; what it read becomes these lines of the notification's details,
   * added after acting. Such a read must never throw.
   */
  notice?(read: Partial<KeyFacts>): string[];
}

/** The shared fact readers, by name. An incident may declare its own (`Incident.facts`). */
export const FACT_READERS = {
  key: {
    permissions: ["kms:DescribeKey"],
    async read({ client, arn }) {
      const meta = (await client.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata;
      return {
        // Read here for the notification too (see `notice`).
        ...(meta && { keyDescription: meta.Description ?? "" }),
        ...(meta?.KeyState && { keyState: meta.KeyState }),
        ...(meta?.KeyManager && { keyManager: meta.KeyManager }),
        ...(meta?.Origin && { keyOrigin: meta.Origin }),
        ...(meta?.CurrentKeyMaterialId && { currentKeyMaterialId: meta.CurrentKeyMaterialId }),
      };
    },
  },
  tags: {
    permissions: ["kms:ListResourceTags"],
    read: async ({ client, arn }) => ({ tags: await readTags(client, arn) }),
  },
  grant: {
    permissions: ["kms:ListGrants"],
    async read({ client, arn, request }) {
      return request.grantId ? { grant: await readGrant(client, arn, request.grantId) } : {};
    },
  },
  policy: {
    permissions: ["kms:GetKeyPolicy"],
    async read({ client, arn }) {
      const out = await client.send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: "default" }));
      return { policy: out.Policy ?? "" };
    },
  },
  rotation: {
    permissions: ["kms:GetKeyRotationStatus"],
    async read({ client, arn }) {
      const out = await client.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
      return {
        rotationEnabled: out.KeyRotationEnabled === true,
        ...(out.RotationPeriodInDays !== undefined && { rotationPeriodInDays: out.RotationPeriodInDays }),
      };
    },
  },
  history: {
    permissions: ["cloudtrail:LookupEvents"],
    async read({ arn, request }) {
      const history = request.history;
      if (!history) return {};
      const credentials = request.credentialsFor ? await request.credentialsFor(arn) : undefined;
      const h = await history.read(arn, request.eventTime, credentials);
      return { prior: h.prior, ...(h.disabledSince && { disabledSince: h.disabledSince }) };
    },
  },
  "key-material": {
    permissions: ["kms:ListKeyRotations"],
    read: async ({ client, arn }) => ({ keyMaterials: await readKeyMaterials(client, arn) }),
  },
  earlier: {
    permissions: ["cloudtrail:LookupEvents"],
    async read({ arn, request }) {
      const names = request.remember ?? [];
      if (names.length === 0) return {};
      const credentials = request.credentialsFor ? await request.credentialsFor(arn) : undefined;
      // Loaded on the first read, as the deletion history is: most invocations never get here.
      const { earlierCalls } = await import("./earlier-cloudtrail.js");
      const earlier = await earlierCalls(arn, {
        names,
        before: request.eventTime,
        parsers: request.parsers ?? [],
        ...(credentials && { credentials }),
      });
      return { earlier };
    },
  },
  "last-usage": {
    permissions: ["kms:GetKeyLastUsage"],
    // Never fails: a Region without the API, or a role without the permission, says "unknown".
    read: async ({ client, arn }) => ({ lastUsage: await lastUsage(client, arn) }),
    // Who still needs the key is for the reader of the notification: the action never waits for it.
    notice: (read) => (read.lastUsage ? [`Last used: ${read.lastUsage}`] : []),
  },
  notice: { permissions: ["kms:DescribeKey", "kms:ListAliases"], read: readNotice },
  organization: {
    permissions: ["organizations:DescribeOrganization"],
    async read() {
      const id = await ownOrganization();
      return id ? { organizationId: id } : {};
    },
  },
} as const satisfies Readonly<Record<string, FactReader>>;

/** The shared facts' names. */
export type FactName = keyof typeof FACT_READERS;

/** The IAM actions a shared read needs (the stack derives the roles from these). */
export function factPermissions(name: FactName): readonly string[] {
  return FACT_READERS[name].permissions;
}

/** The IAM actions each shared read needs. */
/** The reader of a fact: the incident's own first, then the shared one. */
export function factReader(
  name: string,
  own: Readonly<Record<string, FactReader>> | undefined,
): FactReader | undefined {
  return own?.[name] ?? (FACT_READERS as Readonly<Record<string, FactReader>>)[name];
}

/** What a round of reads gives: the key (resolved from an alias when needed) and its facts. */
export interface FactsRead {
  key: KeyRef | undefined;
  facts: KeyFacts;
  /**
   * The notification's lines from the reads only it uses (`FactReader.notice`), started with the
   * round and still running when `readFacts` returns. Never rejects.
   */
  notices: Promise<string[]>;
}

const NO_NOTICES: Promise<string[]> = Promise.resolve([]);

/** Starts the notification-only reads; their lines, in the order requested. */
function startNotices(readers: readonly FactReader[], ctx: FactContext): Promise<string[]> {
  if (readers.length === 0) return NO_NOTICES;
  return Promise.all(
    readers.map(async (reader) => {
      try {
        return reader.notice?.((await reader.read?.(ctx)) ?? {}) ?? [];
      } catch {
        // A notice read is declared never to throw; were one to, the notification only lacks its line.
        return [];
      }
    }),
  ).then((lines) => lines.flat());
}

/**
 * Reads the requested facts in parallel. Never throws: a failed read goes to `readErrors`.
 * Returns the key too (resolved from an alias when needed). The reads only the notification uses
 * are started with the others but not awaited (`notices`).
 */
export async function readFacts(kms: KMSClient, request: FactRequest): Promise<FactsRead> {
  const errors: Record<string, string> = {};
  const facts: KeyFacts = {};
  let key = request.key;
  const wants = new Set<string>(request.names);
  let described = wants.has("key");
  if (!key && request.keyHint) {
    const resolved = await resolveKey(kms, request.keyHint);
    if (resolved.error) errors.key = resolved.error;
    key = resolved.key;
    if (resolved.state) facts.keyState = resolved.state;
    if (resolved.manager) facts.keyManager = resolved.manager;
    if (resolved.description !== undefined) facts.keyDescription = resolved.description;
    described = resolved.description !== undefined;
    wants.delete("key");
  }
  const done = (notices = NO_NOTICES): FactsRead => ({
    key,
    facts: Object.keys(errors).length ? { ...facts, readErrors: errors } : facts,
    notices,
  });
  if (!key) return done();
  const arn = key.arn;
  let client: KMSClient;
  try {
    client = request.kmsFor ? await request.kmsFor(arn) : await kmsForKey(kms, arn);
  } catch (error) {
    // The member role could not be assumed: every read (and so every action) is unverified.
    for (const name of wants) errors[name] = describeError(error);
    return done();
  }
  const ctx: FactContext = { client, arn, request, described };
  const readers = [...wants].flatMap((name) => {
    const reader = factReader(name, request.readers);
    return reader?.read ? [{ name, reader }] : [];
  });
  const reads = readers
    .filter(({ reader }) => !reader.notice)
    .map(async ({ name, reader }) => {
      try {
        // Merged in place: the reads run concurrently, each adds its own fields.
        Object.assign(facts, await reader.read?.(ctx));
      } catch (error) {
        errors[name] = describeError(error);
      }
    });
  const notices = startNotices(
    readers.flatMap(({ reader }) => (reader.notice ? [reader] : [])),
    ctx,
  );
  await Promise.all(reads);
  return done(notices);
}
