// PutObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
// Streams the body through the verifiers into the data store, then commits the metadata: the
// object exists from that commit on, and not a moment before.
import type { WriteCondition } from '../../store/types.js';
import { objectBody } from '../body.js';
import type { RequestContext, S3Response } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { metaFromRequest, storageClassFromRequest } from '../object-meta.js';

/**
 * If-None-Match: * and If-Match on writes, checked atomically with the commit. Amazon S3 accepts
 * only `*` for If-None-Match on writes and answers any other value with 501 NotImplemented naming
 * the header; `If-Match: *` means "the object exists" (404 NoSuchKey when it does not, like an
 * ETag on a missing key).
 */
export function writeCondition(ctx: RequestContext): WriteCondition | undefined {
  const ifNoneMatch = header(ctx, 'if-none-match');
  const ifMatch = header(ctx, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'If-None-Match',
      additionalMessage: "We don't accept the provided value of If-None-Match header for this API",
    });
  }
  const cond: WriteCondition = {};
  if (ifNoneMatch !== undefined) cond.mustNotExist = true;
  if (ifMatch !== undefined) {
    const t = ifMatch.trim();
    if (t === '*') cond.mustExist = true;
    else cond.etagMatches = t.startsWith('"') ? t : `"${t}"`;
  }
  return cond;
}

export async function putObject(ctx: RequestContext): Promise<S3Response> {
  const bucket = ctx.bucket!;
  const key = ctx.key!;
  // Everything that can be refused is refused before a byte of the body is read.
  await ctx.store.requireBucket(bucket);
  const meta = metaFromRequest(ctx);
  const storageClass = storageClassFromRequest(ctx);
  const cond = writeCondition(ctx);
  const body = objectBody(ctx);

  const bytes = await ctx.store.writeObjectData(body.source, ctx.signal);
  const digest = body.digest();
  meta.checksums = digest.checksums;
  const record = await ctx.store.commitObject({ bucket, key, size: digest.size, etag: `"${digest.md5}"`, storageClass, meta, ...bytes }, cond);

  const headers: Record<string, string> = { etag: record.etag };
  for (const [alg, value] of Object.entries(digest.checksums)) {
    headers[`x-amz-checksum-${alg}`] = value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return { status: 200, headers };
}
