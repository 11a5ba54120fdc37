// PutBucketOwnershipControls, GetBucketOwnershipControls, DeleteBucketOwnershipControls —
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html (and _Get…,
// _Delete…). The setting is stored under OWNERSHIP_CONFIG_NAME (s3/ownership.ts); without one a
// bucket behaves as ObjectWriter (ACLs enabled) and GetBucketOwnershipControls answers
// OwnershipControlsNotFoundError.
import { isOwnerOnly } from '../acl-grants.js';
import { BUCKET_ACL_CONFIG_NAME, OWNERSHIP_CONFIG_NAME } from '../bucket-access.js';
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { ownershipControlsXml, ownershipJson, parseOwnershipControls, storedOwnership } from '../ownership.js';
import type { StoredAcl } from '../../store/types.js';

export async function putBucketOwnershipControls(ctx: BucketRequest): Promise<S3Response> {
  const ownership = parseOwnershipControls(ctx.bodyText ?? '');
  if (ownership === 'BucketOwnerEnforced') {
    // AWS refuses to disable ACLs while the bucket's ACL grants anyone but its owner.
    const stored = await ctx.store.getBucketConfig(ctx.bucket, BUCKET_ACL_CONFIG_NAME);
    if (stored !== undefined && !isOwnerOnly(JSON.parse(stored) as StoredAcl)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  await ctx.store.putBucketConfig(ctx.bucket, OWNERSHIP_CONFIG_NAME, ownershipJson(ownership));
  return { status: 200 };
}

export async function getBucketOwnershipControls(ctx: BucketRequest): Promise<S3Response> {
  const ownership = storedOwnership(await ctx.store.getBucketConfig(ctx.bucket, OWNERSHIP_CONFIG_NAME));
  if (ownership === undefined) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: ctx.bucket });
  return { status: 200, body: { root: 'OwnershipControls', content: ownershipControlsXml(ownership) } };
}

export async function deleteBucketOwnershipControls(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.putBucketConfig(ctx.bucket, OWNERSHIP_CONFIG_NAME, undefined);
  return { status: 204 };
}
