// Reading an object for an operation (GetObject, HeadObject, GetObjectAttributes, GetObjectTagging,
// the copy source): a read handle, or the errors S3 distinguishes for a missing key, version or bucket.
import type { ObjectHandle } from '../store/store.js';
import { NULL_VERSION } from '../store/types.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';

/**
 * The object (the version `versionId`, else the latest) as a read handle, or NoSuchKey /
 * NoSuchBucket / NoSuchVersion as S3 distinguishes them. Its data stay pinned until the handle is
 * streamed or released (otherwise the pin lapses after the store's read lease).
 */
export async function loadObject(ctx: RequestContext, bucket: string, key: string, versionId?: string): Promise<ObjectHandle> {
  // HEAD never sends the bytes: an inline object's are not even read.
  const handle = await ctx.store.readObject(bucket, key, { versionId, withBytes: ctx.method !== 'HEAD' });
  if (handle) return handle;
  // The request's own bucket was loaded by the pipeline; another one (a copy source) is looked up.
  if (bucket !== ctx.bucket || ctx.bucketRecord === undefined) await ctx.store.requireBucket(bucket);
  // A key without that version; versionId=null of a missing key is NoSuchKey.
  if (versionId !== undefined && versionId !== NULL_VERSION) throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
  throw new S3Error('NoSuchKey', undefined, { Key: key });
}
