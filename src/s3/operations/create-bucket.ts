// CreateBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
import { checkAccess, resourceOf } from '../access.js';
import { aclRequestFrom, resolveAcl } from '../acl.js';
import { BUCKET_ACL_CONFIG_NAME, OWNERSHIP_CONFIG_NAME } from '../bucket-access.js';
import { isOwnerOnly } from '../acl-grants.js';
import { callerOwner } from '../owner.js';
import { ownershipJson, parseOwnershipHeader } from '../ownership.js';
import type { NamedBucketRequest, S3Response } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { assertValidBucketName } from '../bucket-name.js';
import { children, parseXml, text } from '../xml.js';

export async function createBucket(ctx: NamedBucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  assertValidBucketName(bucket);
  const region = ctx.config.region;
  const body = ctx.bodyText?.trim() ?? '';
  if (body !== '') {
    const conf = parseXml(body, 'CreateBucketConfiguration');
    const constraint = children(conf, 'LocationConstraint').map(text)[0];
    // Lenient where AWS is strict: besides our own region, accept 'us-east-1' (which AWS rejects
    // as an explicit constraint, a constant stumbling block) and an empty element.
    if (constraint !== undefined && constraint !== '' && constraint !== region && constraint !== 'us-east-1') {
      throw new S3Error('InvalidLocationConstraint', `The specified location-constraint '${constraint}' is not valid; this server serves '${region}'.`, {
        LocationConstraint: constraint,
      });
    }
  }
  // x-amz-bucket-object-lock-enabled: true makes a bucket with object lock, whose versioning is
  // Enabled for good. S3 then also requires the two permissions that setting implies.
  const objectLock = (header(ctx, 'x-amz-bucket-object-lock-enabled') ?? '').trim().toLowerCase() === 'true';
  if (objectLock) await checkAccess(ctx, ['s3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning'], resourceOf('bucket', bucket, undefined));
  // Object Ownership (x-amz-object-ownership; none stored: ObjectWriter, ACLs enabled) and the ACL
  // (x-amz-acl or x-amz-grant-*): ACLs other than the owner's FULL_CONTROL cannot come with
  // BucketOwnerEnforced. Setting either needs its permission too, as S3 documents.
  const ownershipHeader = header(ctx, 'x-amz-object-ownership');
  const ownership = ownershipHeader === undefined ? undefined : parseOwnershipHeader(ownershipHeader);
  const aclRequest = aclRequestFrom({ kind: 'headers', ctx });
  const owner = callerOwner(ctx);
  const acl = aclRequest === undefined ? undefined : resolveAcl(aclRequest, owner, owner, { ownership: 'ObjectWriter', blockPublicAcls: false });
  if (ownership === 'BucketOwnerEnforced' && acl !== undefined && !isOwnerOnly(acl)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
  if (ownership !== undefined) await checkAccess(ctx, ['s3:PutBucketOwnershipControls'], resourceOf('bucket', bucket, undefined));
  if (acl !== undefined && !isOwnerOnly(acl)) await checkAccess(ctx, ['s3:PutBucketAcl'], resourceOf('bucket', bucket, undefined));
  // Owned by the caller: a name taken by another owner answers BucketAlreadyExists, by the caller
  // BucketAlreadyOwnedByYou (Store.createBucket). The settings follow (a crash between leaves a
  // private bucket: the safe side).
  await ctx.store.createBucket(bucket, region, ctx.principal.userId, { objectLock });
  if (ownership !== undefined) await ctx.store.putBucketConfig(bucket, OWNERSHIP_CONFIG_NAME, ownershipJson(ownership));
  if (acl !== undefined && ownership !== 'BucketOwnerEnforced') await ctx.store.putBucketConfig(bucket, BUCKET_ACL_CONFIG_NAME, JSON.stringify(acl));
  return { status: 200, headers: { location: `/${bucket}` } };
}
