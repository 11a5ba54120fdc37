// The object-tag condition keys of S3 policies: s3:ExistingObjectTag/<key> (the tags the object has
// now, for the actions AWS's condition-key table lists them on) and s3:RequestObjectTag/<key> with
// s3:RequestObjectTagKeys (the tags a write asks for: x-amz-tagging of PutObject, CreateMultipartUpload
// and CopyObject, a POST form's `tagging`, PutObjectTagging's body). The object's tags cost a store
// read: it is done only when a policy that bears on the request tests an ExistingObjectTag key.
import type { BucketAccess, Resource, S3Action } from '../iam/authorize.js';
import type { CompiledPolicy } from '../iam/policy.js';
import type { Principal } from '../iam/principal.js';
import type { Tag } from '../store/types.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { parseTaggingHeader, parseTaggingXml } from './tagging.js';

/**
 * The actions on which S3 sets s3:ExistingObjectTag/<key> (AWS's "Actions, resources, and condition
 * keys for Amazon S3"; lower-cased). Not PutObject nor DeleteObject: "you cannot create a policy to
 * grant or deny a user permissions to delete or overwrite an object based on its existing tags".
 */
const EXISTING_TAG_ACTIONS: ReadonlySet<string> = new Set(
  [
    'BypassGovernanceRetention',
    'DeleteObjectTagging',
    'DeleteObjectVersionTagging',
    'GetObject',
    'GetObjectAcl',
    'GetObjectAttributes',
    'GetObjectLegalHold',
    'GetObjectRetention',
    'GetObjectTagging',
    'GetObjectTorrent',
    'GetObjectVersion',
    'GetObjectVersionAcl',
    'GetObjectVersionAttributes',
    'GetObjectVersionTagging',
    'GetObjectVersionTorrent',
    'PutObjectAcl',
    'PutObjectLegalHold',
    'PutObjectRetention',
    'PutObjectTagging',
    'PutObjectVersionAcl',
    'PutObjectVersionTagging',
  ].map((a) => `s3:${a.toLowerCase()}`),
);

/** The actions on which S3 sets s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys. */
const REQUEST_TAG_ACTIONS: ReadonlySet<string> = new Set(['s3:putobject', 's3:putobjecttagging', 's3:putobjectversiontagging']);

/** The operations whose x-amz-tagging header holds the tags the request asks for. */
const TAGGING_HEADER_OPS: ReadonlySet<string> = new Set(['PutObject', 'CreateMultipartUpload', 'CopyObject']);

export const takesExistingTags = (action: S3Action): boolean => EXISTING_TAG_ACTIONS.has(action.toLowerCase());
export const takesRequestTags = (action: S3Action): boolean => REQUEST_TAG_ACTIONS.has(action.toLowerCase());

/** Which tag keys a compiled policy tests (computed once per compiled policy). */
const USES = new WeakMap<CompiledPolicy, { existing: boolean; request: boolean }>();
function uses(policy: CompiledPolicy): { existing: boolean; request: boolean } {
  let u = USES.get(policy);
  if (u === undefined) {
    const keys = [...policy.conditionKeys];
    u = { existing: keys.some((k) => k.startsWith('s3:existingobjecttag/')), request: keys.some((k) => k.startsWith('s3:requestobjecttag')) };
    USES.set(policy, u);
  }
  return u;
}

/** Does any policy bearing on the request (the principal's, its key's and session's, the bucket's) test these keys? */
export function policiesTest(principal: Principal, access: BucketAccess, which: 'existing' | 'request'): boolean {
  // (On every non-root request's path: no array is built to walk them.)
  const p = principal.policies;
  const tests = (policy: CompiledPolicy | undefined): boolean => policy !== undefined && uses(policy)[which];
  if (p !== undefined && (p.identity.some(tests) || tests(p.key) || tests(p.session))) return true;
  return tests(access.policy);
}

/** The condition values of a tag set: `<prefix>/<key>` = value for each tag, and the list of keys. */
export function tagValues(kind: 'existing' | 'request', tags: readonly Tag[] | undefined): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  if (tags === undefined) return out;
  const prefix = kind === 'existing' ? 's3:ExistingObjectTag/' : 's3:RequestObjectTag/';
  for (const t of tags) out[`${prefix}${t.key}`] = t.value;
  if (kind === 'request' && tags.length > 0) out['s3:RequestObjectTagKeys'] = tags.map((t) => t.key);
  return out;
}

/**
 * The tags the object of `resource` has now (its `versionId`, else the latest): none for a missing
 * object or a delete marker (the keys are then absent from the context).
 */
export async function existingTags(ctx: RequestContext, resource: Resource): Promise<readonly Tag[] | undefined> {
  if (resource.kind !== 'object') return undefined;
  const rec = await ctx.store.versionRecord(resource.bucket, resource.key, resource.versionId);
  return rec === undefined || rec.isDeleteMarker ? undefined : rec.tags;
}

/**
 * The tags a write's x-amz-tagging header asks for (PutObject, CreateMultipartUpload, CopyObject).
 * A header S3 would refuse gives none here: the operation's input refuses it after authorization.
 */
export function headerTags(ctx: RequestContext): readonly Tag[] | undefined {
  if (!TAGGING_HEADER_OPS.has(ctx.op)) return undefined;
  const value = header(ctx, 'x-amz-tagging');
  if (value === undefined || value === '') return undefined;
  try {
    return parseTaggingHeader(value);
  } catch {
    return undefined;
  }
}

/** The tags a POST form's `tagging` field (a Tagging document) asks for; none when it is absent or refused (the handler refuses it later). */
export function formTags(fields: ReadonlyMap<string, string>): readonly Tag[] | undefined {
  const doc = fields.get('tagging');
  if (doc === undefined || doc === '') return undefined;
  try {
    return parseTaggingXml(doc, 'object');
  } catch {
    return undefined;
  }
}
