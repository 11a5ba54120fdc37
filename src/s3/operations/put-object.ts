// PutObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
// Streams the body through the verifiers into the data store, then commits the metadata: the
// object exists from that commit on, and not a moment before.
import { objectBody } from '../body.js';
import { header, type ObjectRequest, type S3Response, type WithInput } from '../context.js';
import { parseSseRequest, sealedEtag, sseHeaders, writeEncryption } from '../sse.js';
import type { PutObjectInput } from '../inputs.js';
import { requireIntegrityForLock } from '../object-lock.js';
import { withBucketDefaults } from '../version-extras.js';
import { versionIdHeader } from '../object-read.js';
import { expirationHeaders } from '../lifecycle.js';

export async function putObject(ctx: WithInput<ObjectRequest, PutObjectInput>): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  // Everything that can be refused is refused before a byte of the body is read: the headers by
  // the pipeline (ctx.input), the body's own (lengths, checksums) by objectBody.
  const { storageClass, condition: cond } = ctx.input;
  const meta = { ...ctx.input.meta };
  const encryption = await writeEncryption(
    ctx,
    bucket,
    key,
    parseSseRequest(ctx, (name) => header(ctx, name)),
  );
  const body = objectBody(ctx);
  const extras = await withBucketDefaults(ctx, ctx.bucketRecord, ctx.input.extras);
  requireIntegrityForLock(ctx, extras, 'Put Object'); // a version under object lock: Content-MD5 or a checksum

  const bytes = await ctx.store.writeObjectData(body.source, ctx.signal, encryption?.key, storageClass);
  const digest = body.digest();
  meta.checksums = digest.checksums;
  const etag = sealedEtag(encryption?.stored, encryption?.key, digest.md5);
  const sse = encryption !== undefined ? { sse: encryption.stored } : {};
  const record = await ctx.store.commitObject({ bucket, key, size: digest.size, etag, storageClass, meta, ...bytes, ...extras, ...sse }, cond);

  const headers: Record<string, string> = {
    etag: record.etag,
    ...versionIdHeader(record),
    ...(await expirationHeaders(ctx, record)),
    ...sseHeaders(record.sse, ctx.config.region),
  };
  for (const [alg, value] of Object.entries(digest.checksums)) {
    headers[`x-amz-checksum-${alg}`] = value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return { status: 200, headers };
}
