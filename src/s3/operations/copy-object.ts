// CopyObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
// The source is named by a URL-encoded x-amz-copy-source ('+' is a plus, not a space). Copying an
// object onto itself is legal only when something changes (REPLACE or another storage class).
import { createHash } from 'node:crypto';
import type { ObjectHandle } from '../../store/store.js';
import { percentDecode } from '../auth/sigv4.js';
import type { RequestContext, S3Response } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { metaFromRequest, storageClassFromRequest } from '../object-meta.js';
import { checkConditionals } from '../preconditions.js';
import { MAX_OBJECT_SIZE } from '../body.js';
import { loadObject } from './get-object.js';
import { writeCondition } from './put-object.js';

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
    versionId = percentDecode(m[1]);
    v = v.slice(0, q);
  }
  const decoded = percentDecode(v).replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: value });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/**
 * The source object after its x-amz-copy-source-if-* conditions (412 when one fails), as a read
 * handle: the caller streams or releases it.
 */
export async function loadCopySource(ctx: RequestContext): Promise<{ src: CopySource; source: ObjectHandle }> {
  const src = parseCopySource(header(ctx, 'x-amz-copy-source') ?? '');
  const source = await loadObject(ctx, src.bucket, src.key, src.versionId);
  const rec = source.record;
  try {
    checkConditionals(
      rec,
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
  return { src, source };
}

export async function copyObject(ctx: RequestContext): Promise<S3Response> {
  const bucket = ctx.bucket!;
  const key = ctx.key!;
  await ctx.store.requireBucket(bucket);
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  }
  const { src, source } = await loadCopySource(ctx);
  try {
    return await copyFrom(ctx, src, source);
  } finally {
    source.release(); // a no-op once the copy streamed it
  }
}

async function copyFrom(ctx: RequestContext, src: CopySource, source: ObjectHandle): Promise<S3Response> {
  const bucket = ctx.bucket!;
  const key = ctx.key!;
  const rec = source.record;
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  const storageClass = header(ctx, 'x-amz-storage-class') !== undefined ? storageClassFromRequest(ctx) : rec.storageClass;
  if (src.bucket === bucket && src.key === key && directive === 'COPY' && storageClass === rec.storageClass) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  if (rec.size > MAX_OBJECT_SIZE) {
    throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_OBJECT_SIZE}`);
  }
  const meta = directive === 'REPLACE' ? metaFromRequest(ctx) : { ...rec.meta, user: { ...rec.meta.user } };
  meta.checksums = rec.meta.checksums;
  const cond = writeCondition(ctx);

  // The bytes are copied, so the new object owns its own data (no shared pieces to reference-count).
  const md5 = createHash('md5');
  const reader = source.stream();
  let copied = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      copied += chunk.length;
      md5.update(chunk);
      yield chunk;
    }
  }
  let bytes;
  try {
    bytes = await ctx.store.writeObjectData(hashed(), ctx.signal);
  } finally {
    reader.destroy();
  }
  // A single-part source keeps its ETag (the MD5 of the same bytes); a multipart source's copy is
  // a single-part object whose ETag is the MD5 of its bytes, as S3 does.
  const record = await ctx.store.commitObject({ bucket, key, size: copied, etag: `"${md5.digest('hex')}"`, storageClass, meta, ...bytes }, cond);
  return {
    status: 200,
    body: { root: 'CopyObjectResult', content: { ETag: record.etag, LastModified: new Date(record.lastModified).toISOString() } },
  };
}
