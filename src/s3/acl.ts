// Access control lists of buckets and objects: the ACL check authorize() asks after an implicit deny
// (BucketAccess.acl), the ACL a request asks for (x-amz-acl, x-amz-grant-*, the POST form's `acl`, an
// AccessControlPolicy body) checked against Object Ownership and Block Public Access, and the ACL a
// bucket or object version has. A bucket's ACL is stored as JSON under BUCKET_ACL_CONFIG_NAME, an
// object version's in its record (`acl` of its extras); absent, the owner alone has FULL_CONTROL.
// With Object Ownership BucketOwnerEnforced, ACLs are disabled: nothing is granted by them.
// docs/iam.md, "ACLs and Object Ownership"; the grammar is in acl-grants.ts.
import type { BucketAccess, Resource, S3Action } from '../iam/authorize.js';
import type { Principal } from '../iam/principal.js';
import type { Store } from '../store/store.js';
import type { BucketRecord, ObjectRecord, StoredAcl } from '../store/types.js';
import { ROOT_USER_ID } from '../store/types.js';
import {
  type AclRequest,
  GRANT_HEADERS,
  type StoredGrant,
  aclGrants,
  aclNeedOf,
  cannedAcl,
  isOwnerOnly,
  isPublicRequest,
  parseAccessControlPolicy,
  parseCanned,
  parseGrantHeader,
} from './acl-grants.js';
import type { BucketAccessConfigs } from './bucket-access.js';
import { BUCKET_ACL_CONFIG_NAME, OWNERSHIP_CONFIG_NAME, PUBLIC_ACCESS_BLOCK_CONFIG_NAME, publicAccessBlockOf } from './bucket-access.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import { type ObjectOwnership, ownershipOf } from './ownership.js';
import { type CanonicalUser, bucketOwnerOf, callerOwner, userCanonicalId } from './owner.js';
import type { ExtrasSource } from './version-extras.js';

/** The ACL of a resource nobody set one for: its owner with FULL_CONTROL. */
export function ownerOnlyAcl(owner: CanonicalUser): StoredAcl {
  return { owner: { id: owner.ID, name: owner.DisplayName }, grants: [{ id: owner.ID, name: owner.DisplayName, permission: 'FULL_CONTROL' }] };
}

/**
 * The canonical id a bucket owner is matched by in ACL checks. The root user is allowed everything
 * before any ACL is asked, so its id is never needed there (undefined).
 */
function ownerIdForChecks(userId: string): string | undefined {
  return userId === ROOT_USER_ID ? undefined : userCanonicalId(userId);
}

/** An ACL as stored, or the owner-only one (for checks: the owner's canonical id only). */
function aclForChecks(stored: StoredAcl | undefined, ownerUserId: string): StoredAcl {
  if (stored !== undefined) return stored;
  const id = ownerIdForChecks(ownerUserId);
  return { owner: { id: id ?? '', name: '' }, grants: id === undefined ? [] : [{ id, permission: 'FULL_CONTROL' }] };
}

function parseStored(json: string | undefined): StoredAcl | undefined {
  return json === undefined ? undefined : (JSON.parse(json) as StoredAcl);
}

/**
 * The ACL check of a bucket (undefined: ACLs disabled by BucketOwnerEnforced). Bucket actions (and
 * writes and deletes of its objects) check the bucket's ACL; reads of an object and of its ACL the
 * object version's, read from the store only when asked (once per request and version).
 */
export function aclAccess(store: Store, bucket: BucketRecord, configs: BucketAccessConfigs): BucketAccess['acl'] {
  if (ownershipOf(configs.ownership) === 'BucketOwnerEnforced') return undefined;
  const ignorePublic = publicAccessBlockOf(configs).IgnorePublicAcls;
  const bucketAcl = aclForChecks(parseStored(configs.acl), bucket.owner);
  const records = new Map<string, Promise<ObjectRecord | undefined>>();
  return async (principal: Principal, action: S3Action, resource: Resource): Promise<boolean> => {
    const need = aclNeedOf(action);
    if (need === undefined || resource.kind === 'service') return false;
    const id = principal.kind === 'user' ? userCanonicalId(principal.userId) : undefined;
    if (need.on === 'bucket') return aclGrants(bucketAcl, id, need.permission, ignorePublic);
    if (resource.kind !== 'object') return false;
    const at = `${resource.versionId ?? ''}\0${resource.key}`;
    let rec = records.get(at);
    if (rec === undefined) {
      rec = store.versionRecord(bucket.name, resource.key, resource.versionId).catch(() => undefined);
      records.set(at, rec);
    }
    const found = await rec;
    if (found === undefined || found.isDeleteMarker) return false;
    return aclGrants(aclForChecks(found.acl, bucket.owner), id, need.permission, ignorePublic);
  };
}

// ---- what a request asks for ---------------------------------------------------------------

/** A header's value, or a POST form field's (the form has only `acl`). */
function fieldOf(src: ExtrasSource, name: string): string | undefined {
  return src.kind === 'form' ? src.fields.get(name) : header(src.ctx, name);
}

/**
 * The ACL a request's headers (x-amz-acl or x-amz-grant-*) or POST form (`acl`) ask for; undefined
 * when none. Both a canned ACL and grants: InvalidRequest, as AWS.
 */
export function aclRequestFrom(src: ExtrasSource): AclRequest | undefined {
  const canned = fieldOf(src, src.kind === 'form' ? 'acl' : 'x-amz-acl');
  if (src.kind === 'form') return canned === undefined ? undefined : { canned: parseCanned(canned, 'acl') };
  const grants: StoredGrant[] = [];
  let named = false;
  for (const [name, permission] of GRANT_HEADERS) {
    const v = header(src.ctx, name);
    if (v === undefined) continue;
    named = true;
    grants.push(...parseGrantHeader(name, v, permission));
  }
  if (canned !== undefined && named) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) return { canned: parseCanned(canned) };
  return named ? { grants } : undefined;
}

/**
 * The ACL a PutBucketAcl / PutObjectAcl asks for: headers or an AccessControlPolicy body, one way
 * only (InvalidRequest); none at all is MissingSecurityHeader, as AWS.
 */
export function aclRequestOfPut(ctx: RequestContext): AclRequest {
  const fromHeaders = aclRequestFrom({ kind: 'headers', ctx });
  const body = (ctx.bodyText ?? '').trim();
  if (fromHeaders !== undefined && body !== '') throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (fromHeaders !== undefined) return fromHeaders;
  if (body === '') throw new S3Error('MissingSecurityHeader', undefined, { MissingHeaderName: 'x-amz-acl' });
  return parseAccessControlPolicy(body);
}

/** The bucket's Object Ownership and Block Public Access, as a request that sets an ACL needs them. */
export interface AclSettings {
  readonly ownership: ObjectOwnership;
  readonly blockPublicAcls: boolean;
}

export async function aclSettingsOf(store: Store, bucket: string): Promise<AclSettings> {
  const [ownership, publicAccessBlock] = await Promise.all([
    store.getBucketConfig(bucket, OWNERSHIP_CONFIG_NAME),
    store.getBucketConfig(bucket, PUBLIC_ACCESS_BLOCK_CONFIG_NAME),
  ]);
  return { ownership: ownershipOf(ownership), blockPublicAcls: publicAccessBlockOf({ publicAccessBlock }).BlockPublicAcls };
}

/**
 * The ACL `req` stands for on a resource owned by `owner` (in bucket owned by `bucketOwner`),
 * checked against the bucket's settings: with BucketOwnerEnforced only the owner's FULL_CONTROL
 * (private, bucket-owner-full-control, or the same as grants) is accepted
 * (AccessControlListNotSupported); with BlockPublicAcls a public ACL is AccessDenied. An Owner ID in
 * a document must be the resource's owner (AccessDenied: ownership cannot be given away).
 */
export function resolveAcl(req: AclRequest, owner: CanonicalUser, bucketOwner: CanonicalUser, settings: AclSettings): StoredAcl {
  const acl = 'canned' in req ? cannedAcl(req.canned, owner, bucketOwner) : { owner: { id: owner.ID, name: owner.DisplayName }, grants: [...req.grants] };
  if (settings.ownership === 'BucketOwnerEnforced') {
    const allowed = 'canned' in req ? req.canned === 'private' || req.canned === 'bucket-owner-full-control' : isOwnerOnly(acl);
    if (!allowed) throw new S3Error('AccessControlListNotSupported');
  }
  if (settings.blockPublicAcls && isPublicRequest(req)) throw new S3Error('AccessDenied');
  if (!('canned' in req) && req.ownerId !== undefined && req.ownerId !== owner.ID) throw new S3Error('AccessDenied');
  return acl;
}

/**
 * The ACL a new object version gets (PUT, POST, copy, multipart at creation): who owns it (the
 * writer under ObjectWriter; the bucket owner under BucketOwnerEnforced, and under
 * BucketOwnerPreferred when the writer gives it bucket-owner-full-control; an anonymous writer's
 * object is the bucket owner's) and the grants asked for (private without any). Undefined when it
 * is the default one (the bucket owner alone with FULL_CONTROL), so nothing is stored.
 */
export async function newObjectAcl(ctx: RequestContext, bucket: BucketRecord, req: AclRequest | undefined): Promise<StoredAcl | undefined> {
  const writerIsOwner = ctx.principal.kind === 'anonymous' || ctx.principal.userId === bucket.owner;
  if (req === undefined && writerIsOwner) return undefined; // the common case reads nothing more
  const settings = await aclSettingsOf(ctx.store, bucket.name);
  const bucketOwner = bucketOwnerOf(ctx, bucket.owner);
  const enforced = settings.ownership === 'BucketOwnerEnforced';
  const toBucketOwner =
    writerIsOwner ||
    enforced ||
    (settings.ownership === 'BucketOwnerPreferred' && req !== undefined && 'canned' in req && req.canned === 'bucket-owner-full-control');
  const owner = toBucketOwner ? bucketOwner : callerOwner(ctx);
  const acl = resolveAcl(req ?? { canned: 'private' }, owner, bucketOwner, settings);
  return enforced || (owner.ID === bucketOwner.ID && isOwnerOnly(acl)) ? undefined : acl;
}

/** A bucket's ACL as GetBucketAcl answers it (the owner's FULL_CONTROL when ACLs are disabled). */
export async function bucketAclOf(ctx: RequestContext, bucket: BucketRecord): Promise<StoredAcl> {
  const [ownership, stored] = await Promise.all([
    ctx.store.getBucketConfig(bucket.name, OWNERSHIP_CONFIG_NAME),
    ctx.store.getBucketConfig(bucket.name, BUCKET_ACL_CONFIG_NAME),
  ]);
  const owner = bucketOwnerOf(ctx, bucket.owner);
  if (stored === undefined || ownershipOf(ownership) === 'BucketOwnerEnforced') return ownerOnlyAcl(owner);
  return parseStored(stored)!;
}

/** An object version's ACL as GetObjectAcl answers it. */
export function objectAclOf(ctx: RequestContext, bucket: BucketRecord, rec: ObjectRecord, ownership: ObjectOwnership): StoredAcl {
  const bucketOwner = bucketOwnerOf(ctx, bucket.owner);
  if (ownership === 'BucketOwnerEnforced' || rec.acl === undefined) return ownerOnlyAcl(bucketOwner);
  return rec.acl;
}

/** The owner of an object version (its stored ACL's, else the bucket owner). */
export function objectOwnerOf(ctx: RequestContext, bucket: BucketRecord, rec: ObjectRecord): CanonicalUser {
  return rec.acl !== undefined ? { ID: rec.acl.owner.id, DisplayName: rec.acl.owner.name } : bucketOwnerOf(ctx, bucket.owner);
}
