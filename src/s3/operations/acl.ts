// GetObjectAcl, PutObjectAcl, GetBucketAcl, PutBucketAcl —
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html (and _PutObjectAcl,
// _GetBucketAcl, _PutBucketAcl). A bucket's ACL lives in its `acl` configuration, an object
// version's in its record (s3/acl.ts); a PUT names the ACL one way (x-amz-acl, x-amz-grant-*, or an
// AccessControlPolicy body), checked against Object Ownership (BucketOwnerEnforced: only the owner's
// FULL_CONTROL, AccessControlListNotSupported otherwise) and Block Public Access (BlockPublicAcls:
// AccessDenied for a public ACL). The object ones accept versionId.
import type { StoredAcl } from '../../store/types.js';
import { accessControlPolicyXml } from '../acl-grants.js';
import { aclRequestOfPut, aclSettingsOf, bucketAclOf, objectAclOf, objectOwnerOf, resolveAcl } from '../acl.js';
import { BUCKET_ACL_CONFIG_NAME } from '../bucket-access.js';
import type { BucketRequest, ObjectRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { loadObject, readVersionHeader } from '../object-read.js';
import { bucketOwnerOf } from '../owner.js';

function policyResponse(acl: StoredAcl): S3Response {
  return { status: 200, body: { root: 'AccessControlPolicy', content: accessControlPolicyXml(acl) } };
}

export async function getBucketAcl(ctx: BucketRequest): Promise<S3Response> {
  return policyResponse(await bucketAclOf(ctx, ctx.bucketRecord));
}

export async function putBucketAcl(ctx: BucketRequest): Promise<S3Response> {
  const req = aclRequestOfPut(ctx);
  const settings = await aclSettingsOf(ctx.store, ctx.bucket);
  const owner = bucketOwnerOf(ctx, ctx.bucketRecord.owner);
  const acl = resolveAcl(req, owner, owner, settings);
  // With ACLs disabled the accepted ACL (the owner's FULL_CONTROL) is what the bucket has already.
  if (settings.ownership !== 'BucketOwnerEnforced') await ctx.store.putBucketConfig(ctx.bucket, BUCKET_ACL_CONFIG_NAME, JSON.stringify(acl));
  return { status: 200 };
}

/** The object version's record (NoSuchKey / NoSuchVersion / a delete marker as GetObject). */
async function objectRecord(ctx: ObjectRequest) {
  const handle = await loadObject(ctx, ctx.bucket, ctx.key, ctx.endpoint.versionId);
  handle.release(); // metadata only
  return handle.record;
}

export async function getObjectAcl(ctx: ObjectRequest): Promise<S3Response> {
  const rec = await objectRecord(ctx);
  const { ownership } = await aclSettingsOf(ctx.store, ctx.bucket);
  return { ...policyResponse(objectAclOf(ctx, ctx.bucketRecord, rec, ownership)), headers: readVersionHeader(ctx, rec) };
}

export async function putObjectAcl(ctx: ObjectRequest): Promise<S3Response> {
  const req = aclRequestOfPut(ctx);
  const rec = await objectRecord(ctx);
  const settings = await aclSettingsOf(ctx.store, ctx.bucket);
  const acl = resolveAcl(req, objectOwnerOf(ctx, ctx.bucketRecord, rec), bucketOwnerOf(ctx, ctx.bucketRecord.owner), settings);
  if (settings.ownership !== 'BucketOwnerEnforced') {
    const updated = await ctx.store.updateObject(ctx.bucket, ctx.key, rec.versionId, { acl });
    if (updated === undefined) throw new S3Error('NoSuchKey', undefined, { Key: ctx.key }); // removed meanwhile
  }
  return { status: 200, headers: readVersionHeader(ctx, rec) };
}
