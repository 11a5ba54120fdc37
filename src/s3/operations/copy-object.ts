// CopyObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
// The source is named by a URL-encoded x-amz-copy-source ('+' is a plus, not a space). Copying an
// object onto itself is legal only when something changes (REPLACE or another storage class).
import { createHash } from 'node:crypto';
import type { ObjectHandle } from '../../store/store.js';
import type { ObjectRequest, S3Response, WithInput } from '../context.js';
import { S3Error } from '../errors.js';
import { MAX_OBJECT_SIZE } from '../body.js';
import { loadCopySource } from '../copy-source.js';
import type { CopyObjectInput } from '../inputs.js';
import { withBucketDefaults } from '../version-extras.js';
import { versionIdHeader } from '../object-read.js';

export async function copyObject(ctx: WithInput<ObjectRequest, CopyObjectInput>): Promise<S3Response> {
  const source = await loadCopySource(ctx, ctx.input.source);
  try {
    return await copyFrom(ctx, source);
  } finally {
    source.release(); // a no-op once the copy streamed it
  }
}

async function copyFrom(ctx: WithInput<ObjectRequest, CopyObjectInput>, source: ObjectHandle): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const { directive, condition: cond } = ctx.input;
  const src = ctx.input.source;
  const rec = source.record;
  const storageClass = ctx.input.storageClass ?? rec.storageClass;
  if (src.bucket === bucket && src.key === key && directive === 'COPY' && storageClass === rec.storageClass) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  if (rec.size > MAX_OBJECT_SIZE) {
    throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_OBJECT_SIZE}`);
  }
  const meta = ctx.input.meta !== undefined ? { ...ctx.input.meta } : { ...rec.meta, user: { ...rec.meta.user } };
  meta.checksums = rec.meta.checksums;
  const extras = await withBucketDefaults(ctx, ctx.bucketRecord, ctx.input.extras);

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
  const record = await ctx.store.commitObject({ bucket, key, size: copied, etag: `"${md5.digest('hex')}"`, storageClass, meta, ...bytes, ...extras }, cond);
  return {
    status: 200,
    headers: { ...versionIdHeader(record), ...versionIdHeader(rec, 'x-amz-copy-source-version-id') },
    body: { root: 'CopyObjectResult', content: { ETag: record.etag, LastModified: new Date(record.lastModified).toISOString() } },
  };
}
