// CreateBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
import { checkAccess, resourceOf } from '../access.js';
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
  // Owned by the caller: a name taken by another owner answers BucketAlreadyExists, by the caller
  // BucketAlreadyOwnedByYou (Store.createBucket).
  await ctx.store.createBucket(bucket, region, ctx.principal.userId, { objectLock });
  return { status: 200, headers: { location: `/${bucket}` } };
}
