// CopyObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
// The source is named by a URL-encoded x-amz-copy-source ('+' is a plus, not a space). Copying an
// object onto itself is legal only when something changes (REPLACE or another storage class), or when
// the source names a version (restoring it as the latest). x-amz-copy-source-version-id: the version copied.
// Tags follow x-amz-tagging-directive: COPY (the default) gives the copy the source version's tags,
// REPLACE the request's x-amz-tagging (none without it).
// Encryption: the source is opened with its own key (x-amz-copy-source-server-side-encryption-customer-*
// for an SSE-C source; an SSE-S3/KMS source's data key is unwrapped by the key service), and the copy
// is encrypted as the request's own headers ask, else as the destination bucket's default: as on AWS,
// the source's encryption is not carried over. Changing the encryption makes a copy onto itself legal.
import type { ObjectHandle } from '../../store/store.js';
import { header, type ObjectRequest, type S3Response, type WithInput } from '../context.js';
import { S3Error } from '../errors.js';
import { MAX_OBJECT_SIZE } from '../body.js';
import { copySourceCustomerKey, copySourceVersionHeader, loadCopySource } from '../copy-source.js';
import { type CustomerKey, parseSseRequest, readKey, sealedEtag, type SseRequest, sseHeaders, writeEncryption } from '../sse.js';
import type { CopyObjectInput } from '../inputs.js';
import { taggingDirective } from '../tagging.js';
import { withBucketDefaults } from '../version-extras.js';
import { versionIdHeader } from '../object-read.js';
import { bodyHash } from '../../store/hash-offload.js';

export async function copyObject(ctx: WithInput<ObjectRequest, CopyObjectInput>): Promise<S3Response> {
  const tagging = taggingDirective(ctx); // a bad directive is refused before the source is read
  // So are bad encryption headers: the copy's own, and the source's key.
  const encryption: CopyEncryption = { asked: parseSseRequest(ctx, (name) => header(ctx, name)), sourceKey: copySourceCustomerKey(ctx) };
  const source = await loadCopySource(ctx, ctx.input.source);
  try {
    return await copyFrom(ctx, source, tagging, encryption);
  } finally {
    source.release(); // a no-op once the copy streamed it
  }
}

/** What the request says of encryption: the copy's (undefined: the bucket's default), the source's key. */
interface CopyEncryption {
  asked: SseRequest | undefined;
  sourceKey: CustomerKey | undefined;
}

async function copyFrom(
  ctx: WithInput<ObjectRequest, CopyObjectInput>,
  source: ObjectHandle,
  tagging: 'COPY' | 'REPLACE',
  { asked, sourceKey }: CopyEncryption,
): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const { directive, condition: cond } = ctx.input;
  const src = ctx.input.source;
  const rec = source.record;
  const storageClass = ctx.input.storageClass ?? rec.storageClass;
  // A source named by version id may be copied onto its own key: that is how S3 restores a previous
  // version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RestoringPreviousVersions.html).
  // Encryption headers change the encryption; so does a copy of an SSE-C version without them.
  const sameKey = src.bucket === bucket && src.key === key && src.versionId === undefined;
  const sameEncryption = asked === undefined && rec.sse?.mode !== 'SSE-C';
  if (sameKey && directive === 'COPY' && storageClass === rec.storageClass && sameEncryption) {
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
  const { tags: requestTags, ...requestExtras } = ctx.input.extras;
  const tags = tagging === 'REPLACE' ? requestTags : rec.tags;
  const extras = await withBucketDefaults(ctx, ctx.bucketRecord, tags !== undefined && tags.length > 0 ? { ...requestExtras, tags: [...tags] } : requestExtras);
  // The source's key (a missing or wrong SSE-C key is refused here), then the copy's own.
  const readingKey = await readKey(ctx, rec.bucket, rec.key, rec.sse, sourceKey);
  const sealing = await writeEncryption(ctx, bucket, key, asked);

  // The bytes are copied, so the new object owns its own data (no shared pieces to reference-count).
  // A large copy's MD5 runs on a worker thread (store/hash-offload.ts), beside the read and the write.
  const md5 = bodyHash(['md5'], rec.size);
  const reader = source.stream(undefined, readingKey);
  let copied = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      copied += chunk.length;
      const behind = md5.update(chunk);
      if (behind) await behind;
      yield chunk;
    }
  }
  let bytes;
  try {
    bytes = await ctx.store.writeObjectData(hashed(), ctx.signal, sealing?.key, storageClass);
  } catch (err) {
    md5.abort();
    throw err;
  } finally {
    reader.destroy();
  }
  // A single-part source keeps its ETag (the MD5 of the same bytes); a multipart source's copy is
  // a single-part object whose ETag is the MD5 of its bytes, as S3 does. An SSE-C or SSE-KMS copy's
  // is not an MD5 (sealedEtag).
  const etag = sealedEtag(sealing?.stored, sealing?.key, (await md5.digest()).digests.md5!.toString('hex'));
  const sse = sealing !== undefined ? { sse: sealing.stored } : {};
  const record = await ctx.store.commitObject({ bucket, key, size: copied, etag, storageClass, meta, ...bytes, ...extras, ...sse }, cond);
  return {
    status: 200,
    headers: { ...versionIdHeader(record), ...copySourceVersionHeader(src, rec), ...sseHeaders(record.sse, ctx.config.region) },
    body: { root: 'CopyObjectResult', content: { ETag: record.etag, LastModified: new Date(record.lastModified).toISOString() } },
  };
}
