/**
 * Reading a key's state for a sweep: every page of ListKeys, ListAliases, ListGrants and
 * ListResourceTags; DescribeKey, GetKeyPolicy and GetKeyRotationStatus. Every call first takes its
 * turn from the budget of the key's account and Region (KMS counts its quotas there), and the
 * clients retry throttling themselves (adaptive mode). A read that fails for one key is recorded
 * in the state's `readErrors`; only DescribeKey failing leaves the key unjudged.
 */
import type { GrantListEntry, KeyMetadata, KMSClient } from "@aws-sdk/client-kms";
import { parseKeyArn } from "../shared/arn.js";
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "../shared/clients/kms-sdk.js";
import { describeError } from "../shared/errors.js";
import type { KmsEvent } from "../shared/event.js";
import type { KeyState, ListedGrant, StateRead } from "../shared/state.js";
import type { Budget } from "./budget.js";

/** One account and Region: its client and the budget its calls take turns from. */
export interface Reader {
  kms: KMSClient;
  budget: Budget;
  /**
   * Who set a tag on a key, from its CloudTrail history (exemption-origin.ts), where the sweep can
   * read it: asked only for exempt-tagged keys with a finding.
   */
  tagSetter?: (keyArn: string, tagKey: string) => Promise<KmsEvent | undefined>;
}

type Paged<T> = { items: T[]; next: string | undefined };

/** Every page of a Marker/Truncated listing. */
async function allPages<T>(page: (marker: string | undefined) => Promise<Paged<T>>): Promise<T[]> {
  const items: T[] = [];
  let marker: string | undefined;
  do {
    const out = await page(marker);
    items.push(...out.items);
    marker = out.next;
  } while (marker);
  return items;
}

/** KMS sets NextMarker only while Truncated is true; a marker without Truncated ends the listing. */
function nextOf(out: {
  Truncated?: boolean | undefined;
  NextMarker?: string | undefined;
}): string | undefined {
  return out.Truncated ? out.NextMarker : undefined;
}

/** Every key id in the account and Region (customer and AWS managed). */
export function listKeyIds(r: Reader): Promise<string[]> {
  return allPages(async (Marker) => {
    await r.budget.take("ListKeys");
    const out = await r.kms.send(new ListKeysCommand({ Marker, Limit: 1000 }));
    return { items: (out.Keys ?? []).flatMap((k) => (k.KeyId ? [k.KeyId] : [])), next: nextOf(out) };
  });
}

/** Every alias of the Region, by the key id it names (one listing for all keys, not one per key). */
export async function listAliases(r: Reader): Promise<Map<string, string[]>> {
  const aliases = await allPages(async (Marker) => {
    await r.budget.take("ListAliases");
    const out = await r.kms.send(new ListAliasesCommand({ Marker, Limit: 100 }));
    return { items: out.Aliases ?? [], next: nextOf(out) };
  });
  const byKey = new Map<string, string[]>();
  for (const a of aliases) {
    if (!a.TargetKeyId || !a.AliasName) continue;
    byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) ?? []), a.AliasName]);
  }
  return byKey;
}

function listedGrant(g: GrantListEntry): ListedGrant {
  return {
    grantId: g.GrantId,
    grantee: g.GranteePrincipal,
    retiringPrincipal: g.RetiringPrincipal,
    operations: [...(g.Operations ?? [])],
    constrained: Boolean(g.Constraints?.EncryptionContextSubset || g.Constraints?.EncryptionContextEquals),
    name: g.Name,
  };
}

function readGrants(r: Reader, keyId: string): Promise<ListedGrant[]> {
  return allPages(async (Marker) => {
    await r.budget.take("ListGrants");
    const out = await r.kms.send(new ListGrantsCommand({ KeyId: keyId, Marker, Limit: 100 }));
    return { items: (out.Grants ?? []).map(listedGrant), next: nextOf(out) };
  });
}

async function readTags(r: Reader, keyId: string): Promise<Record<string, string>> {
  const tags = await allPages(async (Marker) => {
    await r.budget.take("ListResourceTags");
    const out = await r.kms.send(new ListResourceTagsCommand({ KeyId: keyId, Marker, Limit: 50 }));
    return { items: out.Tags ?? [], next: nextOf(out) };
  });
  return Object.fromEntries(tags.flatMap((t) => (t.TagKey ? [[t.TagKey, t.TagValue ?? ""]] : [])));
}

async function readPolicy(r: Reader, keyId: string): Promise<string> {
  await r.budget.take("GetKeyPolicy");
  const out = await r.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
  return out.Policy ?? "";
}

async function readRotation(r: Reader, keyId: string): Promise<NonNullable<KeyState["rotation"]>> {
  await r.budget.take("GetKeyRotationStatus");
  const out = await r.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
  return { enabled: out.KeyRotationEnabled === true, periodDays: out.RotationPeriodInDays };
}

function metadataOf(meta: KeyMetadata): KeyState["metadata"] {
  return {
    keyState: meta.KeyState,
    keyManager: meta.KeyManager,
    keySpec: meta.KeySpec ?? meta.CustomerMasterKeySpec,
    origin: meta.Origin,
    deletionDate: meta.DeletionDate,
    validTo: meta.ValidTo,
    expirationModel: meta.ExpirationModel,
    multiRegion: meta.MultiRegion === true,
  };
}

/** Whether GetKeyRotationStatus applies: symmetric keys whose material KMS made, not pending deletion. */
function rotationApplies(meta: KeyState["metadata"]): boolean {
  return (
    meta.keySpec === "SYMMETRIC_DEFAULT" &&
    meta.origin === "AWS_KMS" &&
    (meta.keyState === "Enabled" || meta.keyState === "Disabled")
  );
}

export type KeyRead =
  | { kind: "customer"; state: KeyState }
  | { kind: "aws-managed"; keyId: string }
  | { kind: "error"; keyId: string; error: string };

/**
 * The state of one key. AWS managed keys are recognised from DescribeKey and not read further:
 * nobody can change their policy, rotation or deletion, and AWS services grant on them all day.
 * Never throws.
 */
export async function readKeyState(
  r: Reader,
  keyId: string,
  aliases: ReadonlyMap<string, readonly string[]>,
  reads: ReadonlySet<StateRead>,
): Promise<KeyRead> {
  let meta: KeyMetadata | undefined;
  try {
    await r.budget.take("DescribeKey");
    meta = (await r.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  } catch (error) {
    return { kind: "error", keyId, error: `DescribeKey: ${describeError(error)}` };
  }
  const key = parseKeyArn(meta?.Arn);
  if (!meta || !key) return { kind: "error", keyId, error: "DescribeKey returned no key ARN" };
  if (meta.KeyManager === "AWS") return { kind: "aws-managed", keyId };
  const metadata = metadataOf(meta);
  const errors: Record<string, string> = {};
  const state: KeyState = { key, metadata, aliases: aliases.get(key.id) ?? [], tags: {} };
  const read = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      errors[name] = describeError(error);
    }
  };
  await Promise.all([
    read("tags", async () => {
      state.tags = await readTags(r, key.id);
    }),
    reads.has("grants") &&
      read("grants", async () => {
        state.grants = await readGrants(r, key.id);
      }),
    reads.has("policy") &&
      read("policy", async () => {
        state.policy = await readPolicy(r, key.id);
      }),
    reads.has("rotation") &&
      rotationApplies(metadata) &&
      read("rotation", async () => {
        state.rotation = await readRotation(r, key.id);
      }),
  ]);
  return { kind: "customer", state: Object.keys(errors).length ? { ...state, readErrors: errors } : state };
}
