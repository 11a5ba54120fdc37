// The source of CopyObject and UploadPartCopy: x-amz-copy-source parsed (URL-encoded; '+' is a
// plus, not a space), authorized (s3:GetObject on the source), loaded, and its
// x-amz-copy-source-if-* conditions checked.
import type { S3Action } from '../iam/authorize.js';
import type { ObjectHandle } from '../store/store.js';
import { checkAccess } from './access.js';
import { percentDecode } from './auth/sigv4.js';
import type { BucketRequest } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import { loadObject } from './object-read.js';
import { checkConditionals } from './preconditions.js';

/** What reading the copy source needs (the registry's sourceActions of CopyObject and UploadPartCopy). */
export const COPY_SOURCE_ACTIONS: readonly S3Action[] = ['s3:GetObject'];
/** The same for a source named with ?versionId=. */
export const COPY_SOURCE_VERSION_ACTIONS: readonly S3Action[] = ['s3:GetObjectVersion'];

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

export function parseCopySource(value: string): CopySource {
  let v = value.trim();
  let versionId: string | undefined;
  const q = v.indexOf('?');
  if (q >= 0) {
    const m = /^versionId=(.*)$/.exec(v.slice(q + 1));
    if (!m) throw new S3Error('InvalidArgument', 'Invalid copy source: unknown parameter.', { ArgumentName: 'x-amz-copy-source' });
    versionId = percentDecode(m[1] ?? '');
    v = v.slice(0, q);
  }
  const decoded = percentDecode(v).replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: value,
    });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/**
 * The source object after its x-amz-copy-source-if-* conditions (412 when one fails), as a read
 * handle: the caller streams or releases it.
 */
export async function loadCopySource(ctx: BucketRequest, src: CopySource): Promise<ObjectHandle> {
  // The authorize stage for the source side: s3:GetObject (s3:GetObjectVersion for a version) on it.
  const srcBucket = src.bucket === ctx.bucket ? ctx.bucketRecord : await ctx.store.getBucket(src.bucket);
  checkAccess(ctx, src.versionId !== undefined ? COPY_SOURCE_VERSION_ACTIONS : COPY_SOURCE_ACTIONS, {
    kind: 'object',
    bucket: src.bucket,
    key: src.key,
    owner: srcBucket?.owner,
    versionId: src.versionId,
  });
  const source = await loadObject(ctx, src.bucket, src.key, src.versionId);
  try {
    checkConditionals(
      source.record,
      {
        ifMatch: header(ctx, 'x-amz-copy-source-if-match'),
        ifNoneMatch: header(ctx, 'x-amz-copy-source-if-none-match'),
        ifModifiedSince: header(ctx, 'x-amz-copy-source-if-modified-since'),
        ifUnmodifiedSince: header(ctx, 'x-amz-copy-source-if-unmodified-since'),
      },
      'copy-source',
    );
  } catch (err) {
    source.release(); // the copy will not read the source
    throw err;
  }
  return source;
}
