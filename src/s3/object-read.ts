// Reading an object's record for an operation (GetObject, HeadObject, GetObjectAttributes,
// GetObjectTagging, the copy source): the errors S3 distinguishes for a missing key, version or bucket.
import type { ObjectRecord } from '../store/types.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';

/**
 * The current object, or NoSuchKey / NoSuchBucket / NoSuchVersion as S3 distinguishes them. The
 * record's data is pinned (Store.getObject): hand it to `store.openRead` or `store.releaseObject`
 * (otherwise the pin lapses after the store's read lease).
 */
export async function loadObject(ctx: RequestContext, bucket: string, key: string, versionId?: string): Promise<ObjectRecord> {
  // HEAD never sends the bytes: an inline object's are not even read.
  const rec = await ctx.store.getObject(bucket, key, ctx.method !== 'HEAD');
  // The request's own bucket was loaded by the pipeline; another one (a copy source) is looked up.
  const requireBucket = async () => {
    if (bucket !== ctx.bucket || ctx.bucketRecord === undefined) await ctx.store.requireBucket(bucket);
  };
  if (versionId !== undefined && versionId !== (rec?.versionId ?? 'null')) {
    if (rec) ctx.store.releaseObject(rec);
    await requireBucket();
    throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
  }
  if (!rec) {
    await requireBucket();
    throw new S3Error('NoSuchKey', undefined, { Key: key });
  }
  return rec;
}
