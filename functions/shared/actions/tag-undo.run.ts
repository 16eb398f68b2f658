/** The tag undos' calls: the tags read, UntagResource or TagResource, the tags read back. */
import type { KMSClient } from "@aws-sdk/client-kms";
import { ListResourceTagsCommand, TagResourceCommand, UntagResourceCommand } from "../clients/kms-sdk.js";
import type { PlannedAction } from "../decision.js";
import { type ActionContext, type ActionResult, base, failed } from "./action.js";

async function tagsOf(kms: KMSClient, keyRef: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const out = await kms.send(new ListResourceTagsCommand({ KeyId: keyRef, Marker: marker }));
    for (const t of out.Tags ?? []) if (t.TagKey) tags[t.TagKey] = t.TagValue ?? "";
    marker = out.Truncated ? out.NextMarker : undefined;
  } while (marker);
  return tags;
}

/** The tag an action is about; a planned action without one is a bug in a decider, reported as failed. */
function tagOf(action: PlannedAction): { key: string; value: string } | undefined {
  return action.tag;
}

function noTag(action: PlannedAction): ActionResult {
  return { ...base(action), status: "failed", detail: "no tag named in the planned action", error: "no tag" };
}

export async function runUntagExempt(action: PlannedAction, { kms }: ActionContext): Promise<ActionResult> {
  const tag = tagOf(action);
  if (!tag) return noTag(action);
  try {
    const before = await tagsOf(kms, action.keyRef);
    if (!(tag.key in before)) {
      return {
        ...base(action),
        tag,
        status: "already-done",
        detail: `the key has no ${tag.key} tag`,
        verified: true,
      };
    }
    await kms.send(new UntagResourceCommand({ KeyId: action.keyRef, TagKeys: [tag.key] }));
  } catch (error) {
    return failed(action, error, "UntagResource");
  }
  const after = await tagsOf(kms, action.keyRef).catch(() => undefined);
  return {
    ...base(action),
    tag,
    status: "succeeded",
    detail: after === undefined ? `${tag.key} removed (not verified)` : `${tag.key} removed`,
    ...(after !== undefined && { verified: !(tag.key in after) }),
  };
}

export async function runRetagProtected(
  action: PlannedAction,
  { kms }: ActionContext,
): Promise<ActionResult> {
  const tag = tagOf(action);
  if (!tag) return noTag(action);
  try {
    const before = await tagsOf(kms, action.keyRef);
    if (tag.key in before) {
      return {
        ...base(action),
        tag,
        status: "already-done",
        detail: `the key has its ${tag.key} tag`,
        verified: true,
      };
    }
    await kms.send(
      new TagResourceCommand({ KeyId: action.keyRef, Tags: [{ TagKey: tag.key, TagValue: tag.value }] }),
    );
  } catch (error) {
    return failed(action, error, "TagResource");
  }
  const after = await tagsOf(kms, action.keyRef).catch(() => undefined);
  return {
    ...base(action),
    tag,
    status: "succeeded",
    detail: after === undefined ? `${tag.key} put back (not verified)` : `${tag.key} put back`,
    ...(after !== undefined && { verified: after[tag.key] === tag.value }),
  };
}
